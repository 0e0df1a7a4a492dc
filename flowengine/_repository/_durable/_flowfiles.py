"""The durable FlowFile repository: SQLite in WAL mode, group-committed (NiFi §7.1).

One row per queued FlowFile version, keyed by ``seq``, a counter that grows with every
placement. The key order is the commit order, so inserts append to the B-tree (time-ordered
keys are ~10x faster than random ones here) and a queue is restored in order by reading
its rows by key. Moving a FlowFile deletes its old row and inserts a new one; the live map
(FlowFile id → current seq, attributes, encoded attributes) finds the old row and lets a
move that kept the attributes reuse their encoding.

Component state lives in the same database and is written in the same transaction as the
session's FlowFiles, so state and FlowFiles change together or not at all.

Swapping: FlowFiles a connection swaps out are already rows here; the repository only
remembers which seqs form the batch (a compact array) and reads them back on swap-in.
At start a queue's rows are handed to its connection as swapped batches (seq ranges), so a
restart with millions of queued FlowFiles does not load them all into memory.
"""

from __future__ import annotations

import contextlib
import functools
import json
import marshal
import os
import sqlite3
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..._api._content import ContentClaim
from ..._api._flowfile import FlowFile, now_ms, reserve_ids
from ..._errors import ContentRepositoryFullError, FlowEngineError
from ..._status import BackgroundTaskStatus
from .._background import BackgroundHealth
from .._repository import CommitDelta, FlowFileRepository
from ._groupcommit import GroupCommitter

