"""One shared in-process DuckDB database; each user takes its own cursor (thread-safe)."""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["cursor"]

_lock = threading.Lock()
_db: Any = None


def cursor() -> Any:
    """A new DuckDB connection to the shared in-memory database ."""
    global _db
    with _lock:
        if _db is None:
            import duckdb

            # Half the cores: a FlowFile's records come from a stream that DuckDB
            # scans on one thread, while Arrow parses the input and the Parquet writer
            # encodes on the others. Measured on 2 cores, 1 GB CSV: a filter as fast
            # with 1 thread as with 2, at 392 MB peak RSS instead of 455; a GROUP BY
            # 10% faster.
            threads = max(1, (os.cpu_count() or 2) // 2)
            _db = duckdb.connect(":memory:", config={"threads": threads})
        return _db.cursor()
