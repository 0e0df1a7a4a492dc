"""UpdateAttribute's Store State (NiFi): dynamic properties see their last stored value
through getStateValue, and each FlowFile's values are stored for the next; Stateful
Variables Initial Value fills what was never stored; Cache Value Lookup Cache Size is
accepted (and validated) so NiFi flows keep their meaning instead of setting stray
attributes named after those properties."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowengine
from flowengine.testing import TestRunner


def counter() -> TestRunner:
    r = TestRunner("UpdateAttribute")
    r.set_property("Store State", "Store state locally")
    r.set_property("Stateful Variables Initial Value", "0")
    r.set_property("count", "${getStateValue('count'):plus(1)}")
    r.set_property("previous", "${getStateValue('count')}")
    return r


def test_a_stateful_counter_counts_flowfiles_across_triggers() -> None:
    r = counter()
    for _ in range(3):
        r.enqueue(b"x")
    r.run(1, stop_on_finish=False)
    r.enqueue(b"y")
    r.run(1)
    out = r.flowfiles_for("success")
    assert [ff.attributes["count"] for ff in out] == ["1", "2", "3", "4"]
    assert [ff.attributes["previous"] for ff in out] == ["0", "1", "2", "3"]
    assert r.state()["count"] == "4"


def test_without_store_state_getstatevalue_sees_nothing() -> None:
    r = TestRunner("UpdateAttribute")
    r.set_property("count", "${getStateValue('count'):plus(1)}")
    r.enqueue(b"x")
    r.enqueue(b"x")
    r.run(1)
    assert [ff.attributes["count"] for ff in r.flowfiles_for("success")] == ["", ""]
    assert r.state() == {}


def test_nifi_compatibility_properties_are_not_attributes() -> None:
    r = TestRunner("UpdateAttribute")
    r.set_property("Store State", "Do not store state")
    r.set_property("Cache Value Lookup Cache Size", "100")
    r.set_property("stage", "raw")
    r.enqueue(b"x")
    r.run(1)
    (ff,) = r.flowfiles_for("success")
    assert ff.attributes["stage"] == "raw"
    assert "Store State" not in ff.attributes
    assert "Cache Value Lookup Cache Size" not in ff.attributes


@pytest.mark.parametrize(
    ("prop", "value"),
    [("Store State", "Store state remotely"), ("Cache Value Lookup Cache Size", "0")],
)
def test_bad_values_are_rejected(prop: str, value: str) -> None:
    r = TestRunner("UpdateAttribute")
    r.set_property(prop, value)
    r.assert_not_valid()


def test_state_needs_one_concurrent_task(tmp_path: Path) -> None:
    flow = tmp_path / "f.yaml"
    flow.write_text(
        "flow: f\n"
        "input_ports: [in]\n"
        "processors:\n"
        "  count:\n"
        "    type: UpdateAttribute\n"
        "    properties:\n"
        "      Store State: Store state locally\n"
        "      n: ${getStateValue('n'):plus(1)}\n"
        "    schedule: {concurrent_tasks: 2}\n"
        "    auto_terminate: [success]\n"
        "connections: [in -> count]\n"
    )
    with pytest.raises(flowengine.ValidationError, match="concurrent_tasks 1"):
        flowengine.load(flow)