__all__ = ["SQLiteFlowFileRepository"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS flowfiles (
    seq INTEGER PRIMARY KEY,
    ffid INTEGER NOT NULL,
    queue INTEGER NOT NULL,
    attrs BLOB NOT NULL,
    resource TEXT,
    off INTEGER NOT NULL,
    length INTEGER NOT NULL,
    entry_date INTEGER NOT NULL,
    lineage_start INTEGER NOT NULL,
    queued_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queues (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS state (component TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_BATCH_SQL = (
    "SELECT json_group_array(json_array(seq, ffid, hex(attrs), resource, off, length,"
    " entry_date, lineage_start, queued_at)) FROM (SELECT * FROM flowfiles"
    " WHERE seq BETWEEN ? AND ? AND queue=? ORDER BY seq)"
)
_FORMAT = "1"


def read_generation(con: sqlite3.Connection) -> int:
    """The run generation in the ``meta`` table (0 before the first run; ``_manifest``)."""
    row = con.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
    return int(row[0]) if row is not None else 0


def write_generation(con: sqlite3.Connection, generation: int) -> None:
    """Record the run generation in the ``meta`` table (``_manifest`` says why)."""
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(generation),)
    )


def _encode(attrs: dict[str, str]) -> bytes:
    # marshal is ~6x faster than json for str->str maps and its format 4 is stable.
    return marshal.dumps(attrs, 4)


def _decode(blob: bytes) -> dict[str, str]:
    attrs = marshal.loads(blob)
    if not isinstance(attrs, dict):
        raise FlowEngineError("corrupt FlowFile record in the repository")
    return attrs


_CHUNK = 256  # rows per multi-row INSERT (x10 columns stays far below SQLite's limit)
_ROW = "(?,?,?,?,?,?,?,?,?,?)"


@functools.lru_cache(maxsize=16)
def _insert_sql(rows: int) -> str:
    return "INSERT INTO flowfiles VALUES " + ",".join([_ROW] * rows)


def _insert_rows(con: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert with one statement per up to 256 rows.

    ``executemany`` steps once per row, and the sqlite3 module releases and re-takes the
    GIL around every step: with any other busy Python thread each re-take can wait a
    whole switch interval. Multi-row statements step once per chunk. Remainders are
    split into powers of two so only a handful of statement shapes are ever prepared.
    """
    i = 0
    n = len(rows)
    while i < n:
        k = _CHUNK
        while k > n - i:
            k //= 2
        con.execute(_insert_sql(k), [v for row in rows[i : i + k] for v in row])
        i += k


def _delete_rows(con: sqlite3.Connection, seqs: list[int]) -> None:
    """Delete by key: runs of consecutive keys as ranges, the rest in IN lists (few
    statements, hence few GIL round trips; see :func:`_insert_rows`)."""
    singles: list[int] = []
    ranges: list[tuple[int, int]] = []
    for lo, hi in _runs(seqs):
        if lo == hi:
            singles.append(lo)
        else:
            ranges.append((lo, hi))
    if ranges:
        con.executemany("DELETE FROM flowfiles WHERE seq BETWEEN ? AND ?", ranges)
    i = 0
    while i < len(singles):
        k = _CHUNK
        while k > len(singles) - i:
            k //= 2
        con.execute(_delete_sql(k), singles[i : i + k])
        i += k


@functools.lru_cache(maxsize=16)
def _delete_sql(keys: int) -> str:
    return "DELETE FROM flowfiles WHERE seq IN (" + ",".join("?" * keys) + ")"


def _runs(seqs: list[int]) -> list[tuple[int, int]]:
    """Sorted seqs as ranges of consecutive values: a session's batch was usually
    inserted together, so its rows go in one range delete instead of one per row."""
    seqs.sort()
    out: list[tuple[int, int]] = []
    lo = hi = seqs[0]
    for s in seqs[1:]:
        if s == hi + 1:
            hi = s
        else:
            out.append((lo, hi))
            lo = hi = s
    out.append((lo, hi))
    return out


def _is_disk_full(exc: sqlite3.Error) -> bool:
    return "full" in str(exc).lower()


@dataclass
class _QueueScan:
    """What a queue held at start: swapped batches as seq ranges (lo, hi, count, bytes)."""

    batches: list[tuple[Any, int, int]] = field(default_factory=list)
    count: int = 0


class _SwapStore:
    """The :class:`~flowengine._engine._connection.SwapStore` of one queue."""

    def __init__(
        self,
        repo: SQLiteFlowFileRepository,
        queue: str,
        threshold: int,
        batch_size: int,
        restored: list[tuple[Any, int, int]],
    ) -> None:
        self._repo = repo
        self.queue = queue
        self.threshold = threshold
        self.batch_size = batch_size
        self._restored = restored

    def swap_out(self, flowfiles: list[FlowFile]) -> Any:
        return self._repo._swap_out(flowfiles)

    def swap_in(self, token: Any) -> list[FlowFile]:
        return self._repo._swap_in(self.queue, token)

    def restored(self) -> list[tuple[Any, int, int]]:
        out, self._restored = self._restored, []
        return out


class SQLiteFlowFileRepository(FlowFileRepository):
    """FlowFiles and component state in one SQLite database (WAL mode).

    Args:
        path: the database file.
        sync: ``normal`` survives a process crash (the WAL is fsynced at checkpoints);
            ``always`` also survives power loss (every commit group is fsynced).
        swap_threshold: FlowFiles a connection keeps active in memory (NiFi 20,000).
        swap_batch: FlowFiles per swapped-out batch (NiFi 10,000).
    """

    durable = True

    def __init__(
        self,
        path: Path,
        *,
        sync: str = "normal",
        swap_threshold: int = 20_000,
        swap_batch: int = 10_000,
    ) -> None:
        if sync not in ("normal", "always"):
            raise FlowEngineError(f"sync must be 'normal' or 'always', not {sync!r}")
        self.path = Path(path)
        self.sync = sync
        self.swap_threshold = swap_threshold
        self.swap_batch = max(1, min(swap_batch, swap_threshold))
        self._con = self._connect()
        self._con.executescript(_SCHEMA)
        self._check_format()
        self._rcon = self._connect()
        self._rlock = threading.Lock()
        self._live: dict[int, tuple[int, dict[str, str], bytes]] = {}
        self._live_lock = threading.Lock()
        self._state_lock = (
            threading.Lock()
        )  # readers must not wait for a write in progress
        self._qids: dict[str, int] = dict(
            self._con.execute("SELECT name, id FROM queues")
        )
        self._state: dict[str, dict[str, str]] = {
            cid: _decode(blob)
            for cid, blob in self._con.execute("SELECT component, data FROM state")
        }
        self._stores: dict[str, _SwapStore] = {}
        self.claim_counts: dict[str, int] = {}
        self._scan: dict[str, _QueueScan] = {}
        self._orphans: dict[str, int] = {}
        self._seq = 0
        self._scan_rows()
        self._committer: GroupCommitter[CommitDelta] = GroupCommitter(self._write)
        #: called inside every commit before it is made durable (fsync content: ``always``)
        self.before_commit: Callable[[], None] | None = None
        self._closed = False
        #: the WAL checkpoint run before released content is deleted (see
        #: durability_barrier); it runs on the content cleaner's thread
        self.checkpoint_health = BackgroundHealth(
            "flowfile-checkpoint",
            failed_event="flowfile_checkpoint_failed",
            recovered_event="flowfile_checkpoint_recovered",
        )

    # -- setup ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA auto_vacuum=INCREMENTAL")  # effective on new databases only
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(
            f"PRAGMA synchronous={'FULL' if self.sync == 'always' else 'NORMAL'}"
        )
        con.execute("PRAGMA busy_timeout=10000")
        return con

    def _check_format(self) -> None:
        row = self._con.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if row is None:
            self._con.execute("INSERT INTO meta VALUES ('format', ?)", (_FORMAT,))
        elif row[0] != _FORMAT:
            raise FlowEngineError(
                f"{self.path}: unsupported FlowFile repository format {row[0]!r}"
            )

    def _scan_rows(self) -> None:
        """One pass over every row: per-queue batches, claimant counts, highest ids."""
        names = {v: k for k, v in self._qids.items()}
        open_batch: dict[int, list[int]] = {}  # queue -> [lo, hi, count, bytes]
        scans: dict[str, _QueueScan] = {}
        counts = self.claim_counts
        max_ffid = max_seq = 0
        batch = self.swap_batch
        for seq, ffid, queue, resource, length in self._con.execute(
            "SELECT seq, ffid, queue, resource, length FROM flowfiles"
        ):
            max_seq = seq
            if ffid > max_ffid:
                max_ffid = ffid
            if resource is not None:
                counts[resource] = counts.get(resource, 0) + 1
            b = open_batch.get(queue)
            if b is None:
                b = open_batch[queue] = [seq, seq, 0, 0]
            b[1] = seq
            b[2] += 1
            b[3] += length
            if b[2] >= batch:
                scan = scans.setdefault(names[queue], _QueueScan())
                scan.batches.append(((b[0], b[1], None), b[2], b[3]))
                scan.count += b[2]
                del open_batch[queue]
        for queue, b in open_batch.items():
            scan = scans.setdefault(names[queue], _QueueScan())
            scan.batches.append(((b[0], b[1], None), b[2], b[3]))
            scan.count += b[2]
        self._scan = scans
        self._seq = max_seq
        reserve_ids(max_ffid)

    def generation(self) -> int:
        """The run generation recorded in the database (see ``_manifest``)."""
        return read_generation(self._con)

    def set_generation(self, generation: int) -> None:
        """Checkpoint, then record ``generation`` as the first frame of the new WAL."""
        with contextlib.suppress(sqlite3.OperationalError):  # busy: not essential
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        write_generation(self._con, generation)

    # -- FlowFileRepository --------------------------------------------------------------
    def swap_store(self, queue_id: str) -> _SwapStore:
        store = self._stores.get(queue_id)
        if store is None:
            scan = self._scan.pop(queue_id, None)
            restored = scan.batches if scan is not None else []
            store = _SwapStore(
                self, queue_id, self.swap_threshold, self.swap_batch, restored
            )
            self._stores[queue_id] = store
        return store

    def restore(self) -> Iterator[tuple[str, FlowFile]]:
        """FlowFiles of queues without a swap store: orphans (their queue is no longer
        in the flow; they stay in the repository) or a runtime that does not swap."""
        scans, self._scan = self._scan, {}
        self._orphans = {q: s.count for q, s in scans.items()}
        for queue, scan in scans.items():
            for token, _, _ in scan.batches:
                for ff in self._swap_in(queue, token):
                    yield queue, ff

    def orphans(self) -> dict[str, int]:
        """Queues in the repository that no connection of this flow claimed, with counts."""
        if self._scan:
            return {q: s.count for q, s in self._scan.items()}
        return dict(self._orphans)

    def rename_queue(self, old: str, new: str) -> int:
        """Move the FlowFiles queued in ``old`` to ``new`` (``--migrate old=new``).

        Only before the runtime claims queues, and only into a queue that holds nothing
        (merging two restored queues would interleave their orders). Returns the count.
        """
        from ..._errors import StateDirectoryError

        scan = self._scan.get(old)
        if scan is None:
            have = ", ".join(sorted(self._scan)) or "none"
            raise StateDirectoryError(
                f"--migrate {old}={new}: the state directory holds no FlowFiles for "
                f"{old!r} (queues with FlowFiles: {have})"
            )
        if new in self._scan:
            raise StateDirectoryError(
                f"--migrate {old}={new}: {new!r} already holds "
                f"{self._scan[new].count} FlowFiles; migrate only into an empty queue"
            )
        oid = self._qids.pop(old)
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            nid = self._qids.get(new)
            if nid is None:
                con.execute("UPDATE queues SET name=? WHERE id=?", (new, oid))
                self._qids[new] = oid
            else:
                con.execute("UPDATE flowfiles SET queue=? WHERE queue=?", (nid, oid))
                con.execute("DELETE FROM queues WHERE id=?", (oid,))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            self._qids[old] = oid
            raise
        self._scan[new] = self._scan.pop(old)
        return scan.count

    def drop_queue(self, queue: str) -> list[FlowFile]:
        """Delete every FlowFile of an unclaimed ``queue``; returns them (for DROP events).

        Their content is reclaimed as orphaned content at the next start.
        """
        scan = self._scan.pop(queue, None)
        if scan is None:
            return []
        dropped = [
            ff for token, _, _ in scan.batches for ff in self._swap_in(queue, token)
        ]
        qid = self._qids.pop(queue)
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute("DELETE FROM flowfiles WHERE queue=?", (qid,))
            con.execute("DELETE FROM queues WHERE id=?", (qid,))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        with self._live_lock:
            for ff in dropped:
                self._live.pop(ff.id, None)
        return dropped

    def load_state(self, component_id: str) -> dict[str, str]:
        with self._state_lock:
            return dict(self._state.get(component_id, {}))

    def commit(self, delta: CommitDelta) -> None:
        """Make ``delta`` durable (grouped with concurrent commits) before returning."""
        if self._closed:
            raise FlowEngineError("the FlowFile repository is closed")
        self._committer.submit(delta)

    @property
    def statistics(self) -> dict[str, int]:
        """Transactions written and session commits they carried."""
        return {"groups": self._committer.groups, "commits": self._committer.requests}

    def flowfile_count(self) -> int:
        """Rows in the repository (every FlowFile queued at the last commit)."""
        with self._rlock:
            return int(
                self._rcon.execute("SELECT COUNT(*) FROM flowfiles").fetchone()[0]
            )

    def referenced_resources(self) -> set[str]:
        """Content resources that committed FlowFiles refer to (leak checks)."""
        with self._rlock:
            rows = self._rcon.execute(
                "SELECT DISTINCT resource FROM flowfiles WHERE resource IS NOT NULL"
            )
            return {r[0] for r in rows}

    def reclaim_space(self, min_bytes: int = 8 * 1024**2) -> bool:
        """Give the pages of deleted rows back to the filesystem once the database is
        mostly free space (more than half its pages, and at least ``min_bytes``).

        SQLite never shrinks a file by itself: a drained run with large attributes
        would keep its peak size forever. New databases use ``auto_vacuum=INCREMENTAL``
        (``PRAGMA incremental_vacuum`` releases the free pages, cheaply); older ones are
        ``VACUUM``-ed once, converting them, which costs only the live rows left (few,
        when mostly free). Called at close; returns whether space was reclaimed.
        """
        con = self._con
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
        if free * 2 <= pages or free * size < min_bytes:
            return False
        if con.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
            # execute() steps once (one page); executescript runs it to completion
            con.executescript("PRAGMA incremental_vacuum;")
        else:
            con.execute("PRAGMA auto_vacuum=INCREMENTAL")
            con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return True

    def durability_barrier(self) -> None:
        """Make every commit so far survive power loss (before content is deleted).

        Normally a WAL checkpoint. On a full disk the checkpoint cannot extend the
        database file; the WAL is then fsynced instead, which needs no space and makes
        the committed frames just as durable (SQLite replays them at open). Without that
        fallback released content could never be deleted on a full disk although
        deleting it is what frees the space: the flow stalled until a restart (issue
        23.6). The checkpoint's failure and recovery show in the flow status as the
        ``flowfile-checkpoint`` background task.
        """
        if self._closed or self.sync == "always":
            return
        with self._rlock:
            try:
                self._rcon.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.OperationalError as exc:
                if not _is_disk_full(exc):
                    self.checkpoint_health.failed(exc, None)
                    raise
                self._sync_wal()  # raises if even that fails: the cleaner retries
                self.checkpoint_health.failed(exc, None, fallback="WAL fsynced")
                return
        self.checkpoint_health.succeeded()

    def _sync_wal(self) -> None:
        """fsync the WAL file (committed frames survive power loss)."""
        wal = self.path.with_name(self.path.name + "-wal")
        fd = os.open(wal, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def background_status(self) -> tuple[BackgroundTaskStatus, ...]:
        return (self.checkpoint_health.status(),)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A busy reader can make this fail: the WAL is replayed at next open anyway.
        with contextlib.suppress(sqlite3.Error):
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            self.reclaim_space()
        except sqlite3.Error as exc:  # not essential: the next close tries again
            from ..._logging import engine_logger

            engine_logger(component="flowfile-repository").warning(
                "flowfile_repository_vacuum_failed", error=str(exc)
            )
        with self._rlock:
            self._rcon.close()
        self._con.close()

    # -- writing -------------------------------------------------------------------------
    def _write(self, deltas: list[CommitDelta]) -> None:
        live = self._live
        undo: dict[int, tuple[int, dict[str, str], bytes] | None] = {}
        inserts: dict[int, tuple[Any, ...]] = {}
        deletes: list[int] = []
        states: dict[str, dict[str, str]] = {}
        new_queues: list[tuple[int, str]] = []
        qids = self._qids
        now = now_ms()
        seq = self._seq
        with self._live_lock:
            try:
                for delta in deltas:
                    for qname, ff in delta.placed:
                        q = qids.get(qname)
                        if q is None:
                            q = qids[qname] = max(qids.values(), default=0) + 1
                            new_queues.append((q, qname))
                        fid = ff.id
                        attrs = ff._attrs
                        prev = live.get(fid)
                        if fid not in undo:
                            undo[fid] = prev
                        if prev is None:
                            blob = _encode(attrs)
                        else:
                            pseq, pattrs, blob = prev
                            if inserts.pop(pseq, None) is None:
                                deletes.append(pseq)
                            if pattrs is not attrs:
                                blob = _encode(attrs)
                        seq += 1
                        c = ff.claim
                        if c is None:
                            inserts[seq] = (
                                seq,
                                fid,
                                q,
                                blob,
                                None,
                                0,
                                0,
                                ff.entry_date,
                                ff.lineage_start_date,
                                now,
                            )
                        else:
                            inserts[seq] = (
                                seq,
                                fid,
                                q,
                                blob,
                                c.resource,
                                c.offset,
                                c.length,
                                ff.entry_date,
                                ff.lineage_start_date,
                                now,
                            )
                        live[fid] = (seq, attrs, blob)
                    for ff in delta.dropped:
                        fid = ff.id
                        prev = live.pop(fid, None)
                        if prev is None:
                            continue
                        if fid not in undo:
                            undo[fid] = prev
                        if inserts.pop(prev[0], None) is None:
                            deletes.append(prev[0])
                    states.update(delta.state)
                self._execute(inserts, deletes, states, new_queues)
            except BaseException:
                for fid, old in undo.items():
                    if old is None:
                        live.pop(fid, None)
                    else:
                        live[fid] = old
                for _, qname in new_queues:
                    qids.pop(qname, None)
                raise
            self._seq = seq
            if states:
                with self._state_lock:
                    for cid, st in states.items():
                        self._state[cid] = dict(st)

    def _execute(
        self,
        inserts: dict[int, tuple[Any, ...]],
        deletes: list[int],
        states: dict[str, dict[str, str]],
        new_queues: list[tuple[int, str]],
    ) -> None:
        con = self._con
        try:
            con.execute("BEGIN")
            try:
                if new_queues:
                    con.executemany("INSERT INTO queues VALUES (?, ?)", new_queues)
                if deletes:
                    _delete_rows(con, deletes)
                if inserts:
                    _insert_rows(con, list(inserts.values()))
                if states:
                    con.executemany(
                        "INSERT OR REPLACE INTO state VALUES (?, ?)",
                        [(cid, _encode(dict(st))) for cid, st in states.items()],
                    )
                if self.before_commit is not None:
                    self.before_commit()
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if _is_disk_full(exc):
                raise ContentRepositoryFullError(
                    f"FlowFile repository {self.path}: disk full"
                ) from exc
            raise FlowEngineError(f"FlowFile repository {self.path}: {exc}") from exc

    # -- swapping ------------------------------------------------------------------------
    def _swap_out(self, flowfiles: list[FlowFile]) -> Any:
        seqs = array("q")
        kept: list[FlowFile] = []
        live = self._live
        with self._live_lock:
            for ff in flowfiles:
                entry = live.pop(ff.id, None)
                if (
                    entry is None
                ):  # not a committed row (should not happen): keep it in memory
                    kept.append(ff)
                else:
                    seqs.append(entry[0])
        if not seqs:
            return (0, -1, None, kept)
        return (min(seqs), max(seqs), seqs, kept)

    def _read_batch(self, lo: int, hi: int, queue: int) -> list[list[Any]]:
        """Rows of ``queue`` with keys in [lo, hi], in key order, in one SQLite step.

        Fetching row by row would release and re-take the GIL per row (see
        :func:`_insert_rows`); one JSON aggregate row costs one step.
        """
        with self._rlock:
            (doc,) = self._rcon.execute(_BATCH_SQL, (lo, hi, queue)).fetchone()
        rows: list[list[Any]] = json.loads(doc) if doc else []
        rows.sort(
            key=lambda r: r[0]
        )  # already in order in practice: timsort is O(n) then
        for r in rows:
            r[2] = bytes.fromhex(r[2])
        return rows

    def _swap_in(self, queue: str, token: Any) -> list[FlowFile]:
        lo, hi, seqs, *rest = token
        q = self._qids.get(queue)
        out: list[FlowFile] = []
        if q is not None and hi >= lo:
            rows = self._read_batch(lo, hi, q)
            wanted = set(seqs) if seqs is not None else None
            live = self._live
            with self._live_lock:
                for (
                    seq,
                    ffid,
                    blob,
                    resource,
                    off,
                    length,
                    entry,
                    lineage,
                    queued,
                ) in rows:
                    if wanted is not None and seq not in wanted:
                        continue  # a FlowFile of this queue that stayed in memory
                    attrs = _decode(blob)
                    claim = (
                        None
                        if resource is None
                        else ContentClaim(resource, off, length)
                    )
                    ff = FlowFile(
                        attrs,
                        claim,
                        id=ffid,
                        entry_date=entry,
                        lineage_start_date=lineage,
                        last_queue_date=queued,
                        queue_date_index=seq,
                    )
                    live[ffid] = (seq, attrs, blob)
                    out.append(ff)
        if rest and rest[0]:
            out.extend(rest[0])
        return out
