"""A component placed in a running flow: processor, port or funnel.

The :class:`Node` wires a :class:`~flowengine.Processor` instance to its connections and
runs one trigger at a time per task: it decides whether a trigger may run (NiFi §3.2:
not yielded, work available, no outgoing connection full), runs it in a session (in a
worker thread for sync processors, on the loop for async ones), commits or rolls back, and
keeps the counters and bulletins that status snapshots read.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.to_thread

from .._api._flowfile import FlowFile
from .._api._processor import Processor
from .._api._relationship import Relationship
from .._api._schedule import Schedule
from .._errors import (
    CONFIGURATION_ATTEMPTS,
    CONFIGURATION_LOG_INTERVAL,
    CONFIGURATION_MAX_BACKOFF,
    ConfigurationError,
    ContentRepositoryFullError,
    ProcessException,
)
from .._status import (
    Bulletin,
    DrainFlush,
    ProcessorStatus,
    failure_reason,
    freeze_counts,
)
from ._connection import Connection
from ._retry import RetryPolicy
from ._standard_session import StandardProcessSession

if TYPE_CHECKING:
    from .._api._content import ContentRepository
    from .._api._context import ProcessContext
    from .._api._provenance import ProvenanceRepository
    from .._clock import Clock
    from .._repository._repository import FlowFileRepository

__all__ = ["Node", "RunState"]

_EMPTY: list[Connection[Node]] = []
#: the adaptive placement of sync triggers (``Processor.run_inline = None``): this many
#: consecutive worker triggers, each at most ``_SHORT_NS`` long and busy on the CPU for
#: at least ``_CPU_SHARE`` of it, move a processor to the loop thread; one inline
#: trigger longer than ``_LONG_NS`` moves it back to worker threads for good.
_PROMOTE_AFTER = 8
_SHORT_NS = 5_000_000
_CPU_SHARE = 0.7
_LONG_NS = 20_000_000
#: per worker thread: the nodes a running sync trigger has woken (see Node.notify)
_worker = threading.local()
MAX_BULLETINS = 20
#: how long the stop waits for a commit already in progress in an abandoned trigger's
#: worker thread before giving up on fencing it (see StandardProcessSession._terminate)
_FENCE_WAIT = 1.0


def current_session() -> StandardProcessSession | None:
    """The session of the sync trigger running on this worker thread, if any (the
    state manager refuses writes from a trigger whose session was terminated)."""
    session: StandardProcessSession | None = getattr(_worker, "session", None)
    return session


class RunState(Protocol):
    """What a node may see of the run it is part of (the engine's ``FlowRuntime``).

    The repositories and clock its sessions use; the event loop (wake-ups from worker
    threads) and the thread limiter (sync triggers); the count of running triggers the
    stop waits for; the cron timetable; and the halt of a run until drained that a
    ConfigurationError retrying did not cure. A node reads nothing else of the run.
    """

    content: ContentRepository
    flowfile_repository: FlowFileRepository
    provenance: ProvenanceRepository
    clock: Clock
    #: structlog logger bound to the flow
    logger: Any
    #: the run's event loop and its thread (None / -1 before the run starts)
    loop: asyncio.AbstractEventLoop | None
    loop_thread: int
    #: the anyio CapacityLimiter of worker threads for sync triggers
    thread_limiter: Any
    #: triggers running now, all nodes together (a stop waits for them)
    active_triggers: int
    until_drained: bool
    #: seconds an unexpected trigger failure yields its processor
    administrative_yield: float

    def next_cron_fire(self, node: Node) -> float:
        """The monotonic time of the node's next cron fire (0: not on cron)."""
        ...

    def halt(self, node: Node, error: ConfigurationError) -> None:
        """End a run until drained: the node cannot work as configured."""
        ...


class Node:
    """Runtime wrapper of one processor (ports and funnels are tiny processors too)."""

    def __init__(
        self,
        *,
        id: str,
        name: str,
        group: str,
        processor: Processor,
        relationships: Sequence[Relationship],
        schedule: Schedule,
        auto_terminated: set[str],
        runtime: RunState,
        kind: str = "processor",
        retry: RetryPolicy | None = None,
    ) -> None:
        self.id = id
        self.name = name
        self.group = group
        self.kind = kind
        self.processor = processor
        self.type_name = type(processor).type_name()
        self.relationships = tuple(relationships)
        self.relationship_names = frozenset(r.name for r in relationships)
        self.schedule = schedule
        self.auto_terminated = auto_terminated
        self.runtime = runtime
        self.penalty_duration = schedule.penalty_duration
        self.retry = retry
        self.incoming: list[Connection[Node]] = []
        self.outgoing: dict[str, list[Connection[Node]]] = {}
        self.context: ProcessContext | None = None
        self.is_async = type(processor).is_async()
        declared = type(processor).run_inline
        #: sync triggers run on the loop thread now (declared, or promoted by measure)
        self.run_inline = declared is True
        #: placement decided by measurement (see _PROMOTE_AFTER)
        self.adaptive = (
            declared is None and not self.is_async and schedule.concurrent_tasks == 1
        )
        self._short_streak = 0
        self._gated: list[Connection[Node]] | None = None
        self.trigger_when_empty = type(processor).trigger_when_empty
        self._poll_index = 0
        #: guards the counters and the isolation groups (``suspects``), see SessionHost
        self.lock = threading.Lock()
        # scheduling state
        self.running = False
        self.scheduled = False
        self.exhausted = False
        self.yielded_until = 0.0
        self.next_run_at = 0.0
        self._wake: asyncio.Event | None = None
        # counters
        self.flowfiles_in = self.bytes_in = 0
        self.flowfiles_out = self.bytes_out = 0
        self.bytes_read = self.bytes_written = 0
        self.dropped = 0
        self.triggers = 0
        self.trigger_ns = 0
        self.active = 0
        self.errors = 0
        self.failed_triggers = 0  # rolled back: not counted toward max_triggers
        self._failures_unlogged = 0
        self._failure_logged_at = -1e9
        #: ConfigurationErrors in a row (reset by a trigger that succeeds), and the
        #: rate limit of their log line (see _on_configuration_error)
        self.config_failures = 0
        self._config_repeats = 0
        self._config_logged_at = -1e9
        self.rel_counts: dict[str, int] = {}
        self.terminated: dict[str, int] = {}
        #: per auto-terminated relationship, why its last FlowFile went there (from its
        #: attributes, see :func:`~flowengine._status.failure_reason`): the summary's
        #: "last error" for processors that route to failure without a bulletin
        self.last_reasons: dict[str, str] = {}
        self.commits = 0
        self.bulletins: deque[Bulletin] = deque(maxlen=MAX_BULLETINS)
        # poison isolation (see _isolate): groups of FlowFiles of a failed batch waiting
        # to be retried on their own, still in flight on their connections; the
        # isolated failures per FlowFile uuid; and the FlowFiles reported as poison
        self.suspects: deque[list[tuple[Connection[Node], FlowFile]]] = deque()
        self._isolated_failures: dict[str, int] = {}
        self.poison: dict[str, str] = {}
        #: triggers abandoned when the run stopped (still running after the grace
        #: period, or at once on a second stop request): how many, how many FlowFiles
        #: their sessions held (rolled back), and how many could not be fenced because
        #: a commit was in progress (see StandardProcessSession._terminate)
        self.abandoned = 0
        self.abandoned_flowfiles = 0
        self.abandoned_unfenced = 0
        #: a trigger of this node was abandoned: no session of it may commit any more,
        #: not even one the processor made itself (``context.new_session()``) and
        #: commits from the abandoned thread (NiFi: a terminated processor's sessions
        #: are all unusable)
        self.fenced = False
        #: bins flushed below a minimum at drain: (unit, minimum) -> [bins, items]
        self._drain_flushes: dict[tuple[str, str], list[int]] = {}

    def __repr__(self) -> str:
        return f"Node({self.id!r}, {self.type_name})"

    # -- wiring ------------------------------------------------------------------------
    def connections_for(self, relationship: str) -> list[Connection[Node]]:
        return self.outgoing.get(relationship, _EMPTY)

    def next_poll_index(self) -> int:
        i = self._poll_index
        self._poll_index = i + 1
        return i

    @property
    def is_source(self) -> bool:
        """No incoming connection other than self-loops (NiFi treats it as a source)."""
        return all(c.is_self_loop for c in self.incoming)

    @property
    def finished(self) -> bool:
        """Will not be triggered again in this run."""
        mt = self.schedule.max_triggers
        # A trigger that failed (rolled back: produced nothing, e.g. disk full) does not
        # count: max_triggers: 10 means ten triggers that did their work.
        return self.exhausted or bool(mt and self.triggers - self.failed_triggers >= mt)

    # -- wake-ups ----------------------------------------------------------------------
    def notify(self) -> None:
        """Something changed that may make this node triggerable; safe from any thread."""
        ev = self._wake
        if ev is None or ev.is_set():
            return
        rt = self.runtime
        if threading.get_ident() == rt.loop_thread:
            ev.set()
            return
        deferred: set[Node] | None = getattr(_worker, "deferred", None)
        if deferred is not None:
            # A trigger running in a worker thread: wake-ups are delivered on the loop
            # when it returns. Each call_soon_threadsafe from a thread costs a GIL
            # hand-off (up to the 5 ms switch interval while the loop is busy).
            deferred.add(self)
        elif rt.loop is not None:
            # RuntimeError: the loop is closed, the run is over.
            with contextlib.suppress(RuntimeError):
                rt.loop.call_soon_threadsafe(ev.set)

    def fresh_wake_event(self) -> asyncio.Event:
        ev = self._wake
        if ev is None or ev.is_set():
            ev = self._wake = asyncio.Event()
        return ev

    # -- readiness (NiFi §3.2) ---------------------------------------------------------
    def ready_in(self, now: float) -> float | None:
        """0 when a trigger may run now; seconds until it may; None to wait for a wake-up."""
        if not self.running or self.finished:
            return None
        if self.yielded_until > now:
            return self.yielded_until - now
        if self.next_run_at > now:
            return self.next_run_at - now
        for conns in self.outgoing.values():
            for c in conns:
                if c.is_full() and not c.is_self_loop:
                    return None  # back pressure: acknowledge() downstream wakes us
        if self.run_inline and self._ahead_of_consumers(now):
            return None  # the consumer's commit (acknowledge) wakes us
        if self.suspects:
            return 0.0  # isolating a failed batch: retry its groups now
        if self.is_source:
            return 0.0
        best: float | None = None
        for c in self.incoming:
            na = c.next_available()
            if na is None:
                continue
            if na == 0.0:
                return 0.0
            best = na if best is None else min(best, na)
        if self.trigger_when_empty:
            return 0.0
        return None if best is None else max(best - now, 0.0)

    def _ahead_of_consumers(self, now: float) -> bool:
        """True while this loop-thread processor is a batch ahead of a running consumer
        that runs on the loop thread too (a batch: the larger of the two processors'
        batch sizes, so the consumer still takes full batches).

        Nothing runs in parallel on one thread, so filling such a queue up to back
        pressure gains nothing, and deep queues cost cache misses: a small-FlowFile flow
        ran ~25% slower with its queues full than with them short. Connections that are
        part of a cycle are left alone (two processors waiting on each other would never
        run), as are connections without a count threshold (no wake-up on progress), and
        consumers that are stopped or yielding (their queue fills as in NiFi).
        """
        gated = self._gated
        if gated is None:
            gated = self._gated = [
                c
                for conns in self.outgoing.values()
                for c in conns
                if c.back_pressure_objects and not _reaches(c.destination, self)
            ]
        own = self.schedule.batch_size
        for c in gated:
            d = c.destination
            if (
                c.queued_count >= max(own, d.schedule.batch_size)  # a full batch waits
                and (d.run_inline or d.is_async)
                and d.running
                and d.yielded_until <= now
            ):
                return True
        return False

    # -- counters ----------------------------------------------------------------------
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
        with self.lock:
            self.commits += 1
            self.flowfiles_in += in_count
            self.bytes_in += in_bytes
            self.flowfiles_out += out_count
            self.bytes_out += out_bytes
            self.bytes_read += bytes_read
            self.bytes_written += bytes_written
            self.dropped += dropped
            rc = self.rel_counts
            for k, v in rel_counts.items():
                rc[k] = rc.get(k, 0) + v
            tc = self.terminated
            for k, v in terminated.items():
                tc[k] = tc.get(k, 0) + v
            if reasons:
                self.last_reasons.update(reasons)

    def note_failure_routing(self, relationship: str, ff: Any, n: int) -> None:
        """A commit routed ``n`` FlowFiles (``ff`` first) to a failure relationship: a
        WARN log line and a bulletin.

        Failures must never be silent (the reason otherwise lives only in provenance),
        but logging must stay cheap: at most one line per processor per second, carrying
        how many were routed since the last line, the first FlowFile and its reason.
        """
        self._failures_unlogged += n
        now = time.monotonic()
        if now - self._failure_logged_at < 1.0:
            return
        self._failure_logged_at = now
        attrs = ff.attributes
        reason = failure_reason(attrs)
        count, self._failures_unlogged = self._failures_unlogged, 0
        uuid = attrs.get("uuid")
        self.runtime.logger.warning(
            "flowfiles_routed_to_failure",
            processor=self.id,
            group=self.group,
            relationship=relationship,
            count=count,
            flowfile=uuid,
            reason=reason,
        )
        self.add_bulletin(
            "warning",
            f"routed to {relationship}: {reason or 'no reason attribute'}",
            uuid,
        )

    def note_drain_flush(self, items: int, unit: str, minimum: str) -> None:
        """One bin of ``items`` ``unit`` flushed below ``minimum`` at drain (see
        :meth:`ProcessContext.report_drain_flush`); summed per unit and minimum."""
        with self.lock:
            acc = self._drain_flushes.setdefault((unit, minimum), [0, 0])
            acc[0] += 1
            acc[1] += items

    def add_bulletin(
        self, level: str, message: str, flowfile_uuid: str | None = None
    ) -> None:
        self.bulletins.append(
            Bulletin(
                self.runtime.clock.time_ms(), level, self.id, message, flowfile_uuid
            )
        )

    def status(self) -> ProcessorStatus:
        with self.lock:
            if self.running:
                state = "running"
            elif self.finished:
                state = "finished"
            else:
                state = "stopped"
            return ProcessorStatus(
                id=self.id,
                name=self.name,
                type=self.type_name,
                group=self.group,
                state=state,
                flowfiles_in=self.flowfiles_in,
                bytes_in=self.bytes_in,
                flowfiles_out=self.flowfiles_out,
                bytes_out=self.bytes_out,
                bytes_read=self.bytes_read,
                bytes_written=self.bytes_written,
                flowfiles_dropped=self.dropped,
                triggers=self.triggers,
                trigger_time_s=self.trigger_ns / 1e9,
                active_tasks=self.active,
                errors=self.errors,
                relationship_counts=freeze_counts(self.rel_counts),
                bulletins=tuple(self.bulletins),
                poison=dict(self.poison),
                drain_flushes=tuple(
                    DrainFlush(bins, items, unit, minimum)
                    for (unit, minimum), (bins, items) in self._drain_flushes.items()
                ),
            )

    # -- triggering --------------------------------------------------------------------
    def yield_for(self, seconds: float | None) -> None:
        d = self.schedule.yield_duration if seconds is None else seconds
        self.yielded_until = max(self.yielded_until, self.runtime.clock.monotonic() + d)

    def _trigger_sync(self, session: StandardProcessSession) -> BaseException | None:
        assert self.context is not None
        try:
            self.processor.on_trigger(self.context, session)
            session.commit()
        except BaseException as exc:
            _note_inputs(exc, session)
            self._roll_back_failed(session, exc)
            return exc
        return None

    def _roll_back_failed(
        self, session: StandardProcessSession, exc: BaseException
    ) -> None:
        """Roll back a failed trigger; a failure with input starts (or continues) the
        isolation of its FlowFiles (the isolation rule, docs/architecture.md): a batch
        of several is split into groups retried alone, so the good FlowFiles commit; a
        FlowFile that fails alone is poison (see :meth:`_poisoned`).

        Disk full, a ConfigurationError and cancellation are nobody's FlowFile's fault:
        plain rollback, not penalized for disk full and configuration errors (the node
        yields or backs off), and never an isolation: the FlowFiles stay queued."""
        full = isinstance(exc, ContentRepositoryFullError | ConfigurationError)
        if (
            full
            or not session._polled
            or not isinstance(exc, Exception)  # cancellation, exit: not its input
        ):
            session.rollback(penalize=not full)
            return
        items = [(c, f) for c, ffs in session._polled.items() for f in ffs]
        first = session._group is None  # not already a group of an isolation
        session.rollback(requeue=False)
        if len(items) == 1:
            exc.isolated = True  # type: ignore[attr-defined]
            self._poisoned(items[0][0], items[0][1], exc)
            return
        # The error may name its FlowFile (content missing, ProcessException with a
        # uuid): take that one out alone at once; otherwise bisect.
        blamed = getattr(exc, "flowfile_uuid", None)
        hit = [i for i, (_, f) in enumerate(items) if f.get("uuid") == blamed]
        if hit:
            i = hit[0]
            groups = [[items[i]], items[:i] + items[i + 1 :]]
        else:
            half = (len(items) + 1) // 2
            groups = [items[:half], items[half:]]
        with self.lock:
            self.suspects.extendleft(reversed(groups))
        exc.isolating = len(items) if first else -len(items)  # type: ignore[attr-defined]

    def _poisoned(self, conn: Connection[Node], ff: FlowFile, exc: Exception) -> None:
        """One FlowFile failed its trigger alone: route it to ``failure`` with
        ``error.message`` when the processor has that relationship (connected or
        auto-terminated); otherwise keep it queued, penalized (NiFi's behaviour for,
        e.g., UpdateAttribute), and after ``poison_attempts`` such failures report it
        in the status and the run summary."""
        uuid = ff.get("uuid") or ""
        reason = f"{type(exc).__name__}: {exc}"
        if "failure" in self.relationship_names:
            session = StandardProcessSession(self)
            session._take(conn, [ff])
            out = session.put_attributes(
                ff, {"error.message": str(exc) or type(exc).__name__}
            )
            # penalized, as NiFi processors route to failure: a failure loop back
            # into this processor must not spin on it
            session.transfer(session.penalize(out), "failure")
            session.commit()
            self._isolated_failures.pop(uuid, None)
            exc.routed_to_failure = True  # type: ignore[attr-defined]
            return
        attempts = self._isolated_failures.get(uuid, 0) + 1
        self._isolated_failures[uuid] = attempts
        if attempts >= self.schedule.poison_attempts and uuid not in self.poison:
            self.poison[uuid] = reason
            exc.poison = attempts  # type: ignore[attr-defined]
        conn.requeue(
            [
                ff._evolve(
                    penalty_until=self.runtime.clock.monotonic() + self.penalty_duration
                )
            ]
        )
        exc.penalized = attempts  # type: ignore[attr-defined]

    def _trigger_in_worker(
        self, session: StandardProcessSession
    ) -> tuple[BaseException | None, set[Node], int, int]:
        """:meth:`_trigger_sync` on a worker thread, collecting the wake-ups it causes
        so the loop delivers them when the thread returns (see :meth:`notify`). The
        commit stays on the worker: with durable repositories it waits for the disk.
        Also returns the trigger's wall and thread-CPU nanoseconds."""
        deferred: set[Node] = set()
        _worker.deferred = deferred
        _worker.session = session
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        try:
            error = self._trigger_sync(session)
            wall, cpu = time.perf_counter_ns() - wall, time.thread_time_ns() - cpu
            return error, deferred, wall, cpu
        finally:
            _worker.deferred = None
            _worker.session = None

    def _observe_worker_trigger(self, wall_ns: int, cpu_ns: int) -> None:
        """Adaptive placement: count short CPU-bound worker triggers; promote."""
        if wall_ns <= _SHORT_NS and cpu_ns >= _CPU_SHARE * wall_ns:
            self._short_streak += 1
            if self._short_streak >= _PROMOTE_AFTER:
                self.run_inline = True
                self.runtime.logger.debug(
                    "processor_runs_inline", processor=self.id, group=self.group
                )
        else:
            self._short_streak = 0

    def _observe_inline_trigger(self, wall_ns: int, failed: bool) -> None:
        """Adaptive placement: a long inline trigger held up the whole loop; never
        again — back to worker threads for the rest of the run. A failed one goes back
        too: code that only works off the loop thread (``asyncio.run``,
        ``anyio.from_thread``) must not keep failing because of where we put it."""
        if wall_ns > _LONG_NS or failed:
            self.run_inline = False
            self.adaptive = False
            self.runtime.logger.info(
                "processor_moved_to_worker_threads",
                processor=self.id,
                group=self.group,
                trigger_ms=round(wall_ns / 1e6, 1),
            )

    async def trigger(self) -> None:
        """Run one trigger in a fresh session; commit, or roll back and report."""
        assert self.context is not None
        rt = self.runtime
        self.triggers += 1
        self.active += 1
        rt.active_triggers += 1
        session = StandardProcessSession(self)
        yielded_before = self.yielded_until
        start = time.perf_counter_ns()
        error: BaseException | None
        try:
            if self.is_async:
                try:
                    await self.processor.on_trigger(self.context, session)
                    session.commit()
                    error = None
                except BaseException as exc:
                    if isinstance(exc, anyio.get_cancelled_exc_class()):
                        self._abandon(session)
                        raise
                    _note_inputs(exc, session)
                    self._roll_back_failed(session, exc)
                    error = exc
            elif self.run_inline:
                error = self._trigger_sync(session)
                if self.adaptive:
                    self._observe_inline_trigger(
                        time.perf_counter_ns() - start, error is not None
                    )
            else:
                try:
                    # abandon_on_cancel: a thread cannot be cancelled; when the run
                    # stops for good (grace period over, second signal) the loop stops
                    # waiting for it and fences its session instead.
                    error, woken, wall, cpu = await anyio.to_thread.run_sync(
                        self._trigger_in_worker,
                        session,
                        limiter=rt.thread_limiter,
                        abandon_on_cancel=True,
                    )
                except anyio.get_cancelled_exc_class():
                    self._abandon(session)
                    raise
                for node in woken:
                    node.notify()
                if self.adaptive:
                    self._observe_worker_trigger(wall, cpu)
        finally:
            self.trigger_ns += time.perf_counter_ns() - start
            self.active -= 1
            rt.active_triggers -= 1
        if error is not None:
            self._on_error(error)
        elif self.config_failures:
            self._recovered()
        if self.yielded_until != yielded_before:
            return  # the processor asked to wait: its yield, not the period, decides
        period = self.schedule.period
        if period > 0 and self.schedule.strategy == "timer":
            self.next_run_at = rt.clock.monotonic() + period
        elif self.schedule.strategy == "cron":
            self.next_run_at = rt.next_cron_fire(self)

    def _abandon(self, session: StandardProcessSession) -> None:
        """The run stopped while this trigger was still running: fence its session
        (rolled back, FlowFiles back to their queues; the trigger's thread, if it ever
        returns, can no longer commit anything) and count it for the run summary."""
        self.fenced = True
        held = session._terminate(_FENCE_WAIT)
        self.abandoned += 1
        if held is None:
            self.abandoned_unfenced += 1
        else:
            self.abandoned_flowfiles += held
        outcome = (
            "its commit was in progress and was left to finish"
            if held is None
            else f"its session was rolled back ({held} FlowFile(s) back in their queues)"
        )
        self.add_bulletin("error", f"trigger abandoned at stop; {outcome}")
        self.runtime.logger.warning(
            "trigger_abandoned",
            processor=self.id,
            group=self.group,
            flowfiles=held,
            rolled_back=held is not None,
        )

    def _on_isolated_error(
        self, error: BaseException, msg: str, uuid: str | None, log: Any
    ) -> None:
        """One line per poison FlowFile: when it is routed to failure, when it first
        fails alone, and when it is reported as poison; the traceback only at debug."""
        if getattr(error, "routed_to_failure", False):
            self.add_bulletin("warning", f"routed to failure: {msg}", uuid)
            log.warning("flowfile_isolated_to_failure", flowfile=uuid, error=msg)
        else:
            attempts = getattr(error, "penalized", 1)
            if attempts == 1:
                self.add_bulletin("error", msg, uuid)
                log.error("flowfile_isolated_penalized", flowfile=uuid, error=msg)
            if getattr(error, "poison", 0):
                self.add_bulletin(
                    "error", f"poison FlowFile after {attempts} attempts: {msg}", uuid
                )
                log.error(
                    "poison_flowfile", flowfile=uuid, attempts=attempts, error=msg
                )
        if not isinstance(error, ProcessException):
            log.debug(
                "isolated_trigger_traceback",
                flowfile=uuid,
                traceback="".join(traceback.format_exception(error)).rstrip(),
            )

    def _on_error(self, error: BaseException) -> None:
        self.errors += 1
        self.failed_triggers += 1
        uuid = getattr(error, "flowfile_uuid", None)
        msg = f"{type(error).__name__}: {error}"
        log = self.runtime.logger.bind(processor=self.id, group=self.group)
        isolating = getattr(error, "isolating", 0)
        if isolating:
            # A batch failed: its groups are retried at once (no yield); the FlowFile
            # at fault is logged when it is found, once, not each bisection step.
            if isolating > 0:
                self.add_bulletin(
                    "warning", f"batch of {isolating} failed, isolating: {msg}", uuid
                )
                log.warning("batch_failed_isolating", error=msg, flowfiles=isolating)
            else:
                self.errors -= 1  # one failure of the batch, counted when it began
                log.debug("batch_isolation_step", error=msg, flowfiles=-isolating)
            return
        if getattr(error, "isolated", False):
            self._on_isolated_error(error, msg, uuid, log)
            return
        if isinstance(error, ConfigurationError):
            self._on_configuration_error(error, msg, log)
            return
        if isinstance(error, ContentRepositoryFullError):
            # Out of space: yield and retry when space may have returned (NiFi blocks
            # writers on content back pressure); not an administrative yield.
            self.add_bulletin(
                "warning",
                f"content repository full; yielding and retrying: {error}",
                uuid,
            )
            log.warning("content_repository_full", error=msg)
            self.yield_for(None)
            return
        self.add_bulletin("error", msg, uuid)
        held = len(getattr(error, "flowfile_uuids", ()))
        if isinstance(error, ProcessException):
            log.error("processing_failed", error=msg, flowfile=uuid, flowfiles=held)
        else:
            # Unexpected: NiFi logs and administratively yields the processor.
            tb = "".join(traceback.format_exception(error)).rstrip()
            log.error(
                "trigger_failed", error=msg, flowfile=uuid, flowfiles=held, traceback=tb
            )
            self.yield_for(self.runtime.administrative_yield)

    def _on_configuration_error(
        self, error: ConfigurationError, msg: str, log: Any
    ) -> None:
        """The processor cannot work as configured (see :class:`ConfigurationError`):
        in a run until drained, stop the run after CONFIGURATION_ATTEMPTS in a row;
        otherwise back off exponentially. The log line and the bulletin are rate-limited
        to one per CONFIGURATION_LOG_INTERVAL, carrying the repeats in between."""
        self.config_failures += 1
        n = self.config_failures
        rt = self.runtime
        halt = rt.until_drained and n >= CONFIGURATION_ATTEMPTS
        delay = min(
            self.schedule.yield_duration * (1 << min(n - 1, 30)),
            CONFIGURATION_MAX_BACKOFF,
        )
        if not rt.until_drained:
            # A yield overrides the timer period (NiFi does the same, NIFI-1452): a
            # service never retries sooner than the processor's own schedule would. A
            # drained run retries on the backoff alone, to end (or recover) soon.
            delay = max(delay, self.schedule.period)
        now = rt.clock.monotonic()
        if halt or n == 1 or now - self._config_logged_at >= CONFIGURATION_LOG_INTERVAL:
            self._config_logged_at = now
            repeats, self._config_repeats = self._config_repeats, 0
            code = f"{error.code}: " if error.code else ""
            where = f" ({error.resource})" if error.resource else ""
            self.add_bulletin(
                "error", f"cannot work as configured: {code}{error}{where}"
            )
            log.error(
                "processor_configuration_error",
                error=msg,
                code=error.code,
                resource=error.resource,
                hint=error.hint,
                attempts=n,
                repeats=repeats,
                retry_in=None if halt else round(delay, 3),
            )
        else:
            self._config_repeats += 1
        self.yield_for(delay)  # also while a halted run stops: no trigger in between
        if halt:
            rt.halt(self, error)

    def _recovered(self) -> None:
        """A trigger succeeded after ConfigurationErrors: say so, reset the backoff."""
        self.runtime.logger.info(
            "processor_recovered",
            processor=self.id,
            group=self.group,
            failed_attempts=self.config_failures,
        )
        self.config_failures = 0
        self._config_repeats = 0
        self._config_logged_at = -1e9


def _reaches(start: Node, target: Node) -> bool:
    """Whether ``target`` is downstream of ``start`` (a cycle back to it)."""
    seen: set[int] = set()
    stack = [start]
    while stack:
        n = stack.pop()
        if n is target:
            return True
        if id(n) in seen:
            continue
        seen.add(id(n))
        for conns in n.outgoing.values():
            stack.extend(c.destination for c in conns)
    return False


def _note_inputs(error: BaseException, session: StandardProcessSession) -> None:
    """Record on a trigger's exception which FlowFiles it had taken (before the rollback
    returns them), so its bulletin and log line name the FlowFile when there was one."""
    if getattr(error, "flowfile_uuids", None) is not None:
        return
    uuids = [ff.get("uuid") for ffs in session._polled.values() for ff in ffs]
    with contextlib.suppress(AttributeError, TypeError):  # exceptions without __dict__
        error.flowfile_uuids = uuids  # type: ignore[attr-defined]
        if len(uuids) == 1 and getattr(error, "flowfile_uuid", None) is None:
            error.flowfile_uuid = uuids[0]  # type: ignore[attr-defined]
