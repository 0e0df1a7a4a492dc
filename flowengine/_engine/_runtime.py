"""The running flow: nodes, connections, services and the scheduler that drives them.

:class:`FlowRuntime` instantiates a validated :class:`~flowengine._engine._plan.Plan` and runs
it on anyio (asyncio backend). Each processor gets ``concurrent_tasks`` task loops; a loop
waits on the node's wake-up event (set when input arrives, back pressure clears, or a
penalty/yield/timer expires) instead of polling, so an idle flow costs nothing.

Life of a run: restore queued FlowFiles from the repository → enable services (dependencies
first) → ``on_scheduled`` every processor → task loops → stop (drained, timeout or request)
→ loops finish their current trigger (for at most the grace period) → triggers still
running are abandoned and their sessions fenced → ``on_unscheduled``/``on_stopped`` →
disable services.

Stopping (NiFi's graceful shutdown period, ``nifi.flowcontroller.graceful.shutdown.period``,
and its "Terminate" of stuck tasks): a stop (timeout, drained, :meth:`FlowRuntime.request_stop`)
lets running triggers finish for ``grace_period`` seconds (default
:data:`DEFAULT_GRACE_PERIOD`); :meth:`FlowRuntime.request_stop` with ``immediately=True``
(the CLI's second signal) skips what is left of it. Then every trigger still running is
*abandoned*: a sync trigger's worker thread cannot be interrupted, so the loop stops
waiting for it and fences its session (rolled back, its FlowFiles back in their queues,
and nothing the thread does with it afterwards can commit, see
:meth:`StandardProcessSession._terminate`); an async trigger is cancelled and rolled
back. The repositories never see an abandoned trigger's work, so a durable rerun
processes its FlowFiles again: nothing lost, nothing committed twice.

Run until drained ends when every source is finished (exhausted or ``max_triggers``
reached), every connection is empty (queued and in flight) and no trigger runs; or when
a processor halts it (:meth:`FlowRuntime.halt`: a ``ConfigurationError`` that retrying
did not cure), with FlowFiles still queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel

from .._api._content import ContentRepository
from .._api._context import ProcessContext, PropertyValue, StateManager
from .._api._flowfile import FlowFile
from .._api._properties import PropertyDescriptor
from .._api._provenance import (
    ProvenanceEvent,
    ProvenanceEventType,
    ProvenanceRepository,
)
from .._api._service import (
    ConfigurationContext,
    ControllerService,
    ServiceState,
    transition,
)
from .._clock import Clock
from .._cron import CronSchedule
from .._errors import (
    ConfigurationError,
    ServiceError,
    TerminatedTaskError,
    ValidationError,
)
from .._logging import engine_logger
from .._repository._repository import CommitDelta, FlowFileRepository
from .._status import FlowStatus
from ._connection import Connection
from ._node import Node, _reaches, current_session
from ._plan import Plan, PlannedComponent
from ._ports import Funnel, InputPort, OutputPort, RootInputPort, RootOutputPort
from ._standard_session import StandardProcessSession

__all__ = ["FlowRuntime", "RunOutcome"]

BORED_YIELD = 0.01
#: gc thresholds while a flow runs (see FlowRuntime.run); Python's default is (700, 10, 10)
_RUN_GC_THRESHOLD = (50_000, 20, 100)
#: seconds a stop waits for running triggers before abandoning them (NiFi's
#: nifi.flowcontroller.graceful.shutdown.period defaults to 10 sec too)
DEFAULT_GRACE_PERIOD = 10.0


@dataclass
class RunOutcome:
    drained: bool = False
    timed_out: bool = False
    stopped: bool = False
    #: the stop skipped the grace period (``request_stop(immediately=True)``)
    stopped_at_once: bool = False
    #: the grace period the stop gave running triggers, in seconds
    grace_period: float = DEFAULT_GRACE_PERIOD
    error: BaseException | None = None
    #: (processor id, error) of processors that stopped a run until drained
    halted: list[tuple[str, ConfigurationError]] = field(default_factory=list)
    outputs: dict[str, list[FlowFile]] = field(default_factory=dict)
    orphans: int = 0


class FlowRuntime:
    """One run of a flow. Build, then ``await run()`` once."""

    def __init__(
        self,
        plan: Plan,
        *,
        content: ContentRepository,
        flowfile_repository: FlowFileRepository,
        provenance: ProvenanceRepository,
        clock: Clock | None = None,
        logger: Any = None,
        until_drained: bool = False,
        inputs: Mapping[str, Sequence[Any]] | None = None,
        collect_outputs: bool = True,
        administrative_yield: float = 30.0,
        max_threads: int = 10,
        processor_factory: Callable[[type[Any]], Any] | None = None,
        grace_period: float = DEFAULT_GRACE_PERIOD,
    ) -> None:
        if not grace_period >= 0:
            raise ValueError(f"grace_period must be >= 0 seconds, not {grace_period!r}")
        self.plan = plan
        self.content = content
        self.flowfile_repository = flowfile_repository
        self.provenance = provenance
        self.clock = clock or Clock()
        self.logger = logger if logger is not None else engine_logger(flow=plan.name)
        self.until_drained = until_drained
        self.collect_outputs = collect_outputs
        self.administrative_yield = administrative_yield
        self.max_threads = max_threads
        self.grace_period = float(grace_period)
        self.thread_limiter: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread = -1
        self.active_triggers = 0
        self.nodes: dict[str, Node] = {}
        self.connections: list[Connection[Node]] = []
        self.services: dict[str, ControllerService] = {}
        self.service_states: dict[str, ServiceState] = {}
        self.outputs: dict[str, list[FlowFile]] = {
            p: [] for p in plan.root_output_ports
        }
        self._inputs = dict(inputs or {})
        self._drained: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._halted: asyncio.Event | None = None
        self.halted: list[tuple[str, ConfigurationError]] = []
        self._hurry: asyncio.Event | None = None
        #: a stop asked for before the run created its events (see request_stop)
        self._stop_early: bool | None = None
        self._crons: dict[str, CronSchedule] = {}
        self._group_running: dict[str, bool] = dict.fromkeys(plan.groups, True)
        self._tg: Any = None
        self._build(processor_factory)

    # -- building ------------------------------------------------------------------------
    def _lookup_service(self, group: str) -> Callable[[str], Any]:
        def lookup(name: str) -> Any:
            path = group
            while True:
                sid = f"{path}.{name}" if path else name
                if sid in self.services:
                    state = self.service_states.get(sid)
                    if state is not ServiceState.ENABLED:
                        raise ServiceError(
                            f"controller service {sid!r} is not enabled ({state.value if state else 'unknown'})"
                        )
                    return self.services[sid]
                if not path:
                    raise ServiceError(
                        f"no controller service named {name!r} is visible from group {group or 'root'!r}"
                    )
                path = path.rpartition(".")[0]

        return lookup

    def _values(
        self, comp: PlannedComponent, lookup: Callable[[str], Any]
    ) -> tuple[dict[str, PropertyValue], dict[str, PropertyValue]]:
        declared = {
            d.name: PropertyValue(d, comp.declared.get(d.name), lookup)
            for d in comp.cls.property_descriptors
        }
        spec = comp.cls.dynamic_properties
        dynamic = {}
        for k, v in comp.dynamic.items():
            d = (
                spec.descriptor(k)
                if spec is not None
                else PropertyDescriptor(k, dynamic=True)
            )
            dynamic[k] = PropertyValue(d, v, lookup)
        return declared, dynamic

    def _build(self, factory: Callable[[type[Any]], Any] | None) -> None:
        plan = self.plan
        make = factory or (lambda cls: cls())
        for sid in plan.service_order:
            comp = plan.services[sid]
            self.services[sid] = make(comp.cls)
            self.service_states[sid] = ServiceState.DISABLED
        problems: list[str] = []
        for nid, pn in plan.nodes.items():
            if pn.kind == "processor":
                proc = make(pn.cls)
            elif pn.kind == "input_port" and not pn.group:
                proc = RootInputPort(self._inputs.get(pn.name, ()))
            elif pn.kind == "output_port" and not pn.group:
                proc = RootOutputPort(
                    self._collector(pn.name) if self.collect_outputs else None
                )
            elif pn.kind == "input_port":
                proc = InputPort()
            elif pn.kind == "output_port":
                proc = OutputPort()
            else:
                proc = Funnel()
            rels = (
                pn.relationships if pn.kind == "processor" else type(proc).relationships
            )
            node = Node(
                id=nid,
                name=pn.name,
                group=pn.group,
                processor=proc,
                relationships=rels,
                schedule=pn.schedule,
                auto_terminated=set(pn.auto_terminated),
                runtime=self,
                kind=pn.kind,
                retry=pn.retry,
            )
            self.nodes[nid] = node
            lookup = self._lookup_service(pn.group)
            declared, dynamic = (
                self._values(pn, lookup) if pn.kind == "processor" else ({}, {})
            )
            node.context = self._context(node, declared, dynamic, lookup)
            if pn.schedule.strategy == "cron" and pn.schedule.cron:
                self._crons[nid] = CronSchedule(pn.schedule.cron)
        for pc in plan.connections:
            conn = Connection(
                pc.id,
                self.nodes[pc.source],
                pc.relationships,
                self.nodes[pc.destination],
                clock=self.clock,
                back_pressure_objects=pc.back_pressure_objects,
                back_pressure_size=pc.back_pressure_size,
                expiration=pc.expiration,
                prioritizers=pc.prioritizers,
                name=pc.name,
                swap=self.flowfile_repository.swap_store(pc.id),
            )
            conn.on_expired = self._expire
            self.connections.append(conn)
            self.nodes[pc.destination].incoming.append(conn)
            for r in pc.relationships:
                self.nodes[pc.source].outgoing.setdefault(r, []).append(conn)
        for node in self.nodes.values():
            if node.kind == "processor":
                assert node.context is not None
                try:
                    extra = node.processor.custom_validate(node.context)
                except (
                    Exception
                ) as exc:  # a plugin bug must not hide the others' problems
                    extra = [f"custom validation failed: {type(exc).__name__}: {exc}"]
                problems.extend(f"processor {node.id!r}: {m}" for m in extra)
        if problems:
            raise ValidationError(problems)

    def _context(
        self,
        node: Node,
        declared: dict[str, PropertyValue],
        dynamic: dict[str, PropertyValue],
        lookup: Callable[[str], Any],
    ) -> ProcessContext:
        repo = self.flowfile_repository

        def store(state: dict[str, str]) -> None:
            session = current_session()
            if session is None:
                repo.commit(CommitDelta(state={node.id: state}))
                return
            with session._guard:  # an abandoned trigger's state write is fenced too
                if session._terminated or node.fenced:
                    raise TerminatedTaskError(
                        f"the trigger of {node.name!r} was terminated when the run "
                        "stopped: its state change was not stored"
                    )
                repo.commit(CommitDelta(state={node.id: state}))

        return ProcessContext(
            name=node.name,
            id=node.id,
            properties=declared,
            dynamic_properties=dynamic,
            relationships=node.relationships,
            schedule=node.schedule,
            logger=self.logger.bind(processor=node.id, group=node.group or "root"),
            state=StateManager(lambda: repo.load_state(node.id), store),
            services=lookup,
            yield_fn=node.yield_for,
            exhaust_fn=lambda: self._exhaust(node),
            bulletin_fn=node.add_bulletin,
            session_factory=lambda: StandardProcessSession(node),
            is_draining=self.until_drained,
            monotonic=self.clock.monotonic,
            upstream_exhausted=lambda: self.upstream_exhausted(node),
            drain_flush_fn=node.note_drain_flush,
        )

    def _collector(self, port: str) -> Callable[[list[FlowFile]], None]:
        sink = self.outputs[port]
        content = self.content

        def collect(flowfiles: list[FlowFile]) -> None:
            for ff in flowfiles:
                if ff.claim is not None:
                    content.incref(ff.claim)  # the result holds the content now
            sink.extend(flowfiles)

        return collect

    # -- drops outside sessions ---------------------------------------------------------------
    def _expire(self, conn: Connection[Node], flowfiles: list[FlowFile]) -> None:
        delta = CommitDelta(dropped=list(flowfiles))
        if self.flowfile_repository.durable:
            self.flowfile_repository.commit(delta)
        if self.provenance.enabled:
            now = self.clock.time_ms()
            self.provenance.register(
                [
                    ProvenanceEvent(
                        ProvenanceEventType.EXPIRE,
                        ff._attrs["uuid"],
                        conn.id,
                        "Connection",
                        timestamp_ms=now,
                        attributes=ff._attrs,
                        size=ff.size,
                        lineage_start_date=ff.lineage_start_date,
                        entry_date=ff.entry_date,
                        details=f"Expiration Threshold = {conn.expiration:g} sec",
                    )
                    for ff in flowfiles
                ]
            )
        self.content.decref_many([ff.claim for ff in flowfiles if ff.claim is not None])
        self.logger.debug("flowfiles_expired", connection=conn.id, count=len(flowfiles))

    def _exhaust(self, node: Node) -> None:
        node.exhausted = True
        self.check_drained()

    # -- scheduling ------------------------------------------------------------------------
    def next_cron_fire(self, node: Node) -> float:
        cron = self._crons.get(node.id)
        if cron is None:
            return 0.0
        now_wall = self.clock.time_ms() / 1000
        nxt = cron.next_after(now_wall)
        return self.clock.monotonic() + (nxt - now_wall)

    def upstream_exhausted(self, node: Node) -> bool:
        """True in run-until-drained mode when nothing more can reach ``node``: every
        source finished, nothing queued anywhere, no other trigger running, and no
        FlowFile held in flight by a node from which it could reach ``node``.

        FlowFiles another node holds across triggers (MergeRecord's bins behind the same
        router) cannot reach ``node`` unless that node is upstream of it: counting them
        made two merges side by side wait for each other forever (issue 23.7). So do
        triggers running elsewhere: only one running upstream of ``node`` can still send
        it something. Counting every other running trigger made merges side by side
        that trigger together (both yielded by the same duration, so in step) see each
        other and yield again, for as long as they stayed in step.
        """
        if not self.until_drained or node.active > 1:
            return False
        if any(
            n.active and n is not node and _reaches(n, node)
            for n in self.nodes.values()
        ):
            return False
        if any(
            n.is_source and not n.finished and n is not node
            for n in self.nodes.values()
        ):
            return False
        for c in self.connections:
            if c.queued_count:
                return False
            if (
                c.destination is not node
                and not c.is_empty()
                and _reaches(c.destination, node)
            ):
                return False
        return True

    def check_drained(self) -> None:
        if not self.until_drained or self._drained is None or self._drained.is_set():
            return
        if self.active_triggers:
            return
        for n in self.nodes.values():
            if n.is_source and not n.finished and n.running:
                return
        for c in self.connections:
            if not c.is_empty():
                return
        self._drained.set()

    async def _wait(self, ev: asyncio.Event, timeout: float | None) -> None:  # noqa: ASYNC109 - an internal wait helper, not an API
        if timeout is None:
            await ev.wait()
            return
        if type(self.clock) is Clock:
            with anyio.move_on_after(timeout):
                await ev.wait()
            return
        async with anyio.create_task_group() as tg:

            async def sleeper() -> None:
                await self.clock.sleep(timeout)
                tg.cancel_scope.cancel()

            async def waiter() -> None:
                await ev.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(sleeper)
            tg.start_soon(waiter)

    async def _loop(self, node: Node) -> None:
        clock = self.clock
        while node.running:
            ev = node.fresh_wake_event()
            wait = node.ready_in(clock.monotonic())
            if wait == 0.0:
                before = node.commits
                await node.trigger()
                if node.commits == before and (
                    node.is_source or node.trigger_when_empty
                ):
                    # Nothing happened: NiFi's "bored yield" keeps idle triggers cheap.
                    node.next_run_at = max(
                        node.next_run_at, clock.monotonic() + BORED_YIELD
                    )
                self.check_drained()
                await anyio.lowlevel.checkpoint()
                continue
            if node.finished or not node.running:
                self.check_drained()
                if not node.running:
                    break
            await self._wait(ev, wait)

    # -- lifecycle ---------------------------------------------------------------------------
    def _enable_services(self) -> None:
        for sid in self.plan.service_order:
            comp = self.plan.services[sid]
            svc = self.services[sid]
            lookup = self._lookup_service(comp.group)
            declared, dynamic = self._values(comp, lookup)
            ctx = ConfigurationContext(
                name=sid,
                properties=declared,
                dynamic_properties=dynamic,
                services=lookup,
                logger=self.logger.bind(service=sid),
            )
            self.service_states[sid] = transition(self.service_states[sid], "enable")
            try:
                svc.on_enabled(ctx)
            except Exception as exc:
                self.logger.error(
                    "service_enable_failed",
                    service=sid,
                    error=f"{type(exc).__name__}: {exc}",
                )
                raise ServiceError(
                    f"controller service {sid!r} could not be enabled: {type(exc).__name__}: {exc}"
                ) from exc
            self.service_states[sid] = transition(self.service_states[sid], "enabled")
            self.logger.debug("service_enabled", service=sid)

    def _disable_services(self) -> None:
        for sid in reversed(self.plan.service_order):
            if self.service_states.get(sid) is not ServiceState.ENABLED:
                continue
            self.service_states[sid] = transition(self.service_states[sid], "disable")
            try:
                self.services[sid].on_disabled()
            except Exception as exc:
                self.logger.warning(
                    "service_disable_failed",
                    service=sid,
                    error=f"{type(exc).__name__}: {exc}",
                )
            self.service_states[sid] = transition(self.service_states[sid], "disabled")

    def _restore(self) -> int:
        by_id = {c.id: c for c in self.connections}
        pending: dict[str, list[FlowFile]] = {}
        orphans = 0
        for qid, ff in self.flowfile_repository.restore():
            conn = by_id.get(qid)
            if conn is None:
                orphans += 1
                continue
            pending.setdefault(qid, []).append(ff)
        for qid, ffs in pending.items():
            by_id[qid].offer(ffs)
        if pending:
            self.logger.info(
                "flowfiles_restored", count=sum(len(v) for v in pending.values())
            )
        if orphans:
            self.logger.warning(
                "orphaned_flowfiles_kept",
                count=orphans,
                hint="their queue is no longer in the flow; they stay in the repository",
            )
        return orphans

    def _schedule_node(self, node: Node) -> bool:
        assert node.context is not None
        try:
            node.processor.on_scheduled(node.context)
        except Exception as exc:
            msg = f"on_scheduled failed: {type(exc).__name__}: {exc}"
            node.add_bulletin("error", msg)
            node.errors += 1
            self.logger.error("processor_start_failed", processor=node.id, error=msg)
            return False
        node.scheduled = True
        return True

    def _stop_node(self, node: Node) -> None:
        if not node.scheduled:
            return
        assert node.context is not None
        node.scheduled = False
        for hook in (node.processor.on_unscheduled, node.processor.on_stopped):
            try:
                hook(node.context)
            except Exception as exc:
                self.logger.warning(
                    "processor_stop_hook_failed",
                    processor=node.id,
                    error=f"{type(exc).__name__}: {exc}",
                )

    async def _run_node(self, node: Node) -> None:
        """Schedule (retrying ``on_scheduled`` after the administrative yield, as NiFi
        does), then run the node's task loops until it stops."""
        while node.running and not self._schedule_node(node):
            with anyio.move_on_after(self.administrative_yield):
                assert self._stop is not None
                await self._stop.wait()
        if not node.running:
            return
        if node.id in self._crons:
            # NiFi's CRON-driven agent first fires at the next matching time, not at start.
            node.next_run_at = max(node.next_run_at, self.next_cron_fire(node))
        tasks = 1 if node.kind != "processor" else node.schedule.concurrent_tasks
        async with anyio.create_task_group() as tg:
            for _ in range(tasks):
                tg.start_soon(self._loop, node)

    def stop_group(self, path: str) -> None:
        """Stop every component of a group and its descendants (they finish their
        current trigger). FlowFiles stay queued."""
        for g in self._group_running:
            if g == path or g.startswith(path + ".") or not path:
                self._group_running[g] = False
        for node in self.nodes.values():
            if node.group == path or node.group.startswith(path + ".") or not path:
                node.running = False
                node.notify()

    def start_group(self, path: str) -> None:
        """Start a stopped group (and its descendants) again."""
        assert self._tg is not None
        for g in self._group_running:
            if g == path or g.startswith(path + "."):
                self._group_running[g] = True
        for node in self.nodes.values():
            if (
                node.group == path or node.group.startswith(path + ".")
            ) and not node.running:
                node.running = True
                self._tg.start_soon(self._run_node, node)

    def halt(self, node: Node, error: ConfigurationError) -> None:
        """A processor cannot work as configured and the run is until drained: end
        the run (gracefully, like a stop request; FlowFiles stay queued) and report it.
        Called on the loop thread (from the node's error handling)."""
        if any(nid == node.id for nid, _ in self.halted):
            return  # another of its concurrent tasks got there first
        self.halted.append((node.id, error))
        if self._halted is not None:
            self._halted.set()

    def request_stop(self, *, immediately: bool = False) -> None:
        """Ask the run to stop; safe from any thread. Gracefully: running triggers
        get the grace period to finish. ``immediately`` (the CLI's second signal):
        no grace, or no more of it — triggers still running are abandoned at once and
        their sessions rolled back and fenced (see the module docstring)."""
        if self._stop is None or self.loop is None:
            # Not running yet: the run stops as soon as it has started.
            self._stop_early = bool(self._stop_early) or immediately
            return
        if threading.get_ident() == self.loop_thread:
            self._set_stop(immediately)
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: run over
                self.loop.call_soon_threadsafe(self._set_stop, immediately)

    def _set_stop(self, immediately: bool) -> None:
        assert self._stop is not None
        assert self._hurry is not None
        self._stop.set()
        if immediately:
            self._hurry.set()

    async def _sweeper(self) -> None:
        conns = [c for c in self.connections if c.expiration > 0]
        while True:
            await anyio.sleep(1.0)
            for c in conns:
                c.sweep_expired()
            self.check_drained()

    async def run(self, timeout: float | None = None) -> RunOutcome:  # noqa: ASYNC109 - run()'s documented timeout
        """Run until drained (if asked), until ``timeout`` seconds, or until stopped.

        While it runs, the cyclic garbage collector's thresholds are raised (and then
        restored): queues hold hundreds of thousands of FlowFile objects that are never
        cyclic garbage, and with the default thresholds full collections over them took
        about a third of the time of a small-FlowFile flow.
        """
        saved = gc.get_threshold()
        gc.set_threshold(*_RUN_GC_THRESHOLD)
        try:
            return await self._run(timeout)
        finally:
            gc.set_threshold(*saved)

    async def _run(self, timeout: float | None) -> RunOutcome:  # noqa: ASYNC109 - internal body of run()
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.thread_limiter = anyio.CapacityLimiter(self.max_threads)
        self._drained = asyncio.Event()
        self._stop = asyncio.Event()
        self._halted = asyncio.Event()
        self._hurry = asyncio.Event()
        if self._stop_early is not None:
            self._set_stop(self._stop_early)
        outcome = RunOutcome(
            outputs=self.outputs, halted=self.halted, grace_period=self.grace_period
        )
        outcome.orphans = self._restore()
        self._enable_services()
        started = time.monotonic()
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                for node in self.nodes.values():
                    node.running = True
                for node in self.nodes.values():
                    tg.start_soon(self._run_node, node)
                if (
                    any(c.expiration > 0 for c in self.connections)
                    or self.until_drained
                ):
                    tg.start_soon(self._sweeper)
                self.check_drained()
                deadline = math.inf if timeout is None else timeout
                with anyio.move_on_after(deadline) as scope:
                    waits = [self._stop.wait()]
                    if self.until_drained:
                        waits.append(self._drained.wait())
                        waits.append(self._halted.wait())
                    await _first(waits)
                outcome.timed_out = scope.cancelled_caught
                outcome.drained = self._drained.is_set() and not self.halted
                outcome.stopped = self._stop.is_set()
                for node in self.nodes.values():
                    node.running = False
                    node.notify()
                await self._grace()
                outcome.stopped_at_once = self._hurry.is_set()
                tg.cancel_scope.cancel()  # abandons (and fences) what still runs
        finally:
            for node in self.nodes.values():
                self._stop_node(node)
            self._disable_services()
            self.logger.debug(
                "flow_stopped", seconds=round(time.monotonic() - started, 3)
            )
        return outcome

    async def _grace(self) -> None:
        """Graceful stop: loops finish their current trigger, for at most the grace
        period, less if a stop ``immediately`` comes meanwhile."""
        assert self._hurry is not None
        hurry = self._hurry
        nodes = list(self.nodes.values())
        with anyio.move_on_after(self.grace_period):
            while not hurry.is_set() and any(n.active for n in nodes):  # noqa: ASYNC110 - bounded grace-period poll of trigger counters
                await anyio.sleep(0.005)
        stuck = {n.id: n.active for n in nodes if n.active}
        if stuck:
            self.logger.warning(
                "stopping_with_triggers_running",
                processors=stuck,
                grace_period=self.grace_period,
                at_once=hurry.is_set(),
                hint="their sessions are rolled back; a durable rerun processes "
                "their FlowFiles again",
            )

    def status(self) -> FlowStatus:
        return FlowStatus(
            flow=self.plan.name,
            time_ms=self.clock.time_ms(),
            processors=tuple(n.status() for n in self.nodes.values()),
            connections=tuple(c.statistics() for c in self.connections),
            background=(
                self.content.background_status()
                + self.flowfile_repository.background_status()
                + self.provenance.background_status()
            ),
        )


async def _first(waits: list[Any]) -> None:
    """Return when the first of the awaitables finishes."""
    async with anyio.create_task_group() as tg:

        async def one(w: Any) -> None:
            await w
            tg.cancel_scope.cancel()

        for w in waits:
            tg.start_soon(one, w)
