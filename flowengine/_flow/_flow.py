"""Flow: a root process group you can validate and run, and the result of a run.

The embedding API: build a flow in Python (or :func:`flowengine.load` one from YAML), then
``flow.run(until_drained=True, inputs={...})``. The same Flow object can run many times in
one process; each run gets fresh repositories unless a state directory is given.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio

from .._api._content import ContentRepository
from .._api._flowfile import FlowFile
from .._clock import Clock
from .._engine._plan import Plan
from .._errors import FlowEngineError, ValidationError
from .._flow_format import SETTINGS
from .._status import DrainFlush, FlowStatus, ProcessorStatus
from ._definition import Location, ProcessGroup
from ._registry import Registry, default_registry
from ._validation import FlowProblem, plan_flow

__all__ = ["AbandonedTriggers", "Failure", "Flow", "Halt", "RunResult"]

#: the declared defaults of the settings (``flowengine._flow_format``)
_SETTING = SETTINGS.defaults()


@dataclass(frozen=True)
class Failure:
    """FlowFiles that ended in an auto-terminated failure-type relationship."""

    processor: str
    relationship: str
    count: int
    last_error: str | None = None

    def __str__(self) -> str:
        err = f" (last error: {self.last_error})" if self.last_error else ""
        return f"{self.count} FlowFile(s) from {self.processor!r} to {self.relationship!r}{err}"


@dataclass(frozen=True)
class Halt:
    """A processor that ended a run until drained: it could not work as configured
    (a :class:`~flowengine.ConfigurationError`; its FlowFiles are still queued)."""

    processor: str
    message: str
    code: str | None = None
    resource: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        code = f"{self.code}: " if self.code else ""
        where = f" ({self.resource})" if self.resource else ""
        check = f"; check {self.hint}" if self.hint else ""
        return f"processor {self.processor!r}: {code}{self.message}{where}{check}"


@dataclass(frozen=True)
class AbandonedTriggers:
    """Triggers of one processor still running when the run stopped for good (after
    the grace period, or at once on a second stop request): abandoned, their sessions
    rolled back and fenced (see docs/durability.md, "Stopping a run")."""

    processor: str
    count: int
    #: FlowFiles their sessions held, back in their queues (a durable rerun does them)
    flowfiles: int
    #: the grace period they were given, in seconds (0 when stopped at once)
    grace_period: float
    #: triggers whose commit was already in progress and was left to finish
    committing: int = 0

    def __str__(self) -> str:
        n = self.count
        triggers = "1 trigger" if n == 1 else f"{n} triggers"
        where = f"{triggers} still running in {self.processor!r}"
        stopped = (
            f"stopped at once with {where}"
            if self.grace_period == 0
            else f"stopped with {where} after {self.grace_period:g} s grace"
        )
        fenced = n - self.committing
        if fenced == n:
            how = (
                "its session was rolled back"
                if n == 1
                else "their sessions were rolled back"
            )
        else:
            how = (
                f"{fenced} session(s) rolled back, {self.committing} commit(s) "
                "already in progress left to finish"
            )
        return f"{stopped}; {how} ({self.flowfiles} FlowFile(s) back in their queues)"


class _StatusWatcher:
    """Calls ``on_status`` (see :meth:`Flow.run_async`) beside a running runtime."""

    def __init__(self, callback: Callable[[FlowStatus], object]) -> None:
        self.callback: Callable[[FlowStatus], object] | None = callback

    def call(self, status: FlowStatus) -> None:
        if self.callback is None:
            return
        try:
            self.callback(status)
        except Exception as exc:
            import structlog

            structlog.get_logger("flowengine").error(
                "on_status_failed", error=repr(exc), hint="not called again this run"
            )
            self.callback = None

    async def run(
        self,
        runtime: Any,
        timeout: float | None,  # noqa: ASYNC109 - handed to runtime.run as is
        interval: float,
    ) -> Any:
        """``runtime.run(timeout)`` with the callback every ``interval`` seconds."""
        outcome: Any = None
        failed: Exception | None = None
        async with anyio.create_task_group() as tg:

            async def tick() -> None:
                while True:
                    await anyio.sleep(interval)
                    self.call(runtime.status())

            tg.start_soon(tick)
            try:
                outcome = await runtime.run(timeout)
            except Exception as exc:
                # Re-raised outside the task group, which would wrap it in an
                # ExceptionGroup callers do not expect.
                failed = exc
            tg.cancel_scope.cancel()
        if failed is not None:
            raise failed
        return outcome


class RunResult:
    """What a run did: counts, outputs at root output ports (content readable), failures.

    Output content stays readable until :meth:`close` (or garbage collection); use the
    result as a context manager to release it promptly.
    """

    def __init__(
        self,
        *,
        status: FlowStatus,
        outputs: dict[str, list[FlowFile]],
        failures: list[Failure],
        drained: bool,
        timed_out: bool,
        seconds: float,
        content: ContentRepository,
        provenance: Any,
        orphans: int = 0,
        halted: list[Halt] | None = None,
        abandoned: Sequence[AbandonedTriggers] = (),
        stopped_at_once: bool = False,
    ) -> None:
        self.status = status
        self.halted = halted or []
        self.outputs = outputs
        self.failures = failures
        self.drained = drained
        self.timed_out = timed_out
        self.seconds = seconds
        self.provenance = provenance
        self.orphans = orphans
        #: processors whose triggers were still running at the stop (see
        #: :class:`AbandonedTriggers`); empty when every trigger finished in time
        self.abandoned = list(abandoned)
        #: the stop skipped the grace period (a second signal, ``immediately=True``)
        self.stopped_at_once = stopped_at_once
        self._content: ContentRepository | None = content

    @property
    def ok(self) -> bool:
        """Finished (drained or stopped) in time, with no FlowFile in a failure
        relationship, no processor that could not work as configured and no trigger
        abandoned at the stop."""
        return (
            not self.timed_out
            and not self.failures
            and not self.halted
            and not self.abandoned
        )

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this outcome: 0 ok, 3 failures, 4 timed out, 5 a
        processor could not work as configured (:attr:`halted`)."""
        from .._exit_codes import EXIT_CONFIG, EXIT_FAILURES, EXIT_OK, EXIT_TIMEOUT

        if self.halted:
            return EXIT_CONFIG
        if self.timed_out:
            return EXIT_TIMEOUT
        return EXIT_FAILURES if self.failures else EXIT_OK

    @property
    def drain_flushes(self) -> dict[str, tuple[DrainFlush, ...]]:
        """Per processor id, the bins it flushed below their minimums because the flow
        drained (empty when every bin met its minimums)."""
        return {
            p.id: p.drain_flushes for p in self.status.processors if p.drain_flushes
        }

    @property
    def counts(self) -> dict[str, ProcessorStatus]:
        """Per-component status by id."""
        return {p.id: p for p in self.status.processors}

    def _repo(self) -> ContentRepository:
        if self._content is None:
            raise FlowEngineError(
                "this result is closed: its output content was released"
            )
        return self._content

    def read(self, flowfile: FlowFile) -> bytes:
        """The whole content of an output FlowFile."""
        if flowfile.claim is None:
            return b""
        return self._repo().read(flowfile.claim)

    def open(self, flowfile: FlowFile) -> BinaryIO:
        """A binary stream over an output FlowFile's content."""
        if flowfile.claim is None:
            import io

            return io.BytesIO(b"")
        return self._repo().open(flowfile.claim)

    def close(self) -> None:
        """Release output content (idempotent)."""
        repo, self._content = self._content, None
        if repo is None:
            return
        claims = [
            ff.claim
            for ffs in self.outputs.values()
            for ff in ffs
            if ff.claim is not None
        ]
        if claims:
            repo.decref_many(claims)
        repo.close()

    def __enter__(self) -> RunResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __repr__(self) -> str:
        outs = {k: len(v) for k, v in self.outputs.items()}
        return (
            f"RunResult(ok={self.ok}, drained={self.drained}, timed_out={self.timed_out}, "
            f"outputs={outs}, failures={len(self.failures)}, halted={len(self.halted)}, "
            f"seconds={self.seconds:.3f})"
        )


