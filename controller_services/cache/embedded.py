"""An embedded distributed map cache: nothing to install, optionally persisted.

NiFi splits this into ``DistributedMapCacheServer`` (a TCP server with a Persistence
Directory) and ``MapCacheClientService``; inside one flowengine process both halves are
one service. With a Persistence Directory the entries live in an SQLite database there
(WAL journal, every operation its own transaction), so a run killed with ``kill -9`` and
restarted still knows every key a committed operation stored. Without one the cache is
in memory and lasts one run.

Age-off is the caller's (DetectDuplicate stores the entry time in the value, as NiFi's
does); Maximum Cache Entries evicts the oldest-stored entries (NiFi's FIFO strategy) once
the count is exceeded.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from flowengine import ConfigurationContext, ControllerService, PropertyDescriptor
from flowengine import validators as v

from ._api import CacheEntry, CacheUnavailableError, DistributedMapCacheClient

__all__ = ["EmbeddedDistributedMapCacheService"]

DB_NAME = "map-cache.sqlite"


class EmbeddedDistributedMapCacheService(DistributedMapCacheClient, ControllerService):
    """A map cache in this process (NiFi's DistributedMapCacheServer + client in one),
    persisted in Persistence Directory when set."""

    tags = ("distributed", "cache", "state", "map", "cluster", "key", "value")

    PERSISTENCE_DIRECTORY = PropertyDescriptor(
        "persistence_directory",
        "Where the entries are persisted (an SQLite database `map-cache.sqlite`), so "
        "they survive a restart; unset: in memory, for one run. Point it inside the "
        "run's state directory for a durable flow.",
        display_name="Persistence Directory",
    )
    MAX_ENTRIES = PropertyDescriptor(
        "maximum_cache_entries",
        "How many entries the cache holds; beyond it the oldest-stored are evicted "
        "(first in, first out).",
        display_name="Maximum Cache Entries",
        default="10000",
        validators=(v.POSITIVE_INTEGER,),
    )

    _db: sqlite3.Connection | None = None

    def on_enabled(self, context: ConfigurationContext) -> None:
        directory = context.property(self.PERSISTENCE_DIRECTORY).value
        self._max = context.property(self.MAX_ENTRIES).as_int() or 10000
        self._lock = threading.Lock()
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            target = str(Path(directory) / DB_NAME)
        else:
            target = ":memory:"
        db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        if directory:
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a committed transaction survives the process being killed; only an
            # OS crash / power loss may lose the last ones.
            db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
            " revision INTEGER NOT NULL, seq INTEGER NOT NULL)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS cache_seq ON cache(seq)")
        row = db.execute("SELECT COALESCE(MAX(seq), 0), COUNT(*) FROM cache").fetchone()
        self._seq, self._count = int(row[0]), int(row[1])
        self._db = db

    def on_disabled(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- internals -----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise CacheUnavailableError("the embedded map cache is not enabled")
        return self._db

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _insert(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO cache VALUES (?, ?, 1, ?)", (key, value, self._next_seq())
        )
        self._count += 1

    def _evict(self, db: sqlite3.Connection) -> None:
        over = self._count - self._max
        if over > 0:
            db.execute(
                "DELETE FROM cache WHERE key IN "
                "(SELECT key FROM cache ORDER BY seq LIMIT ?)",
                (over,),
            )
            self._count -= over

    # -- the interface -------------------------------------------------------------------
    def get(self, key: str) -> str | None:
        with self._lock:
            row = (
                self._conn()
                .execute("SELECT value FROM cache WHERE key = ?", (key,))
                .fetchone()
            )
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                cur = db.execute(
                    "UPDATE cache SET value = ?, revision = revision + 1, seq = ? "
                    "WHERE key = ?",
                    (value, self._next_seq(), key),
                )
                if cur.rowcount == 0:
                    self._insert(db, key, value)
                    self._evict(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def put_if_absent(self, key: str, value: str) -> bool:
        return self.get_and_put_if_absent(key, value) is None

    def get_and_put_if_absent(self, key: str, value: str) -> str | None:
        return self.get_and_put_if_absent_many([(key, value)])[0]

    def get_and_put_if_absent_many(
        self, items: Sequence[tuple[str, str]]
    ) -> list[str | None]:
        """One transaction for the whole batch: the existing keys are read with a few
        ``IN (...)`` queries and the new ones inserted with one ``executemany``, one
        commit per trigger rather than two statements and a commit per key."""
        out: list[str | None] = []
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                existing: dict[str, str] = {}
                distinct = list(dict.fromkeys(k for k, _ in items))
                for i in range(0, len(distinct), 500):
                    chunk = distinct[i : i + 500]
                    marks = ",".join("?" * len(chunk))
                    existing.update(
                        db.execute(
                            f"SELECT key, value FROM cache WHERE key IN ({marks})",
                            chunk,
                        ).fetchall()
                    )
                rows = []
                for key, value in items:
                    old = existing.get(key)
                    out.append(old)
                    if old is None:
                        existing[key] = value
                        rows.append((key, value, self._next_seq()))
                db.executemany("INSERT INTO cache VALUES (?, ?, 1, ?)", rows)
                self._count += len(rows)
                self._evict(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return out

    def contains_key(self, key: str) -> bool:
        return self.get(key) is not None

    def remove(self, key: str) -> bool:
        with self._lock:
            cur = self._conn().execute("DELETE FROM cache WHERE key = ?", (key,))
            self._count -= cur.rowcount
        return cur.rowcount > 0

    def remove_by_pattern(self, regex: str) -> int:
        pattern = re.compile(regex)
        with self._lock:
            db = self._conn()
            keys = [
                (k,)
                for (k,) in db.execute("SELECT key FROM cache")
                if pattern.fullmatch(k)
            ]
            db.executemany("DELETE FROM cache WHERE key = ?", keys)
            self._count -= len(keys)
        return len(keys)

    def fetch(self, key: str) -> CacheEntry | None:
        with self._lock:
            row = (
                self._conn()
                .execute("SELECT value, revision FROM cache WHERE key = ?", (key,))
                .fetchone()
            )
        return None if row is None else CacheEntry(key, str(row[0]), int(row[1]))

    def replace(self, entry: CacheEntry) -> bool:
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                cur = db.execute(
                    "UPDATE cache SET value = ?, revision = revision + 1, seq = ? "
                    "WHERE key = ? AND revision = ?",
                    (entry.value, self._next_seq(), entry.key, entry.revision),
                )
                done = cur.rowcount > 0
                if not done:
                    exists = db.execute(
                        "SELECT 1 FROM cache WHERE key = ?", (entry.key,)
                    ).fetchone()
                    if exists is None:
                        self._insert(db, entry.key, entry.value)
                        self._evict(db)
                        done = True
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return done
