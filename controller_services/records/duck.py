"""One shared in-process DuckDB database (public: QueryRecord and the JSON writer share it).

Each user takes its own cursor, which is thread-safe; one database means one memory
budget and one thread pool for every SQL user in the process.
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["cursor", "sql_threads"]

_lock = threading.Lock()
_db: Any = None


def sql_threads() -> int:
    """DuckDB's threads: ``FLOWENGINE_SQL_THREADS``, else half the cores.

    Half, because Arrow parses the input and the Parquet writer encodes on the other
    cores while DuckDB runs. Measured on 2 cores: a filter over a 1 GB CSV as fast with
    1 thread as with 2, at 400 MB peak RSS instead of 455, and a GROUP BY 10% faster;
    but a compute-heavy query over data already in memory (``UPPER`` of 1 M lines,
    ``benchmarks/small_records.py``) ran 0.26 s with 1 thread and 0.12 s with 2 once
    the process had run it a few times — set the variable for such flows.
    """
    value = os.environ.get("FLOWENGINE_SQL_THREADS", "")
    if value.strip().isdigit() and int(value) > 0:
        return int(value)
    return max(1, (os.cpu_count() or 2) // 2)


def cursor() -> Any:
    """A new DuckDB connection to the shared in-memory database ."""
    global _db
    with _lock:
        if _db is None:
            import duckdb

            _db = duckdb.connect(":memory:", config={"threads": sql_threads()})
        return _db.cursor()
