"""StandardProcessSession: the engine's implementation of the session contract.

:class:`flowengine.ProcessSession` (``_session.py``) is the interface processors program
against; this module implements it over a narrow host protocol, :class:`SessionHost`:
exactly what a session needs of the component it works for (its queues, relationships,
retry policy, the counters a commit updates) and of the run (:class:`SessionServices`:
content and FlowFile repositories, provenance, clock). The engine's ``Node`` is such a
host; the session never imports it.

Content claim accounting (who holds a reference to which content resource):

* a FlowFile version sitting in a queue holds one claimant on its claim;
* the session holds one claimant on every claim it wrote or cloned that is still current;
* at commit, the claim of a FlowFile that leaves (dropped) or whose content changed is
  released; at rollback, the session's own claims are released and queued ones untouched.

Fencing (a stop that abandons a stuck trigger, see
:meth:`StandardProcessSession._terminate`): the engine rolls the session back from the
event loop's thread while the trigger may still be running on its worker thread; from
then on the session is *terminated* and whatever that thread does with it (take
FlowFiles, write content, commit, set state) raises
:class:`~flowengine._errors.TerminatedTaskError`. A per-session lock orders the fence
against the few steps where both threads could touch the same records: taking FlowFiles,
owning content claims, commit and rollback.
"""

from __future__ import annotations

import io
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from .._api._content import ContentClaim
from .._api._flowfile import PROTECTED_FROM_REMOVAL, FlowFile, new_uuid
from .._api._provenance import ProvenanceEvent, ProvenanceEventType
from .._api._relationship import FAILURE_RELATIONSHIPS, Relationship
from .._api._session import Content, ProcessSession, ProvenanceReporter
from .._errors import FlowFileHandlingError, TerminatedTaskError
from .._repository._repository import CommitDelta
from .._status import failure_reason
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from .._api._content import ContentRepository
    from .._api._provenance import ProvenanceRepository
    from .._api._schedule import Schedule
    from .._clock import Clock
    from .._repository._repository import FlowFileRepository
    from ._connection import Connection

__all__ = ["SessionHost", "SessionServices", "StandardProcessSession"]

_SELF = "\x00self"
_CONTENT_EVENTS = frozenset(
    {
        ProvenanceEventType.CONTENT_MODIFIED,
        ProvenanceEventType.FETCH,
        ProvenanceEventType.RECEIVE,
        ProvenanceEventType.CREATE,
    }
)


class SessionServices(Protocol):
    """What a session uses of the run: the repositories and the clock."""

    @property
    def content(self) -> ContentRepository: ...

    @property
    def flowfile_repository(self) -> FlowFileRepository: ...

    @property
    def provenance(self) -> ProvenanceRepository: ...

    @property
    def clock(self) -> Clock: ...


