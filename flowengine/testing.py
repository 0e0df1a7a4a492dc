"""Testing processors without a flow file, in the manner of NiFi's TestRunner.

::

    from flowengine.testing import TestRunner

    def test_upper():
        runner = TestRunner(Upper)
        runner.enqueue(b"abc", {"filename": "a.txt"})
        runner.run()
        runner.assert_all_transferred("success", 1)
        runner.flowfiles_for("success")[0].assert_content_equals(b"ABC")

The runner places the processor in a real (in-memory) flow: a queue feeds it, every
relationship is connected to a queue the test can read, and triggers run through the real
session, so what passes here behaves the same in a flow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import anyio

from ._api._content import ContentRepository
from ._api._flowfile import FlowFile
from ._api._processor import InputRequirement, Processor
from ._api._provenance import InMemoryProvenanceRepository, ProvenanceEvent
from ._api._session import ProcessSession
from ._clock import Clock, VirtualClock
from ._engine._node import Node
from ._engine._runtime import FlowRuntime
from ._engine._standard_session import StandardProcessSession
from ._errors import ContentError, ValidationError
from ._flow._definition import ProcessGroup
from ._flow._flow import Flow
from ._flow._registry import Registry, default_registry
from ._repository._repositories import open_repositories

__all__ = ["MockFlowFile", "TestRunner", "VirtualClock"]

_INPUT = "_test_input"
_UNDER_TEST = "under_test"


class MockFlowFile:
    """A FlowFile that came out of the processor, with its content read for assertions."""

    def __init__(self, flowfile: FlowFile, content: bytes) -> None:
        self.flowfile = flowfile
        self.content = content
        self.attributes = dict(flowfile.attributes)

    def __repr__(self) -> str:
        return f"MockFlowFile({self.attributes.get('filename')!r}, {len(self.content)} bytes)"

    def __getitem__(self, key: str) -> str:
        return self.attributes[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.attributes.get(key, default)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    @property
    def is_penalized(self) -> bool:
        return self.flowfile.penalty_until > 0

    def assert_attribute_equals(self, key: str, value: str | None) -> None:
        actual = self.attributes.get(key)
        assert actual == value, f"attribute {key!r} is {actual!r}, expected {value!r}"

    def assert_attribute_exists(self, key: str) -> None:
        assert key in self.attributes, (
            f"attribute {key!r} is missing (have {sorted(self.attributes)})"
        )

    def assert_attribute_not_exists(self, key: str) -> None:
        assert key not in self.attributes, (
            f"attribute {key!r} exists: {self.attributes[key]!r}"
        )

    def assert_content_equals(self, expected: bytes | str) -> None:
        exp = expected.encode("utf-8") if isinstance(expected, str) else expected
        assert self.content == exp, (
            f"content is {self.content[:200]!r}, expected {exp[:200]!r}"
        )


class TestRunner:
    """Drive one processor through real sessions and queues.

    Args:
        processor: a Processor subclass, an instance, or a registered type name.
        registry: where type names are looked up (default: installed types).
        clock: an injectable clock; defaults to a :class:`VirtualClock`, so penalties
            and yields don't make tests sleep.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        processor: type[Processor] | Processor | str,
        *,
        registry: Registry | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.registry = registry or default_registry()
        if isinstance(processor, str):
            processor = self.registry.resolve("processor", processor)
        if isinstance(processor, Processor):
            self.processor = processor
            self.processor_class: type[Processor] = type(processor)
        else:
            self.processor_class = processor
            self.processor = processor()
        self.clock = clock or VirtualClock()
        self.properties: dict[str, Any] = {}
        self.schedule: dict[str, Any] = {}
        self._services: list[tuple[str, Any, dict[str, Any]]] = []
        self._pending: list[tuple[bytes, dict[str, str], bool]] = []
        self._runtime: FlowRuntime | None = None
        self._node: Node | None = None
        self._content: ContentRepository | None = None
        self._scheduled = False
        self._collected: dict[str, list[MockFlowFile]] = {}
        self.provenance = InMemoryProvenanceRepository()

    # -- configuration -----------------------------------------------------------------
    def set_property(self, name: str, value: Any) -> TestRunner:
        """Set a declared (name or display name) or dynamic property."""
        self.properties[name] = value
        self._invalidate()
        return self

    def remove_property(self, name: str) -> TestRunner:
        self.properties.pop(name, None)
        self._invalidate()
        return self

    def set_schedule(self, **settings: Any) -> TestRunner:
        """Scheduling settings (``batch_size``, ``penalty_duration``...)."""
        self.schedule.update(settings)
        self._invalidate()
        return self

    def add_service(
        self,
        name: str,
        service: type[Any] | str,
        properties: Mapping[str, Any] | None = None,
    ) -> TestRunner:
        """Add a controller service the processor can reference by ``name``."""
        self._services.append((name, service, dict(properties or {})))
        self._invalidate()
        return self

    def _invalidate(self) -> None:
        if self._runtime is not None and self._scheduled:
            raise RuntimeError("configure the runner before the first run()")
        self._runtime = None

    def _flow(self) -> Flow:
        flow = Flow("test", registry=self.registry)
        for name, svc, props in self._services:
            flow.add_service(name, svc, props)
        cls = self.processor_class
        flow.add_processor(_UNDER_TEST, cls, self.properties, schedule=self.schedule)
        if cls.input_requirement is not InputRequirement.FORBIDDEN:
            flow.add_funnel(_INPUT)
            flow.connect(
                _INPUT, _UNDER_TEST, back_pressure_objects=0, back_pressure_size=0
            )
        return flow

    def validate(self) -> list[str]:
        """Every configuration problem (empty when valid)."""
        flow = self._flow()
        plan = self._plan(flow, check_relationships=False)
        if isinstance(plan, list):
            return plan
        try:
            self._build(plan)
        except ValidationError as exc:
            return exc.problems
        return []

    def assert_valid(self) -> None:
        problems = self.validate()
        assert not problems, "processor is invalid:\n" + "\n".join(problems)

    def assert_not_valid(self) -> None:
        assert self.validate(), "processor is valid, expected problems"

    def _plan(self, flow: ProcessGroup, check_relationships: bool) -> Any:
        from ._flow._validation import plan_flow

        # Connect every relationship of the configured processor to a sink queue.
        probe, problems = _relationships_of(flow, self.registry)
        if problems:
            return problems
        for rel in probe:
            sink = f"_sink_{re.sub(r'[^A-Za-z0-9_]', '_', rel)}"
            flow.add_funnel(sink)
            flow.connect(
                _UNDER_TEST, sink, [rel], back_pressure_objects=0, back_pressure_size=0
            )
        plan, found = plan_flow(flow, self.registry)
        if plan is None:
            return [str(p) for p in found]
        return plan

    def _build(self, plan: Any) -> FlowRuntime:
        repos = open_repositories(
            durable=False, state_dir=None, provenance=True, flow="test"
        )
        runtime = FlowRuntime(
            plan,
            content=repos.content,
            flowfile_repository=repos.flowfiles,
            provenance=self.provenance,
            clock=self.clock,
            processor_factory=lambda cls: (
                self.processor if cls is self.processor_class else cls()
            ),
        )
        return runtime

    def _ensure(self) -> tuple[FlowRuntime, Node]:
        if self._runtime is None:
            plan = self._plan(self._flow(), check_relationships=True)
            if isinstance(plan, list):
                raise ValidationError(plan)
            self._runtime = self._build(plan)
            self._node = self._runtime.nodes[_UNDER_TEST]
            self._content = self._runtime.content
            self._collected = {}
        assert self._node is not None
        return self._runtime, self._node

    # -- input -------------------------------------------------------------------------
    def enqueue(
        self,
        content: bytes | str = b"",
        attributes: Mapping[str, str] | None = None,
        *,
        content_lost: bool = False,
    ) -> None:
        """Queue a FlowFile for the processor.

        ``content_lost``: the FlowFile's content claim points at content that is gone
        from the repository (as after a lost or damaged content file), so reading it
        raises :class:`~flowengine.ContentError`: a poison FlowFile for failure tests.
        The content must not be empty (an empty FlowFile has no claim to lose).
        """
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        if content_lost and not data:
            raise ValueError("content_lost needs non-empty content")
        self._pending.append(
            (
                data,
                {str(k): str(v) for k, v in (attributes or {}).items()},
                content_lost,
            )
        )

    def _flush_pending(self, runtime: FlowRuntime) -> None:
        if not self._pending:
            return
        conn = next(c for c in runtime.connections if c.source.id == _INPUT)
        ffs = []
        for data, attrs, lost in self._pending:
            from ._api._flowfile import new_uuid

            uid = new_uuid()
            base = {"uuid": uid, "filename": uid, "path": "./"}
            base.update(attrs)
            base["uuid"] = uid
            claim = runtime.content.write_bytes(data) if data else None
            if lost and claim is not None:
                _lose_content(runtime.content, claim.resource)
            ffs.append(FlowFile(base, claim, entry_date=self.clock.time_ms()))
        self._pending = []
        conn.offer(ffs)

    # -- running -----------------------------------------------------------------------
    def run(
        self,
        iterations: int = 1,
        *,
        stop_on_finish: bool = True,
        initialize: bool = True,
    ) -> None:
        """Trigger the processor ``iterations`` times (``on_scheduled`` before the first
        run, ``on_stopped`` after when ``stop_on_finish``). A trigger that fails on a
        batch is followed by the retries that isolate its poison FlowFile, as in a
        running flow (docs/architecture.md, "isolation rule")."""
        runtime, node = self._ensure()

        async def go() -> None:
            import asyncio
            import threading

            runtime.loop = asyncio.get_running_loop()
            runtime.loop_thread = threading.get_ident()
            runtime.thread_limiter = anyio.CapacityLimiter(runtime.max_threads)
            if not self._scheduled and initialize:
                runtime._enable_services()
                if not runtime._schedule_node(node):
                    raise AssertionError(
                        f"on_scheduled failed: {node.bulletins[-1].message}"
                    )
                self._scheduled = True
            self._flush_pending(runtime)
            node.running = True
            for _ in range(iterations):
                node.yielded_until = 0.0
                await node.trigger()
                # a failed batch is isolated at once, as the engine does (the
                # isolation rule): its groups run before the iteration counts as done
                while node.suspects:
                    await node.trigger()
            node.running = False
            if stop_on_finish:
                runtime._stop_node(node)
                runtime._disable_services()
                self._scheduled = False

        anyio.run(go, backend="asyncio")
        self._collect()

    def _collect(self) -> None:
        runtime, _ = self._ensure()
        for conn in runtime.connections:
            if conn.source.id != _UNDER_TEST:
                continue
            for ff in conn.drain():
                try:
                    data = runtime.content.read(ff.claim) if ff.claim else b""
                except ContentError:
                    data = b""  # its content is gone (e.g. routed to failure for it)
                for rel in conn.relationships:
                    self._collected.setdefault(rel, []).append(MockFlowFile(ff, data))

    def session(self) -> ProcessSession:
        """A session of the processor under test, for driving the session API directly
        (queued input is available to its ``get``). Call :meth:`collect` after commit."""
        runtime, node = self._ensure()
        self._flush_pending(runtime)
        return StandardProcessSession(node)

    def collect(self) -> None:
        """Gather what committed sessions transferred (``run`` does this itself)."""
        self._collect()

    # -- assertions ----------------------------------------------------------------------
    def flowfiles_for(self, relationship: str) -> list[MockFlowFile]:
        """FlowFiles transferred to ``relationship`` so far."""
        return list(self._collected.get(relationship, []))

    def transfer_count(self, relationship: str) -> int:
        return len(self._collected.get(relationship, []))

    def assert_transfer_count(self, relationship: str, count: int) -> None:
        n = self.transfer_count(relationship)
        assert n == count, (
            f"{n} FlowFile(s) transferred to {relationship!r}, expected {count}; all: {self.transfer_counts()}"
        )

    def transfer_counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self._collected.items() if v}

    def assert_all_transferred(
        self, relationship: str, count: int | None = None
    ) -> None:
        others = {k: v for k, v in self.transfer_counts().items() if k != relationship}
        assert not others, f"FlowFiles went to other relationships: {others}"
        if count is not None:
            self.assert_transfer_count(relationship, count)

    def assert_queue_empty(self) -> None:
        assert self.queue_size() == 0, f"{self.queue_size()} FlowFile(s) still queued"

    def queue_size(self) -> int:
        """FlowFiles waiting in the processor's input queue (including penalized)."""
        runtime, _ = self._ensure()
        pending = len(self._pending)
        for c in runtime.connections:
            if c.destination.id == _UNDER_TEST:
                pending += c.queued_count
        return pending

    def penalized_count(self) -> int:
        runtime, _ = self._ensure()
        return sum(
            c.statistics().penalized_count
            for c in runtime.connections
            if c.destination.id == _UNDER_TEST
        )

    @property
    def bulletins(self) -> list[Any]:
        _, node = self._ensure()
        return list(node.bulletins)

    @property
    def is_yielded(self) -> bool:
        _, node = self._ensure()
        return node.yielded_until > self.clock.monotonic()

    @property
    def context(self) -> Any:
        _, node = self._ensure()
        return node.context

    def state(self) -> dict[str, str]:
        runtime, node = self._ensure()
        return runtime.flowfile_repository.load_state(node.id)

    def provenance_events(self) -> list[ProvenanceEvent]:
        return self.provenance.events()

    def clear_transferred(self) -> None:
        self._collected = {}


def _lose_content(repo: ContentRepository, resource: str) -> None:
    """Drop a resource's bytes from the runner's in-memory repository, keeping its
    claimant count (so releasing the claim later stays consistent)."""
    data = getattr(repo, "_data", None)
    if not isinstance(data, dict):
        raise TypeError(f"content_lost needs the in-memory repository, not {repo!r}")
    del data[resource]


def _relationships_of(
    flow: ProcessGroup, registry: Registry
) -> tuple[list[str], list[str]]:
    """The relationship names of the processor under test, as configured."""
    pdef = flow.processors[_UNDER_TEST]
    try:
        cls = registry.resolve("processor", pdef.type)
    except Exception as exc:
        return [], [str(exc)]
    declared, dynamic, problems = cls.resolve_property_names(pdef.properties)
    values = {
        d.name: (
            d.normalize(str(declared[d.name])) or str(declared[d.name])
            if d.name in declared
            else d.default
        )
        for d in cls.property_descriptors
    }
    if problems:
        return [], [str(p) for p in problems]
    return [
        r.name
        for r in cls.relationships_for(values, {k: str(v) for k, v in dynamic.items()})
    ], []
