"""One shared in-process DuckDB database; each user takes its own cursor (thread-safe)."""

from __future__ import annotations

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

            _db = duckdb.connect(":memory:")
        return _db.cursor()