class Flow(ProcessGroup):
    """A flow: the root process group plus what it takes to validate and run it."""

    def __init__(
        self,
        name: str,
        *,
        description: str = "",
        parameters: Mapping[str, Any] | None = None,
        registry: Registry | None = None,
    ) -> None:
        super().__init__(name, parameters=parameters)
        self.description = description
        self.registry = registry
        self.settings: dict[str, Any] = {}
        #: ``#{name}`` values that win over the flow's own (``load(parameters=...)``)
        self.parameter_overrides: dict[str, str] = {}

    def _overrides(self, parameters: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(self.parameter_overrides)
        merged.update({k: str(v) for k, v in (parameters or {}).items()})
        return merged

    # -- validation --------------------------------------------------------------------
    def validate(
        self, parameters: Mapping[str, str] | None = None
    ) -> list[FlowProblem]:
        """Every problem of the flow (empty when it is valid). Nothing runs.

        Includes the processors' own cross-property checks (``custom_validate``), which
        run only once every property is valid on its own.
        """
        plan, problems = plan_flow(
            self, self.registry or default_registry(), self._overrides(parameters)
        )
        if plan is not None:
            problems = self._custom_problems(plan)
        return problems

    def _custom_problems(self, plan: Plan) -> list[FlowProblem]:
        """``custom_validate`` needs configured processors with their contexts: build
        an in-memory runtime (nothing is scheduled) and keep only its problems."""
        from .._engine._runtime import FlowRuntime
        from .._repository._repositories import open_repositories

        repos = open_repositories(
            durable=False, state_dir=None, provenance=False, flow=self.name
        )
        try:
            FlowRuntime(
                plan,
                content=repos.content,
                flowfile_repository=repos.flowfiles,
                provenance=repos.provenance,
            )
        except ValidationError as exc:
            return [FlowProblem(self._processor_location(m), m) for m in exc.problems]
        finally:
            repos.content.close()
        return []

    def _processor_location(self, message: str) -> Location | None:
        """Where the processor a runtime problem names (``processor 'g.p': ...``) is
        defined, so it is reported as ``file:line:col`` like every other problem."""
        if not message.startswith("processor '"):
            return None
        node_id = message[len("processor '") :].split("'", 1)[0]
        path, _, name = node_id.rpartition(".")
        for group_path, group in self.walk():
            if group_path == path and name in group.processors:
                return group.processors[name].locations.get("")
        return None

    def plan(self, parameters: Mapping[str, str] | None = None) -> Plan:
        """The validated plan, or ValidationError listing every problem."""
        plan, problems = plan_flow(
            self, self.registry or default_registry(), self._overrides(parameters)
        )
        if plan is None:
            raise ValidationError([str(p) for p in problems])
        return plan

    # -- running -----------------------------------------------------------------------
    def run(self, **kwargs: Any) -> RunResult:
        """Run the flow and wait for it; see :meth:`run_async` for the arguments."""
        return anyio.run(lambda: self.run_async(**kwargs), backend="asyncio")

    async def run_async(
        self,
        *,
        until_drained: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109 - the embedding API's documented timeout
        inputs: Mapping[str, Sequence[Any]] | None = None,
        parameters: Mapping[str, str] | None = None,
        durable: bool = False,
        state_dir: str | None = None,
        provenance: bool | None = None,
        clock: Clock | None = None,
        collect_outputs: bool = True,
        administrative_yield: float | None = None,
        on_start: Any = None,
        on_status: Callable[[FlowStatus], object] | None = None,
        status_interval: float = 1.0,
        migrate: Mapping[str, str] | None = None,
        drop_orphans: bool = False,
        grace_period: float | None = None,
    ) -> RunResult:
        """Run inside an existing event loop.

        Args:
            until_drained: stop once sources are finished and every queue is empty,
                or when a processor cannot work as configured (it raised
                :class:`~flowengine.ConfigurationError` three times in a row: the
                result's ``halted``, exit code 5); otherwise run until ``timeout`` or a
                stop request (such a processor backs off instead).
            timeout: seconds before giving up (the result says ``timed_out``).
            inputs: root input port name → items, each ``bytes``/``str`` or
                ``(content, attributes)``.
            parameters: ``#{name}`` overrides.
            durable: keep FlowFiles, content and state in ``state_dir`` so a killed run
                resumes; False runs in memory (rerun the job instead).
            state_dir: where durable repositories live.
            provenance: record provenance events (off for raw speed).
            clock: an injectable clock (tests use :class:`~flowengine.testing.VirtualClock`).
            collect_outputs: keep FlowFiles reaching root output ports in the result.
            on_start: internal hook, called with the runtime once it is built (the
                CLI's signal handling); not a stable API.
            on_status: watch a run: called with a :class:`FlowStatus` snapshot every
                ``status_interval`` seconds while the flow runs (in the event loop's
                thread: keep it quick), and once more with the final status. If it
                raises, the error is logged and it is not called again; the run goes on.
            status_interval: seconds between ``on_status`` calls (default 1).
            migrate: durable runs: old connection id → new one, for FlowFiles queued in
                the state directory for a connection the flow no longer has.
            drop_orphans: durable runs: drop such FlowFiles (DROP provenance events)
                instead of refusing to start (``StateDirectoryError``).
            grace_period: seconds a stop (timeout, drained, stop request) lets running
                triggers finish before abandoning them: their sessions are rolled back
                and fenced, their FlowFiles go back to their queues, and the result's
                ``abandoned`` names them (default 10, NiFi's graceful shutdown period).
                An abandoned sync trigger's thread keeps running until its blocking call
                returns (Python cannot interrupt a thread); it can no longer commit.
        """
        from .._engine._runtime import DEFAULT_GRACE_PERIOD, FlowRuntime
        from .._repository._repositories import open_repositories

        if inputs:
            unknown = sorted(set(inputs) - set(self.input_ports))
            if unknown:
                raise FlowEngineError(
                    f"no root input port named {', '.join(map(repr, unknown))} "
                    f"(the flow has: {', '.join(self.input_ports) or 'none'})"
                )
        plan = self.plan(parameters)
        if provenance is None:
            provenance = bool(self.settings.get("provenance", _SETTING["provenance"]))
        if administrative_yield is None and "administrative_yield" in self.settings:
            from .._units import parse_duration

            administrative_yield = parse_duration(self.settings["administrative_yield"])
        repos = open_repositories(
            durable=durable,
            state_dir=state_dir,
            provenance=provenance,
            flow=self.name,
            settings=self.settings,
        )
        try:
            for old, new in (migrate or {}).items():
                rename = getattr(repos.flowfiles, "rename_queue", None)
                if rename is not None:
                    rename(old, new)
        except BaseException:
            repos.flowfiles.close()
            repos.provenance.close()
            raise
        runtime = FlowRuntime(
            plan,
            content=repos.content,
            flowfile_repository=repos.flowfiles,
            provenance=repos.provenance,
            clock=clock,
            until_drained=until_drained,
            inputs=inputs,
            collect_outputs=collect_outputs,
            administrative_yield=_SETTING["administrative_yield"]
            if administrative_yield is None
            else administrative_yield,
            max_threads=int(self.settings.get("max_threads", _SETTING["max_threads"])),
            grace_period=DEFAULT_GRACE_PERIOD if grace_period is None else grace_period,
        )
        try:
            _settle_orphans(runtime, repos, drop_orphans)
        except BaseException:
            repos.flowfiles.close()
            repos.provenance.close()
            raise
        if on_start is not None:
            on_start(runtime)
        start = time.monotonic()
        watcher = _StatusWatcher(on_status) if on_status is not None else None
        try:
            if watcher is None:
                outcome = await runtime.run(timeout)
            else:
                outcome = await watcher.run(runtime, timeout, status_interval)
        finally:
            repos.flowfiles.close()
            repos.provenance.close()
        status = runtime.status()
        if watcher is not None:
            watcher.call(status)
        failures = []
        for node in runtime.nodes.values():
            for rel in node.relationships:
                n = node.terminated.get(rel.name, 0)
                if n and rel.is_failure:
                    last = node.last_reasons.get(rel.name) or (
                        node.bulletins[-1].message if node.bulletins else None
                    )
                    failures.append(Failure(node.id, rel.name, n, last))
        return RunResult(
            status=status,
            outputs=outcome.outputs,
            failures=failures,
            drained=outcome.drained,
            timed_out=outcome.timed_out,
            seconds=time.monotonic() - start,
            content=repos.content,
            provenance=repos.provenance,
            orphans=outcome.orphans,
            halted=[
                Halt(nid, str(e), e.code, e.resource, e.hint)
                for nid, e in outcome.halted
            ],
            abandoned=[
                AbandonedTriggers(
                    node.id,
                    node.abandoned,
                    node.abandoned_flowfiles,
                    0.0 if outcome.stopped_at_once else outcome.grace_period,
                    node.abandoned_unfenced,
                )
                for node in runtime.nodes.values()
                if node.abandoned
            ],
            stopped_at_once=outcome.stopped_at_once,
        )


def _settle_orphans(runtime: Any, repos: Any, drop: bool) -> None:
    """Refuse to start over FlowFiles queued for connections the flow no longer has.

    NiFi refuses to remove a connection that holds FlowFiles; a renamed processor would
    otherwise strand them silently. With ``drop`` they are deleted and each gets a DROP
    provenance event.
    """
    from .._api._flowfile import now_ms
    from .._api._provenance import ProvenanceEvent, ProvenanceEventType
    from .._errors import StateDirectoryError

    orphans_of = getattr(repos.flowfiles, "orphans", None)
    orphans: dict[str, int] = orphans_of() if orphans_of is not None else {}
    if not orphans:
        return
    if not drop:
        ids = sorted(c.id for c in runtime.connections)
        listed = "; ".join(f"{q} ({n} FlowFiles)" for q, n in sorted(orphans.items()))
        unclaimed = [c for c in ids if c not in orphans]
        raise StateDirectoryError(
            f"the state directory holds FlowFiles for connections this flow no longer "
            f"has: {listed}. Choose: rename the processors back; or move them with "
            f"--migrate OLD=NEW (connections of this flow: {', '.join(unclaimed)}); "
            "or drop them with --drop-orphans (recorded as DROP provenance events)"
        )
    now = now_ms()
    for queue in sorted(orphans):
        dropped = repos.flowfiles.drop_queue(queue)
        if repos.provenance.enabled and dropped:
            repos.provenance.register(
                [
                    ProvenanceEvent(
                        event_type=ProvenanceEventType.DROP,
                        flowfile_uuid=ff.uuid,
                        component_id=queue,
                        component_type="Connection",
                        timestamp_ms=now,
                        attributes=ff.attributes,
                        size=ff.size,
                        lineage_start_date=ff.lineage_start_date,
                        entry_date=ff.entry_date,
                        details="dropped by --drop-orphans: connection no longer in flow",
                    )
                    for ff in dropped
                ]
            )
        runtime.logger.warning(
            "orphaned_flowfiles_dropped", connection=queue, count=len(dropped)
        )
