"""Controller services: lifecycle, dependency order, scope, interfaces; group start/stop."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import anyio
import pytest

import flowengine
from flowengine import (
    ConfigurationContext,
    ControllerService,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)
from flowengine._api._service import ServiceState, transition


class Greeter(abc.ABC):
    """An interface processors ask for."""

    @abc.abstractmethod
    def greet(self) -> str: ...


class Other(abc.ABC):
    """An unrelated interface."""

    @abc.abstractmethod
    def other(self) -> None: ...


class Events:
    log: ClassVar[list[str]] = []


class GreeterService(Greeter, ControllerService):
    """Greets with a configured word, optionally through another greeter."""

    WORD = PropertyDescriptor("word", default="hi")
    INNER = PropertyDescriptor("inner", service=Greeter)

    def on_enabled(self, context: ConfigurationContext) -> None:
        Events.log.append(f"enable {context.name}")
        self.word = context.property(self.WORD).value
        inner = context.property(self.INNER)
        self.inner = inner.as_service(Greeter) if inner.is_set else None

    def on_disabled(self) -> None:
        Events.log.append("disable")

    def greet(self) -> str:
        return (self.inner.greet() + "+" if self.inner else "") + str(self.word)


class OtherService(Other, ControllerService):
    """Not a Greeter."""

    def other(self) -> None:
        return None


class UsesGreeter(Processor):
    """Tags FlowFiles with the greeting of its service."""

    input_requirement = InputRequirement.REQUIRED
    GREETER = PropertyDescriptor("greeter", required=True, service=Greeter)
    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        g = context.property(self.GREETER).as_service(Greeter)
        for ff in session.get(context.batch_size):
            session.transfer(
                session.put_attribute(ff, "greeting", g.greet()), self.SUCCESS
            )


def test_lifecycle_table() -> None:
    """The service state machine allows only NiFi's moves."""
    s = transition(ServiceState.DISABLED, "enable")
    assert s is ServiceState.ENABLING
    assert transition(s, "enabled") is ServiceState.ENABLED
    assert transition(ServiceState.ENABLED, "disable") is ServiceState.DISABLING
    with pytest.raises(ValueError, match="cannot 'enable'"):
        transition(ServiceState.ENABLED, "enable")


def _two_group_flow() -> flowengine.Flow:
    f = flowengine.Flow("svc")
    f.add_service("base", GreeterService, {"word": "hello"})
    f.add_service("g", GreeterService, {"word": "world", "inner": "base"})
    f.add_input_port("in")
    f.add_output_port("out")
    for name in ("left", "right"):
        grp = f.add_group(name)
        grp.add_input_port("in")
        grp.add_output_port("out")
        grp.add_processor("use", UsesGreeter, {"greeter": "g"})
        grp.connect("in", "use")
        grp.connect("use", "out")
        f.connect("in", f"{name}.in")
        f.connect(f"{name}.out", "out")
    return f


def test_service_shared_by_two_groups_enables_once_in_dependency_order() -> None:
    """A service referenced from two groups is enabled once, after its dependency."""
    Events.log.clear()
    with _two_group_flow().run(inputs={"in": [b"x"]}, timeout=10) as res:
        assert sorted(ff["greeting"] for ff in res.outputs["out"]) == [
            "hello+world",
            "hello+world",
        ]
    assert Events.log == ["enable base", "enable g", "disable", "disable"]


def test_service_scope_is_the_group_and_its_children() -> None:
    """A service defined in a group is invisible to its parent and siblings."""
    f = flowengine.Flow("scope")
    f.add_input_port("in")
    a = f.add_group("a")
    a.add_service("private", GreeterService)
    b = f.add_group("b")
    b.add_input_port("in")
    b.add_processor(
        "use", UsesGreeter, {"greeter": "private"}, auto_terminate=["success"]
    )
    b.connect("in", "use")
    f.connect("in", "b.in")
    problems = [str(p) for p in f.validate()]
    assert any(
        "no controller service named 'private' is visible here" in p for p in problems
    )


def test_service_of_the_wrong_interface_is_rejected() -> None:
    """A property asking for a Greeter cannot name an OtherService."""
    f = flowengine.Flow("iface")
    f.add_service("other", OtherService)
    f.add_input_port("in")
    f.add_processor(
        "use", UsesGreeter, {"greeter": "other"}, auto_terminate=["success"]
    )
    f.connect("in", "use")
    problems = [str(p) for p in f.validate()]
    assert any("does not implement Greeter" in p for p in problems)


def test_group_stop_and_start_as_a_unit() -> None:
    """Stopping a group stops its components (FlowFiles wait); starting resumes them."""
    f = flowengine.Flow("stopgo")
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {"custom_text": "x", "batch_size": 5},
        schedule={"max_triggers": 1},
    )
    grp = f.add_group("g")
    grp.add_input_port("in")
    grp.add_output_port("out")
    grp.add_processor("tag", "UpdateAttribute", {"t": "1"})
    grp.connect("in", "tag")
    grp.connect("tag", "out")
    f.add_output_port("out")
    f.connect("gen", "g.in")
    f.connect("g.out", "out")
    observed: dict[str, Any] = {}

    async def main() -> flowengine.RunResult:
        async with anyio.create_task_group() as tg:
            holder: dict[str, Any] = {}

            async def controller() -> None:
                while "rt" not in holder or holder["rt"].loop is None:  # noqa: ASYNC110 - test polls for the runtime to start
                    await anyio.sleep(0.01)
                rt = holder["rt"]
                rt.stop_group("g")
                await anyio.sleep(0.2)
                observed["waiting"] = sum(
                    c.queued_count for c in rt.connections if c.destination.id == "g.in"
                )
                observed["tagged"] = rt.nodes["g.tag"].flowfiles_in
                rt.start_group("g")

            tg.start_soon(controller)
            res = await f.run_async(
                timeout=10, on_start=lambda rt: holder.update(rt=rt)
            )
        return res

    res = anyio.run(main)
    with res:
        assert observed == {"waiting": 5, "tagged": 0}
        assert res.drained and len(res.outputs["out"]) == 5


def test_service_failing_to_enable_stops_the_run_before_anything_starts() -> None:
    """An exception in on_enabled is a ServiceError; no processor ran."""

    class Broken(Greeter, ControllerService):
        """Cannot start."""

        def on_enabled(self, context: ConfigurationContext) -> None:
            raise OSError("no network")

        def greet(self) -> str:
            return ""

    f = flowengine.Flow("broken")
    f.add_service("g", Broken)
    f.add_input_port("in")
    f.add_processor("use", UsesGreeter, {"greeter": "g"}, auto_terminate=["success"])
    f.connect("in", "use")
    with pytest.raises(
        flowengine.FlowEngineError, match="could not be enabled: OSError: no network"
    ):
        f.run(inputs={"in": [b"x"]}, timeout=5)
