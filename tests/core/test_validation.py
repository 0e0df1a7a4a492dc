"""Validation collects every problem before anything runs."""

from __future__ import annotations

import pytest

import flowengine
from flowengine import (
    InputRequirement,
    Processor,
    PropertyDescriptor,
    Relationship,
    validators,
)


class Typed(Processor):
    """A processor with typed properties."""

    input_requirement = InputRequirement.FORBIDDEN
    COUNT = PropertyDescriptor(
        "count", required=True, validators=(validators.POSITIVE_INTEGER,)
    )
    MODE = PropertyDescriptor(
        "mode", display_name="Mode", default="fast", allowable_values=("fast", "slow")
    )
    WAIT = PropertyDescriptor(
        "wait", display_name="Wait Time", validators=(validators.TIME_PERIOD,)
    )
    SECRET = PropertyDescriptor("secret", sensitive=True)
    OUT = Relationship("success")


def problems(flow: flowengine.Flow, **params: str) -> list[str]:
    return [str(p) for p in flow.validate(params or None)]


def test_every_problem_is_listed_at_once() -> None:
    """Bad values, unknown names, relationships and endpoints: all reported together."""
    f = flowengine.Flow("many")
    f.add_processor(
        "t",
        Typed,
        {"count": "zero", "mode": "medium", "Wait Time": "soon", "colour": "red"},
    )
    f.add_processor("s", "LogAttribute")
    f.connect("t", "s", ["succes"])
    f.connect("t", "nowhere")
    got = problems(f)
    assert any("'zero' is not an integer" in p for p in got)
    assert any("'medium' is not one of 'fast', 'slow'" in p for p in got)
    assert any("not a time period: 'soon'" in p for p in got)
    assert any("unknown property 'colour'" in p for p in got)
    assert any(
        "has no relationship 'succes' (did you mean 'success'?)" in p for p in got
    )
    assert any("nothing named 'nowhere'" in p for p in got)
    assert len(got) >= 6


def test_required_and_display_names_and_allowable_display_values() -> None:
    """Missing required values are problems; display names work as aliases."""
    f = flowengine.Flow("req")
    f.add_processor("t", Typed, {"Mode": "slow"}, auto_terminate=["success"])
    assert any("property 'count' is required" in p for p in problems(f))
    f.processors["t"].properties["count"] = 3
    assert problems(f) == []
    assert f.plan().nodes["t"].declared["mode"] == "slow"


def test_routing_strategy_accepts_nifi_display_name() -> None:
    """An allowable value may be written as its NiFi display name."""
    f = flowengine.Flow("alias")
    f.add_input_port("in")
    f.add_processor(
        "r",
        "RouteOnAttribute",
        {"Routing Strategy": "Route to 'matched' if all match", "x": "${a:isEmpty()}"},
        auto_terminate=["matched", "unmatched"],
    )
    f.connect("in", "r")
    assert problems(f) == []
    assert (
        f.plan().nodes["r"].declared["routing_strategy"]
        == "Route to 'match' if all match"
    )


def test_unconnected_relationship_is_an_error_unless_auto_terminated() -> None:
    """As in NiFi, every relationship is connected or auto-terminated."""
    f = flowengine.Flow("rel")
    f.add_processor("t", Typed, {"count": 1})
    assert any("relationship 'success' is not connected" in p for p in problems(f))


def test_cycle_without_a_source_is_rejected() -> None:
    """A loop nothing can enter is reported with its path."""
    f = flowengine.Flow("cycle")
    f.add_processor("a", "UpdateAttribute")
    f.add_processor("b", "UpdateAttribute")
    f.connect("a", "b")
    f.connect("b", "a")
    assert any("cycle a -> b -> a has no source" in p for p in problems(f))


def test_cycle_through_ports_is_rejected() -> None:
    """A cycle across a group boundary with no source is found too."""
    f = flowengine.Flow("portcycle")
    g = f.add_group("g")
    g.add_input_port("in")
    g.add_output_port("out")
    g.add_processor("p", "UpdateAttribute")
    g.connect("in", "p")
    g.connect("p", "out")
    f.connect("g.out", "g.in")
    assert any("has no source" in p for p in problems(f))


def test_input_requirement_and_cross_group_rules() -> None:
    """Required input, forbidden input, and connections into a group only via ports."""
    f = flowengine.Flow("rules")
    f.add_processor("upd", "UpdateAttribute", auto_terminate=["success"])
    f.add_processor("gen", "GenerateFlowFile")
    f.add_processor("gen2", "GenerateFlowFile", auto_terminate=["success"])
    g = f.add_group("g")
    g.add_processor("inner", "UpdateAttribute", auto_terminate=["success"])
    f.connect("gen", "gen2")
    f.connect("gen", "g.inner")
    got = problems(f)
    assert any("UpdateAttribute requires an incoming connection" in p for p in got)
    assert any(
        "GenerateFlowFile does not accept incoming connections" in p for p in got
    )
    assert any("group 'g' has no input port 'inner'" in p for p in got)


def test_parameters_defined_sensitive_and_overridden() -> None:
    """#{} references must exist; sensitive ones only in sensitive properties."""
    f = flowengine.Flow("params", parameters={"n": 3})
    f.set_parameter("pw", "s3cret", sensitive=True)
    f.add_processor(
        "t",
        Typed,
        {"count": "#{n}", "secret": "#{pw}", "mode": "#{speed}"},
        auto_terminate=["success"],
    )
    got = problems(f)
    assert got == [p for p in got if "#{speed} is not defined" in p] and len(got) == 1
    assert problems(f, speed="slow") == []
    f.processors["t"].properties["mode"] = "#{pw}"
    assert any(
        "sensitive parameter #{pw} cannot be used in a non-sensitive property" in p
        for p in problems(f)
    )
    f.processors["t"].properties["mode"] = "fast"
    f.processors["t"].properties["secret"] = "plain"
    assert problems(f) == []
    f.processors["t"].properties["secret"] = "#{n}"
    assert any("can only reference sensitive parameters" in p for p in problems(f))


def test_expression_language_where_not_supported() -> None:
    """${...} in a property without EL support is rejected."""
    f = flowengine.Flow("el")
    f.add_processor("t", Typed, {"count": "${x}"}, auto_terminate=["success"])
    assert any("does not support Expression Language" in p for p in problems(f))


def test_unknown_type_has_a_did_you_mean() -> None:
    """A misspelt type suggests the right one."""
    f = flowengine.Flow("typo")
    f.add_processor("x", "UpdateAtribute")
    assert any("did you mean 'UpdateAttribute'" in p for p in problems(f))


def test_run_refuses_an_invalid_flow() -> None:
    """run() raises ValidationError and starts nothing."""
    f = flowengine.Flow("bad")
    f.add_processor("t", Typed, {"count": "x"}, auto_terminate=["success"])
    with pytest.raises(flowengine.ValidationError) as exc:
        f.run(timeout=1)
    assert len(exc.value.problems) == 1
