"""The durable provenance repository: rolling Parquet segments (NiFi §7.3).

Sessions register events at commit; they are buffered and written as one Parquet file per
flush (a *segment*, named by its first and last event id), every ``flush_interval`` seconds
or every ``flush_events`` events. The committing thread that fills the buffer converts it to
Arrow columns; a writer thread only encodes and writes (pyarrow releases the GIL there), so
no second CPU-bound Python thread competes for the GIL. Columnar and compressed,
segments are cheap to write and to filter by uuid, component, type or time with pyarrow.
Retention deletes the oldest segments beyond ``max_age`` seconds or ``max_size`` bytes.

A crash loses at most the events still buffered (one flush interval); FlowFiles and
content are not affected. Attributes are the values as of commit (a Parquet map column).

A damaged segment (garbled: ZSTD/Thrift errors; truncated: no Parquet magic) never breaks a
query nor the flow: queries read segment by segment, skip one that cannot be read with a
``provenance_segment_unreadable`` warning naming it (once per segment and process), and
answer from the others. The writer thread logs write errors and retries with back-off.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..._api._provenance import (
    ProvenanceEvent,
    ProvenanceEventType,
    ProvenanceRepository,
)
from ..._logging import engine_logger
from ..._status import BackgroundTaskStatus
from .._background import BackgroundHealth, next_backoff

__all__ = ["ParquetProvenanceRepository"]

_STR = pa.string()
SCHEMA = pa.schema(
    [
        ("event_id", pa.int64()),
        ("event_type", _STR),
        ("flowfile_uuid", _STR),
        ("component_id", _STR),
        ("component_type", _STR),
        ("timestamp_ms", pa.int64()),
        ("attributes", pa.map_(_STR, _STR)),
        ("size", pa.int64()),
        ("lineage_start_date", pa.int64()),
        ("entry_date", pa.int64()),
        ("parent_uuids", pa.list_(_STR)),
        ("child_uuids", pa.list_(_STR)),
        ("relationship", _STR),
        ("details", _STR),
        ("transit_uri", _STR),
        ("duration_ms", pa.int64()),
        ("content_claim", _STR),
        ("attributes_ref", pa.int64()),
    ]
)


def _table(events: Sequence[ProvenanceEvent]) -> pa.Table:
    """Events as an Arrow table.

    Events of one flush that share an attribute map (a FlowFile version routed then
    dropped) store it once: the first such event carries the map, the others an empty
    map and ``attributes_ref`` = that event's id (see :func:`_events`).
    """
    seen: dict[int, int] = {}
    offsets = [0]
    keys: list[str] = []
    values: list[str] = []
    refs: list[int] = []
    for e in events:
        a = e.attributes
        ref = seen.get(id(a))
        if ref is None:
            ref = seen[id(a)] = e.event_id
            keys.extend(a.keys())
            values.extend(a.values())
        refs.append(ref)
        offsets.append(len(keys))
    attrs = pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(keys, _STR), pa.array(values, _STR)
    )
    arrays = []
    for f in SCHEMA:
        if f.name == "attributes":
            arrays.append(attrs)
        elif f.name == "attributes_ref":
            arrays.append(pa.array(refs, pa.int64()))
        else:
            arrays.append(pa.array(list(map(attrgetter(f.name), events)), f.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _events(
    table: pa.Table, shared: Callable[[list[int]], pa.Table] | None = None
) -> list[ProvenanceEvent]:
    """ProvenanceEvents of ``table``; ``shared`` fetches rows holding shared maps."""
    rows = table.to_pylist()
    own = {
        r["event_id"]: r["attributes"]
        for r in rows
        if r["attributes_ref"] == r["event_id"]
    }
    missing = sorted({r["attributes_ref"] for r in rows} - own.keys())
    if missing and shared is not None:
        extra = shared(missing)
        own.update(
            zip(
                extra["event_id"].to_pylist(),
                extra["attributes"].to_pylist(),
                strict=True,
            )
        )
    out = []
    for row in rows:
        ref = row.pop("attributes_ref")
        row.pop("attributes")
        attrs = dict(own.get(ref) or ())
        row["event_type"] = ProvenanceEventType(row["event_type"])
        row["parent_uuids"] = tuple(row["parent_uuids"] or ())
        row["child_uuids"] = tuple(row["child_uuids"] or ())
        out.append(ProvenanceEvent(attributes=attrs, **row))
    return out


class ParquetProvenanceRepository(ProvenanceRepository):
    """Provenance events in Parquet segments under ``directory``.

    Args:
        directory: where segments live (created if missing).
        max_age: seconds an event is kept (NiFi: 30 days).
        max_size: bytes of segments kept (NiFi: 10 GB).
        flush_events: write a segment once this many events are buffered.
        flush_interval: write buffered events at least this often (seconds).
        read_only: open for queries only (the CLI); no writer thread, no retention.
    """

    def __init__(
        self,
        directory: Path,
        *,
        max_age: float = 30 * 86400.0,
        max_size: int = 10 * 1024**3,
        flush_events: int = 20_000,
        flush_interval: float = 5.0,
        read_only: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.max_age = max_age
        self.max_size = max_size
        self.flush_events = flush_events
        self.read_only = read_only
        if not read_only:
            self.directory.mkdir(parents=True, exist_ok=True)
            for tmp in self.directory.glob("seg-*.tmp"):  # a flush cut short by a crash
                tmp.unlink(missing_ok=True)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._buffer: list[ProvenanceEvent] = []
        self._pending: list[tuple[int, int, pa.Table]] = []
        self._next_id = self._last_id() + 1
        self._wake = threading.Event()
        self._closed = read_only
        self._thread: threading.Thread | None = None
        self._retained_at = -1e9
        self._total = 0
        self._bad: set[Path] = set()  # unreadable segments already warned about
        self._log = engine_logger(component="provenance")
        self.health = BackgroundHealth(
            "provenance-writer",
            failed_event="provenance_write_failed",
            recovered_event="provenance_write_recovered",
        )
        if not read_only:
            self.apply_retention()
            self._thread = threading.Thread(
                target=self._loop,
                args=(flush_interval,),
                name="provenance-writer",
                daemon=True,
            )
            self._thread.start()

    # -- segments ------------------------------------------------------------------------
    def segments(self) -> list[Path]:
        """Segment files, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("seg-*.parquet"))

    def _last_id(self) -> int:
        segs = self.segments()
        if not segs:
            return -1
        return int(segs[-1].stem.split("-")[2])

    def _loop(self, interval: float) -> None:
        # The writer must outlive errors (a full disk, a vanished directory): a dead
        # writer would silently stop provenance for the rest of the run. Log, back off
        # (up to a minute) and retry; events stay buffered/pending meanwhile.
        backoff = 0.0
        while not self._closed:
            self._wake.wait(backoff or interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # the thread must survive
                backoff = next_backoff(backoff, first=1.0, limit=60.0)
                self.health.failed(exc, backoff)
            else:
                backoff = 0.0
                self.health.succeeded()

    @property
    def last_error(self) -> str | None:
        """The writer thread's last error (None once a write succeeds again)."""
        return self.health.last_error

    def background_status(self) -> tuple[BackgroundTaskStatus, ...]:
        if self.read_only:
            return ()
        return (self.health.status(),)

    def _convert(self) -> None:
        """Turn the buffered events into a pending Arrow table (GIL-bound work)."""
        with self._lock:
            events, self._buffer = self._buffer, []
        if events:
            table = _table(events)
            with self._lock:
                self._pending.append((events[0].event_id, events[-1].event_id, table))

    def _write_pending(self) -> None:
        """Write pending tables as segments (pyarrow releases the GIL while it encodes)."""
        with self._write_lock:
            while True:
                with self._lock:
                    if not self._pending:
                        return
                    first, last, table = self._pending[0]
                path = self.directory / f"seg-{first:015d}-{last:015d}.parquet"
                tmp = path.with_suffix(".tmp")
                try:
                    pq.write_table(table, tmp, compression="zstd")
                except BaseException:
                    tmp.unlink(missing_ok=True)  # no partial segment left behind
                    raise
                os.replace(tmp, path)  # readers never see a half-written segment
                with self._lock:
                    self._pending.pop(0)
                self._total += path.stat().st_size
                # Listing thousands of segments is not free: check age once a minute, size
                # whenever the running total says the limit is passed.
                if (
                    self._total > self.max_size
                    or time.monotonic() - self._retained_at >= 60.0
                ):
                    self.apply_retention()

    def flush(self) -> None:
        """Write every buffered event as segments now."""
        self._convert()
        self._write_pending()

    def apply_retention(self) -> int:
        """Delete the oldest segments beyond the age or size limits; count deleted."""
        self._retained_at = time.monotonic()
        segs = self.segments()
        stats = [p.stat() for p in segs]
        total = sum(st.st_size for st in stats)
        cutoff = time.time() - self.max_age
        deleted = 0
        for p, st in zip(segs[:-1], stats[:-1], strict=True):  # keep the newest
            if total <= self.max_size and st.st_mtime >= cutoff:
                break
            p.unlink(missing_ok=True)
            total -= st.st_size
            deleted += 1
        self._total = total
        return deleted

    # -- ProvenanceRepository ------------------------------------------------------------
    def register(self, events: Sequence[ProvenanceEvent]) -> None:
        if self.read_only:
            raise RuntimeError("provenance repository opened read-only")
        with self._lock:
            n = self._next_id
            for e in events:
                e.event_id = n
                n += 1
            self._next_id = n
            self._buffer.extend(events)
            full = len(self._buffer) >= self.flush_events
            behind = len(self._pending) >= 4
        if full:
            # Convert here rather than on the writer thread: a second CPU-bound Python
            # thread would make every GIL hand-off (each SQLite step, each wake-up) wait
            # a switch interval. Only the GIL-free Parquet encoding runs in the writer.
            self._convert()
            if behind:
                self._write_pending()  # the writer is behind: help (bounded memory)
            else:
                self._wake.set()

    def _read(
        self, expr: Any = None, columns: list[str] | None = None
    ) -> pa.Table | None:
        """Matching rows of every readable segment (None when there is no segment).

        Segment by segment, so one damaged file is skipped (warned about once) instead of
        failing the whole query.
        """
        import pyarrow.dataset as ds  # only queries need it: keep run start-up light

        parts = []
        for p in self.segments():
            try:
                parts.append(
                    ds.dataset(str(p), schema=SCHEMA, format="parquet").to_table(
                        filter=expr, columns=columns
                    )
                )
            except FileNotFoundError:
                continue  # removed by retention while we were reading
            except (OSError, pa.ArrowException) as exc:
                if p not in self._bad:
                    self._bad.add(p)
                    self._log.warning(
                        "provenance_segment_unreadable",
                        segment=str(p),
                        error=f"{type(exc).__name__}: {exc}",
                        hint="its events are skipped; delete or restore the file",
                    )
        if not parts:
            return None
        return pa.concat_tables(parts)

    @property
    def unreadable_segments(self) -> list[Path]:
        """Segments a query found damaged and skipped."""
        return sorted(self._bad)

    def _select(self, expr: Any) -> list[ProvenanceEvent]:
        import pyarrow.compute as pc

        with self._lock:  # pending before segments: a table is dropped once written
            buffered = list(self._buffer)
            queued = [t for _, _, t in self._pending]
        stored = self._read(expr)
        tables = [stored] if stored is not None else []
        if buffered:
            queued.append(_table(buffered))
        pending = pa.concat_tables(queued) if queued else None
        if pending is not None:
            tables.append(pending.filter(expr) if expr is not None else pending)

        def shared(ids: list[int]) -> pa.Table:
            cond = pc.field("event_id").isin(ids)
            got = self._read(cond, ["event_id", "attributes"])
            parts = [got] if got is not None else []
            if pending is not None:
                parts.append(pending.filter(cond).select(["event_id", "attributes"]))
            return pa.concat_tables(parts)

        found: dict[
            int, ProvenanceEvent
        ] = {}  # by id: a table being written is in both
        for t in tables:
            for e in _events(t, shared):
                found[e.event_id] = e
        return [found[k] for k in sorted(found)]

    def events(self) -> list[ProvenanceEvent]:
        """Every retained event, oldest first (loads them all: prefer :meth:`query`)."""
        return self._select(None)

    def query(
        self,
        *,
        uuid: str | None = None,
        component: str | None = None,
        event_type: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int | None = None,
    ) -> list[ProvenanceEvent]:
        """Events matching every given criterion, oldest first."""
        import pyarrow.compute as pc

        conds = []
        if uuid is not None:
            conds.append(pc.field("flowfile_uuid") == uuid)
        if component is not None:
            conds.append(pc.field("component_id") == component)
        if event_type is not None:
            conds.append(pc.field("event_type") == str(event_type))
        if since_ms is not None:
            conds.append(pc.field("timestamp_ms") >= since_ms)
        if until_ms is not None:
            conds.append(pc.field("timestamp_ms") <= until_ms)
        expr = None
        for c in conds:
            expr = c if expr is None else expr & c
        out = self._select(expr)
        return out[:limit] if limit is not None else out

    def lineage(self, uuid: str) -> list[ProvenanceEvent]:
        """Events of the FlowFile, its ancestors and its descendants (the lineage DAG).

        Walks parent/child links over the id columns only, then loads the events of the
        related FlowFiles.
        """
        import pyarrow.compute as pc

        links = self._links()
        parents: dict[str, set[str]] = {}
        children: dict[str, set[str]] = {}
        for ff, ps, cs in links:
            for p in ps:
                parents.setdefault(ff, set()).add(p)
                children.setdefault(p, set()).add(ff)
            for c in cs:
                children.setdefault(ff, set()).add(c)
                parents.setdefault(c, set()).add(ff)
        related = {uuid}
        for graph in (parents, children):
            frontier = [uuid]
            while frontier:
                for nxt in graph.get(frontier.pop(), ()):
                    if nxt not in related:
                        related.add(nxt)
                        frontier.append(nxt)
        return self._select(pc.field("flowfile_uuid").isin(sorted(related)))

    def _links(self) -> Iterable[tuple[str, list[str], list[str]]]:
        import pyarrow.compute as pc

        cols = ["flowfile_uuid", "parent_uuids", "child_uuids"]
        with self._lock:
            buffered = list(self._buffer)
            queued = [t.select(cols) for _, _, t in self._pending]
        stored = self._read(None, cols)
        tables = [stored, *queued] if stored is not None else queued
        if buffered:
            tables.append(_table(buffered).select(cols))
        for t in tables:
            has_links = pc.or_(
                pc.greater(pc.list_value_length(t["parent_uuids"]), 0),
                pc.greater(pc.list_value_length(t["child_uuids"]), 0),
            )
            t = t.filter(pc.fill_null(has_links, False))
            yield from zip(
                t["flowfile_uuid"].to_pylist(),
                t["parent_uuids"].to_pylist(),
                t["child_uuids"].to_pylist(),
                strict=True,
            )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.flush()
        except Exception as exc:  # provenance never fails the run
            self._log.warning(
                "provenance_events_lost_at_close",
                events=len(self._buffer) + sum(len(t) for _, _, t in self._pending),
                error=f"{type(exc).__name__}: {exc}",
            )