class SessionHost(Protocol):
    """What a session needs of the component it works for (the engine's ``Node``).

    Read when the session is built (``runtime``) and per call (the rest); the commit
    reports to :meth:`record_commit` and :meth:`note_failure_routing`.
    """

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def type_name(self) -> str: ...

    @property
    def relationship_names(self) -> frozenset[str]: ...

    @property
    def penalty_duration(self) -> float: ...

    @property
    def schedule(self) -> Schedule: ...

    @property
    def retry(self) -> RetryPolicy | None: ...

    @property
    def fenced(self) -> bool:
        """A trigger of this component was abandoned: none of its sessions commits."""
        ...

    @property
    def runtime(self) -> SessionServices: ...

    @property
    def incoming(self) -> Sequence[Connection[Any]]:
        """The queues ``get`` takes from, polled round-robin."""
        ...

    @property
    def suspects(self) -> deque[list[tuple[Connection[Any], FlowFile]]]:
        """Groups of a failed batch waiting to be retried on their own (isolation):
        while any wait, ``get`` hands out only one of them. Guarded by :attr:`lock`."""
        ...

    @property
    def lock(self) -> threading.Lock: ...

    def next_poll_index(self) -> int:
        """Where the next round-robin ``get`` starts."""
        ...

    def connections_for(self, relationship: str) -> Sequence[Connection[Any]]:
        """The connections a relationship feeds (none: auto-terminated)."""
        ...

    def record_commit(
        self,
        in_count: int,
        in_bytes: int,
        out_count: int,
        out_bytes: int,
        bytes_read: int,
        bytes_written: int,
        rel_counts: dict[str, int],
        terminated: dict[str, int],
        dropped: int,
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        """The counters of one commit (the status snapshot reads their sums)."""
        ...

    def note_failure_routing(self, relationship: str, ff: FlowFile, n: int) -> None:
        """A commit routed ``n`` FlowFiles (``ff`` first) to a failure relationship."""
        ...

    def yield_for(self, seconds: float | None) -> None:
        """Don't trigger the component again for ``seconds`` (retry back-off)."""
        ...


class _Record:
    """What the session knows about one FlowFile (keyed by ``FlowFile.id``)."""

    __slots__ = (
        "content_reported",
        "current",
        "event_reported",
        "kind",
        "original",
        "parents",
        "rel",
        "removed",
        "source",
    )

    def __init__(
        self,
        original: FlowFile | None,
        current: FlowFile,
        source: Connection[Any] | None,
    ) -> None:
        self.original = original  # the version pulled from a queue (None: created here)
        self.current = current
        self.source = source
        self.rel: str | None = None
        self.removed = False
        self.parents: tuple[str, ...] = ()  # uuids, for FORK/JOIN/CLONE events
        self.kind = (
            "pulled" if original is not None else "created"
        )  # or "child", "clone"
        self.event_reported = False
        self.content_reported = False


class _Reporter(ProvenanceReporter):
    """The provenance reporter of a :class:`StandardProcessSession`: events go to the
    session's buffer, registered at commit with the attributes as of commit."""

    __slots__ = ("_session",)

    def __init__(self, session: StandardProcessSession) -> None:
        self._session = session

    @property
    def enabled(self) -> bool:
        """False when provenance is off: skip building details that only events need."""
        return self._session._prov_enabled

    def _report(
        self,
        etype: ProvenanceEventType,
        ff: FlowFile,
        *,
        uri: str | None = None,
        details: str | None = None,
        relationship: str | None = None,
        duration_ms: int = -1,
    ) -> None:
        s = self._session
        rec = s._record(ff)
        rec.event_reported = True
        if etype in _CONTENT_EVENTS:
            rec.content_reported = True
        if not s._prov_enabled:
            return
        s._reported.append((etype, ff.id, uri, details, relationship, duration_ms))


class StandardProcessSession(ProcessSession):
    """The engine's session: one per trigger (or per ``context.new_session()``), over
    the :class:`SessionHost` it works for. See :class:`flowengine.ProcessSession` for
    the contract of every public method."""

    def __init__(self, host: SessionHost) -> None:
        self._host = host
        flow = host.runtime
        self._repo = flow.content
        self._clock = flow.clock
        self._prov_enabled = flow.provenance.enabled
        self._records: dict[int, _Record] = {}
        self._polled: dict[Connection[Any], list[FlowFile]] = {}
        #: the isolation group this session serves (see the host's suspects)
        self._group: list[tuple[Connection[Any], FlowFile]] | None = None
        self._owned: dict[
            int, ContentClaim
        ] = {}  # id -> claim the session holds for it
        self._reported: list[tuple[Any, ...]] = []
        self._state: dict[str, str] | None = None
        self._bytes_read = 0
        self._bytes_written = 0
        #: see "Fencing" in the module docstring
        self._guard = threading.Lock()  # never held while calling out to the processor
        self._terminated = False
        self.provenance = _Reporter(self)

    # -- helpers -----------------------------------------------------------------------
    def _record(self, ff: FlowFile) -> _Record:
        rec = self._records.get(ff.id)
        if rec is None:
            self._check_terminated()
            self.rollback()
            raise FlowFileHandlingError(f"{ff!r} is not known in this session")
        if rec.removed or rec.rel is not None:
            self.rollback()
            raise FlowFileHandlingError(
                f"{ff!r} has already been transferred or removed"
            )
        return rec

    def _rel_name(self, relationship: Relationship | str) -> str:
        return (
            relationship.name
            if isinstance(relationship, Relationship)
            else relationship
        )

    # -- getting FlowFiles -------------------------------------------------------------
    def get(self, max_count: int | None = None) -> Any:
        if self._terminated:
            self._check_terminated()
        single = max_count is None
        n = 1 if max_count is None else max_count
        node = self._host
        if node.suspects or self._group is not None:
            return self._get_isolated(single, n)
        incoming = node.incoming
        if not incoming or n <= 0:
            return None if single else []
        count = len(incoming)
        start = node.next_poll_index()
        for i in range(count):
            conn = incoming[(start + i) % count]
            got = conn.poll(n)
            if got:
                self._take(conn, got)
                return got[0] if single else got
        return None if single else []

    def _get_isolated(self, single: bool, n: int) -> Any:
        """While a failed batch is being isolated, a trigger sees only the FlowFiles of
        one of its groups (all from one queue per call), nothing else."""
        node = self._host
        with node.lock:
            group = self._group
            if group is None:
                group = node.suspects[0] if node.suspects else []
                self._group = group
            got: list[FlowFile] = []
            if group and n > 0:
                conn = group[0][0]
                while group and len(got) < n and group[0][0] is conn:
                    got.append(group.pop(0)[1])
                if not group and node.suspects and node.suspects[0] is group:
                    node.suspects.popleft()
        if not got:
            return None if single else []
        self._take(conn, got)
        return got[0] if single else got

    def _take(self, conn: Connection[Any], flowfiles: list[FlowFile]) -> None:
        with self._guard:
            if self._terminated:  # polled after the fence: straight back to the queue
                conn.requeue(flowfiles)
                self._check_terminated()
            records = self._records
            rec = _Record
            for ff in flowfiles:
                records[ff.id] = rec(ff, ff, conn)
            polled = self._polled.get(conn)
            if polled is None:
                self._polled[conn] = list(flowfiles)
            else:
                polled.extend(flowfiles)

    def queue_size(self) -> tuple[int, int]:
        count = size = 0
        for c in self._host.incoming:
            count += c.queued_count
            size += c.queued_bytes
        return count, size

    # -- creating ----------------------------------------------------------------------
    def create(self, parents: FlowFile | Sequence[FlowFile] | None = None) -> FlowFile:
        now = self._clock.time_ms()
        uid = new_uuid()
        if parents is None:
            ff = FlowFile._fresh({"uuid": uid, "filename": uid, "path": "./"}, now, now)
            self._records[ff.id] = _Record(None, ff, None)
            return ff
        plist = [parents] if isinstance(parents, FlowFile) else list(parents)
        currents = [self._record(p).current for p in plist]
        if len(currents) == 1:
            attrs = dict(currents[0]._attrs)
        else:
            first = currents[0]._attrs
            attrs = {
                k: v
                for k, v in first.items()
                if all(c._attrs.get(k) == v for c in currents[1:])
            }
        attrs.pop("alternate.identifier", None)
        attrs.pop("discard.reason", None)
        attrs["uuid"] = uid
        attrs.setdefault("filename", uid)
        attrs.setdefault("path", "./")
        lineage = min(c.lineage_start_date for c in currents)
        ff = FlowFile(attrs, None, entry_date=now, lineage_start_date=lineage)
        rec = _Record(None, ff, None)
        rec.parents = tuple(c._attrs["uuid"] for c in currents)
        rec.kind = "child"
        self._records[ff.id] = rec
        return ff

    def clone(
        self, ff: FlowFile, offset: int | None = None, length: int | None = None
    ) -> FlowFile:
        cur = self._record(ff).current
        claim = cur.claim
        if claim is not None and (offset is not None or length is not None):
            off = offset or 0
            ln = claim.length - off if length is None else length
            if off < 0 or ln < 0 or off + ln > claim.length:
                raise ValueError(
                    f"range {off}+{ln} outside content of {claim.length} bytes"
                )
            claim = ContentClaim(claim.resource, claim.offset + off, ln)
        attrs = dict(cur._attrs)
        attrs["uuid"] = new_uuid()
        new = FlowFile(
            attrs,
            claim,
            entry_date=cur.entry_date,
            lineage_start_date=cur.lineage_start_date,
        )
        if claim is not None:
            with self._guard:
                self._check_terminated()
                self._repo.incref(claim)
                self._owned[new.id] = claim
        rec = _Record(None, new, None)
        rec.parents = (cur._attrs["uuid"],)
        rec.kind = "clone" if claim is cur.claim else "child"
        self._records[new.id] = rec
        return new

    # -- attributes --------------------------------------------------------------------
    def put_attribute(self, ff: FlowFile, key: str, value: str) -> FlowFile:
        rec = self._record(ff)
        if key == "uuid":
            return rec.current
        attrs = dict(rec.current._attrs)
        attrs[key] = str(value)
        new = rec.current._with_attrs(attrs)
        rec.current = new
        return new

    def put_attributes(self, ff: FlowFile, attributes: Mapping[str, str]) -> FlowFile:
        rec = self._record(ff)
        attrs = dict(rec.current._attrs)
        attrs.update(attributes)
        if "uuid" in attributes:
            attrs["uuid"] = rec.current._attrs["uuid"]
        new = rec.current._with_attrs(attrs)
        rec.current = new
        return new

    def remove_attribute(self, ff: FlowFile, key: str) -> FlowFile:
        return self.remove_attributes(ff, [key])

    def remove_attributes(
        self, ff: FlowFile, keys: Iterable[str] | re.Pattern[str]
    ) -> FlowFile:
        rec = self._record(ff)
        attrs = dict(rec.current._attrs)
        if isinstance(keys, re.Pattern):
            doomed = [k for k in attrs if keys.fullmatch(k)]
        else:
            doomed = list(keys)
        for k in doomed:
            if k not in PROTECTED_FROM_REMOVAL:
                attrs.pop(k, None)
        new = rec.current._with_attrs(attrs)
        rec.current = new
        return new

    # -- content -----------------------------------------------------------------------
    def _set_claim(self, rec: _Record, claim: ContentClaim | None) -> FlowFile:
        with self._guard:
            if self._terminated:  # written after the fence: nobody will commit it
                if claim is not None:
                    self._repo.decref(claim)
                self._check_terminated()
            cur = rec.current
            owned = self._owned
            if owned:
                old_owned = owned.pop(cur.id, None)
                if old_owned is not None:
                    self._repo.decref(old_owned)
            if claim is not None:
                owned[cur.id] = claim
                self._bytes_written += claim.length
            new = cur._with_claim(claim)
            rec.current = new
            return new

    def write(
        self,
        ff: FlowFile,
        data: Content | Iterable[bytes] | Callable[[BinaryIO], Any],
    ) -> FlowFile:
        rec = self._record(ff)
        repo = self._repo
        if isinstance(data, str):
            claim = repo.write_bytes(data.encode("utf-8"))
        elif isinstance(data, bytes | bytearray | memoryview):
            claim = repo.write_bytes(data)
        elif callable(data):
            w = repo.writer()
            try:
                data(w)  # type: ignore[arg-type]
            except BaseException:
                w.abort()
                raise
            w.close()
            assert w.claim is not None
            claim = w.claim
        else:
            claim = repo.write_chunks(data)
        return self._set_claim(rec, claim)

    def rewrite(
        self, ff: FlowFile, callback: Callable[[BinaryIO, BinaryIO], Any]
    ) -> FlowFile:
        rec = self._record(ff)
        w = self._repo.writer()
        try:
            with self._open_current(rec) as src:
                callback(src, w)  # type: ignore[arg-type]
        except BaseException:
            w.abort()
            raise
        w.close()
        assert w.claim is not None
        return self._set_claim(rec, w.claim)

    def append(self, ff: FlowFile, data: Content | Iterable[bytes]) -> FlowFile:
        rec = self._record(ff)
        if isinstance(data, str):
            data = data.encode("utf-8")
        w = self._repo.writer()
        try:
            with self._open_current(rec) as src:
                while chunk := src.read(1 << 20):
                    w.write(chunk)
            if isinstance(data, bytes | bytearray | memoryview):
                w.write(data)
            else:
                for chunk in data:
                    w.write(chunk)
        except BaseException:
            w.abort()
            raise
        w.close()
        assert w.claim is not None
        return self._set_claim(rec, w.claim)

    @contextmanager
    def _open_current(self, rec: _Record) -> Iterator[BinaryIO]:
        claim = rec.current.claim
        if claim is None or claim.length == 0:
            yield io.BytesIO(b"")
            return
        f = self._repo.open(claim)
        try:
            yield f
        finally:
            f.close()
        self._bytes_read += claim.length

    def read(self, ff: FlowFile) -> bytes:
        rec = self._record(ff)
        claim = rec.current.claim
        if claim is None or claim.length == 0:
            return b""
        self._bytes_read += claim.length
        return self._repo.read(claim)

    def open(self, ff: FlowFile) -> AbstractContextManager[BinaryIO]:
        return self._open_current(self._record(ff))

    def import_from(
        self,
        source: str | PathLike[str] | BinaryIO,
        ff: FlowFile | None = None,
        *,
        link: bool = False,
    ) -> FlowFile:
        target = ff if ff is not None else self.create()
        if isinstance(source, str | PathLike):
            rec = self._record(target)
            return self._set_claim(rec, self._repo.import_file(source, link=link))
        return self.write(target, iter(lambda: source.read(1 << 20), b""))

    def export_to(
        self, ff: FlowFile, destination: str | PathLike[str] | BinaryIO
    ) -> int:
        claim = self._record(ff).current.claim
        if isinstance(destination, str | PathLike):
            with open(Path(destination), "wb") as out:
                return self._export(claim, out)
        return self._export(claim, destination)

    def _export(self, claim: ContentClaim | None, out: BinaryIO) -> int:
        if claim is None or claim.length == 0:
            return 0
        n = self._repo.export(claim, out)
        self._bytes_read += n
        return n

    # -- routing -----------------------------------------------------------------------
    def penalize(self, ff: FlowFile) -> FlowFile:
        rec = self._record(ff)
        until = self._clock.monotonic() + self._host.penalty_duration
        new = rec.current._evolve(penalty_until=until)
        rec.current = new
        return new

    def transfer(
        self,
        ff: FlowFile | Sequence[FlowFile],
        relationship: Relationship | str | None = None,
    ) -> None:
        if relationship is None:
            name = _SELF
        else:
            name = (
                relationship.name
                if isinstance(relationship, Relationship)
                else relationship
            )
            if name not in self._host.relationship_names:
                self.rollback()
                raise FlowFileHandlingError(
                    f"relationship {name!r} is not known to {self._host.name}"
                    f" (known: {', '.join(sorted(self._host.relationship_names))})"
                )
        records = self._records
        for f in (ff,) if isinstance(ff, FlowFile) else ff:
            rec = records.get(f.id)
            if rec is None or rec.removed or rec.rel is not None:
                self._record(f)  # raises the precise error (and rolls back)
            assert rec is not None
            if name is _SELF and rec.source is None:
                self.rollback()
                raise FlowFileHandlingError(
                    f"{f!r} was created in this session and cannot be transferred to self"
                )
            rec.rel = name

    def remove(self, ff: FlowFile | Sequence[FlowFile]) -> None:
        for f in [ff] if isinstance(ff, FlowFile) else ff:
            self._record(f).removed = True

    def migrate(self, target: ProcessSession, flowfiles: Sequence[FlowFile]) -> None:
        if (
            not isinstance(target, StandardProcessSession)
            or target._host is not self._host
        ):
            raise FlowFileHandlingError(
                "FlowFiles can only migrate between sessions of one processor"
            )
        ids = set()
        for ff in flowfiles:
            rec = self._record(ff)
            ids.add(ff.id)
            del self._records[ff.id]
            target._records[ff.id] = rec
            claim = self._owned.pop(ff.id, None)
            if claim is not None:
                target._owned[ff.id] = claim
            if rec.original is not None and rec.source is not None:
                target._polled.setdefault(rec.source, []).append(rec.original)
        for conn in list(self._polled):
            kept = [f for f in self._polled[conn] if f.id not in ids]
            if kept:
                self._polled[conn] = kept
            else:
                del self._polled[conn]
        moved = [e for e in self._reported if e[1] in ids]
        if moved:
            self._reported = [e for e in self._reported if e[1] not in ids]
            target._reported.extend(moved)

    # -- state -------------------------------------------------------------------------
    def get_state(self) -> dict[str, str]:
        if self._state is not None:
            return dict(self._state)
        return self._host.runtime.flowfile_repository.load_state(self._host.id)

    def set_state(self, state: Mapping[str, str]) -> None:
        self._state = {str(k): str(v) for k, v in state.items()}

    # -- commit / rollback -------------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        return not self._records and self._state is None

    def commit(self) -> None:
        with self._guard:
            if self._terminated or self._host.fenced:
                self._terminated = True
                self._rollback()
                self._check_terminated()
            self._commit()

    def _commit(self) -> None:
        records = self._records
        if not records and self._state is None:
            return
        node = self._host
        if node.retry is not None:
            self._apply_retry(node.retry)
        runtime = node.runtime
        repo = self._repo
        now_ms = self._clock.time_ms()
        # One pass sorts FlowFiles by outcome; nothing is changed until it has checked
        # that every FlowFile has one (else: rollback and FlowFileHandlingError).
        routed: dict[str, list[FlowFile]] = {}
        to_self: list[_Record] = []
        removed: list[_Record] = []
        release: list[ContentClaim] = []
        for rec in records.values():
            rel = rec.rel
            cur = rec.current
            orig = rec.original
            if rel is None:
                if rec.removed:
                    removed.append(rec)
                    continue
                self._rollback()  # the commit holds the guard
                raise FlowFileHandlingError(
                    f"{cur!r} was neither transferred nor removed "
                    f"(transfer relationship not specified) in {node.name}"
                )
            # The queued original's claim is released when the content changed.
            if (
                orig is not None
                and orig.claim is not cur.claim
                and orig.claim is not None
            ):
                release.append(orig.claim)
            if rel is _SELF:
                to_self.append(rec)
                continue
            bucket = routed.get(rel)
            if bucket is None:
                routed[rel] = [cur]
            else:
                bucket.append(cur)

        owned = self._owned
        # What the session owned, to give back if the repository commit fails (a full
        # disk): ownership moves to the queues below, and a rollback that no longer saw
        # these claims would leak their content files until the next start.
        owned_before = dict(owned) if owned else None
        increfed: list[ContentClaim] = []
        placements: dict[Connection[Any], list[FlowFile]] = {}
        dropped: list[tuple[FlowFile, str]] = []
        fanout: list[tuple[FlowFile, FlowFile]] = []
        rel_counts: dict[str, int] = {}
        terminated: dict[str, int] = {}
        reasons: dict[str, str] = {}
        out_count = out_bytes = 0
        for rec in removed:
            cur = rec.current
            orig = rec.original
            if orig is not None and orig.claim is not None:
                release.append(orig.claim)
            if orig is not None:  # created-and-removed here: as if it never existed
                reason = cur._attrs.get("discard.reason") or "Removed by processor"
                dropped.append((cur, reason))
        for rec in to_self:
            owned.pop(rec.current.id, None)  # the queue holds its claim again
            placements.setdefault(rec.source, []).append(rec.current)  # type: ignore[arg-type]
        failed: list[tuple[str, FlowFile, int]] = []
        for rel, ffs in routed.items():
            rel_counts[rel] = len(ffs)
            is_failure = rel.endswith("failure") or rel in FAILURE_RELATIONSHIPS
            if is_failure:
                failed.append((rel, ffs[0], len(ffs)))  # logged once committed
            conns = node.connections_for(rel)
            if not conns:
                # Leaving the flow: the current claim is released whoever holds it (the
                # session for new content, else the queue the original sat in).
                reason = f"Auto-Terminated by {rel} Relationship"
                for cur in ffs:
                    if owned:
                        owned.pop(cur.id, None)
                    if cur.claim is not None:
                        release.append(cur.claim)
                    dropped.append((cur, reason))
                terminated[rel] = len(ffs)
                # the summary's "last error" is shown for failure relationships only
                why = failure_reason(ffs[-1]._attrs) if is_failure and ffs else None
                if why:
                    reasons[rel] = why
                continue
            size = 0
            for cur in ffs:
                size += cur.size
            if owned:
                for cur in ffs:
                    owned.pop(cur.id, None)  # ownership moves to the queue
            out_count += len(ffs) * len(conns)
            out_bytes += size * len(conns)
            target = placements.get(conns[0])
            if target is None:
                placements[conns[0]] = ffs
            else:
                target.extend(ffs)
            for extra in conns[1:]:
                copies = placements.setdefault(extra, [])
                for cur in ffs:
                    attrs = dict(cur._attrs)
                    attrs["uuid"] = new_uuid()
                    copy = FlowFile(
                        attrs,
                        cur.claim,
                        entry_date=cur.entry_date,
                        lineage_start_date=cur.lineage_start_date,
                        penalty_until=cur.penalty_until,
                    )
                    if cur.claim is not None:
                        repo.incref(cur.claim)
                        increfed.append(cur.claim)
                    copies.append(copy)
                    fanout.append((cur, copy))
        # Any claim the session still owns belongs to nothing that survives.
        if owned:
            release.extend(owned.values())
            owned.clear()

        events = (
            self._build_events(now_ms, dropped, fanout) if self._prov_enabled else None
        )
        ffrepo = runtime.flowfile_repository
        if ffrepo.durable or self._state is not None:
            delta = CommitDelta()
            if ffrepo.durable:
                for conn, ffs in placements.items():
                    cid = conn.id
                    delta.placed.extend((cid, f) for f in ffs)
                delta.dropped = [f for f, _ in dropped]
            if self._state is not None:
                delta.state[node.id] = self._state
            try:
                ffrepo.commit(delta)
            except BaseException:
                if increfed:
                    repo.decref_many(increfed)
                if owned_before is not None:
                    self._owned = owned_before  # the caller's rollback releases them
                raise
        if events:
            runtime.provenance.register(events)
        for conn, ffs in placements.items():
            conn.offer(ffs)
        in_count = in_bytes = 0
        for conn, ffs in self._polled.items():
            size = 0
            for f in ffs:
                size += f.size
            conn.acknowledge(len(ffs), size)
            in_count += len(ffs)
            in_bytes += size
        if release:
            repo.decref_many(release)
        node.record_commit(
            in_count,
            in_bytes,
            out_count,
            out_bytes,
            self._bytes_read,
            self._bytes_written,
            rel_counts,
            terminated,
            len(dropped),
            reasons,
        )
        for rel, first, n in failed:
            node.note_failure_routing(rel, first, n)
        self._reset()

    def _apply_retry(self, policy: RetryPolicy) -> None:
        """Relationship retry before commit (see :mod:`flowengine._engine._retry`): FlowFiles
        routed to a retried relationship go back to their queue as they were taken,
        with the attempt counted and a back-off; the counter leaves with the rest."""
        records = self._records
        if any(r.rel is None and not r.removed for r in records.values()):
            return  # the commit refuses this session anyway
        node = self._host
        key = policy.attribute(node.id)
        retried: set[str] = set()
        longest_yield = 0.0
        for rec in records.values():
            rel = rec.rel
            if rel is None or rel is _SELF:
                continue
            orig = rec.original
            cur = rec.current
            if rel in policy.relationships and orig is not None:
                try:
                    attempt = int(orig._attrs.get(key, "0"))
                except ValueError:
                    attempt = 0
                if attempt < policy.count:
                    attrs = dict(orig._attrs)
                    attrs[key] = str(attempt + 1)
                    until = orig.penalty_until
                    if policy.backoff == "penalize":
                        wait = policy.delay(node.penalty_duration, attempt)
                        until = self._clock.monotonic() + wait
                    else:
                        wait = policy.delay(node.schedule.yield_duration, attempt)
                        longest_yield = max(longest_yield, wait)
                    new_claim = self._owned.pop(cur.id, None)
                    if new_claim is not None:
                        self._repo.decref(new_claim)
                    rec.current = orig._evolve(attrs=attrs, penalty_until=until)
                    rec.rel = _SELF
                    rec.event_reported = True  # back as it came: nothing to report
                    retried.add(orig._attrs["uuid"])
                    continue
            if key in cur._attrs:  # leaving: the counter stays behind
                attrs = dict(cur._attrs)
                del attrs[key]
                rec.current = cur._evolve(attrs=attrs)
        if not retried:
            return
        # Children made from a retried FlowFile are discarded, as are the events the
        # trigger reported for it and for them.
        gone: set[int] = set()
        for fid, rec in list(records.items()):
            if rec.original is None and retried.intersection(rec.parents):
                claim = self._owned.pop(rec.current.id, None)
                if claim is not None:
                    self._repo.decref(claim)
                del records[fid]
                gone.add(fid)
        for rec in records.values():
            if rec.rel is _SELF and rec.current._attrs.get("uuid") in retried:
                gone.add(rec.current.id)
        self._reported = [r for r in self._reported if r[1] not in gone]
        if longest_yield:
            node.yield_for(longest_yield)

    def _build_events(
        self,
        now_ms: int,
        dropped: list[tuple[FlowFile, str]],
        fanout: list[tuple[FlowFile, FlowFile]],
    ) -> list[ProvenanceEvent]:
        node = self._host
        cid, ctype = node.id, node.type_name
        events: list[ProvenanceEvent] = []
        E = ProvenanceEventType

        def ev(etype: ProvenanceEventType, ff: FlowFile, **kw: Any) -> ProvenanceEvent:
            return ProvenanceEvent(
                etype,
                ff._attrs["uuid"],
                cid,
                ctype,
                timestamp_ms=now_ms,
                attributes=ff._attrs,
                size=ff.size,
                lineage_start_date=ff.lineage_start_date,
                entry_date=ff.entry_date,
                content_claim=None
                if ff.claim is None
                else f"{ff.claim.resource}:{ff.claim.offset}:{ff.claim.length}",
                **kw,
            )

        records = self._records
        for etype, fid, uri, details, rel, dur in self._reported:
            rec = records.get(fid)
            if rec is None:
                continue
            events.append(
                ev(
                    etype,
                    rec.current,
                    transit_uri=uri,
                    details=details,
                    relationship=rel,
                    duration_ms=dur,
                )
            )
        forks: dict[tuple[str, str], list[str]] = {}  # (kind, parent uuid) -> children
        for rec in records.values():
            cur = rec.current
            kind = rec.kind
            if kind == "created":
                if not rec.event_reported and not rec.removed:
                    events.append(ev(E.CREATE, cur))
            elif kind == "pulled":
                if rec.removed:
                    continue
                orig = rec.original
                assert orig is not None
                if orig.claim is not cur.claim:
                    if not rec.content_reported:
                        events.append(ev(E.CONTENT_MODIFIED, cur))
                elif (
                    not rec.event_reported
                    and orig._attrs is not cur._attrs
                    and orig._attrs != cur._attrs
                ):
                    events.append(ev(E.ATTRIBUTES_MODIFIED, cur))
            elif len(rec.parents) > 1:
                events.append(ev(E.JOIN, cur, parent_uuids=rec.parents))
            else:
                key = (kind, rec.parents[0])
                forks.setdefault(key, []).append(cur._attrs["uuid"])
        if forks:
            by_uuid = {r.current._attrs["uuid"]: r.current for r in records.values()}
            for (kind, parent), kids in forks.items():
                pff = by_uuid.get(parent)
                if pff is None:
                    continue
                etype = E.CLONE if kind == "clone" else E.FORK
                events.append(ev(etype, pff, child_uuids=tuple(kids)))
        for orig, copy in fanout:
            events.append(ev(E.CLONE, orig, child_uuids=(copy._attrs["uuid"],)))
        for ff, reason in dropped:
            events.append(ev(E.DROP, ff, details=reason))
        return events

    def rollback(self, penalize: bool = False, *, requeue: bool = True) -> None:
        with self._guard:
            self._rollback(penalize, requeue)

    def _rollback(self, penalize: bool = False, requeue: bool = True) -> None:
        """:meth:`rollback` with the guard already held."""
        if self._owned:
            self._repo.decref_many(list(self._owned.values()))
        if requeue:
            penalty = (
                self._clock.monotonic() + self._host.penalty_duration
                if penalize
                else 0.0
            )
            for conn, ffs in self._polled.items():
                if penalize:
                    ffs = [f._evolve(penalty_until=penalty) for f in ffs]
                conn.requeue(ffs)
        self._reset()

    def _terminate(self, timeout: float) -> int | None:
        """Fence this session (NiFi's "Terminate" of a stuck task): roll it back, the
        FlowFiles it took back to their queues, and make every later use of it by the
        abandoned trigger raise :class:`~flowengine._errors.TerminatedTaskError`.

        Called from the event loop's thread while the trigger may still run on its
        worker. Returns how many FlowFiles went back, or None when a commit already in
        progress did not finish within ``timeout`` seconds (it then completes or fails
        on its own; it started before the stop gave up on it, so its outcome is that of
        any commit cut short by the process ending: all or nothing)."""
        if not self._guard.acquire(timeout=timeout):
            self._terminated = True  # whatever it does after this commit is refused
            return None
        try:
            self._terminated = True
            held = sum(len(ffs) for ffs in self._polled.values())
            self._rollback()
            return held
        finally:
            self._guard.release()

    def _check_terminated(self) -> None:
        if self._terminated:
            raise TerminatedTaskError(
                f"the trigger of {self._host.name!r} was terminated when the run stopped: "
                "its session was rolled back and cannot be used any more"
            )

    def _reset(self) -> None:
        self._records = {}
        self._polled = {}
        self._group = None
        self._owned = {}
        self._reported = []
        self._state = None
        self._bytes_read = 0
        self._bytes_written = 0

    @property
    def flowfiles(self) -> list[FlowFile]:
        return [r.current for r in self._records.values()]
