"""FlattenJson modes, reserved characters, unflatten round trip, failure."""

from __future__ import annotations

import json
from typing import Any

from flowengine.processors.json.flatten_json import FlattenJson

from flowengine.testing import TestRunner

DOC = {"a": {"b": 1}, "c": [1, {"d": 2}], "p": [1, 2], "e": {}, "k.x": 3}


def _run(doc: Any, **props: str) -> Any:
    runner = TestRunner(FlattenJson)
    for k, v in props.items():
        runner.set_property(k, v)
    runner.enqueue(json.dumps(doc).encode())
    runner.run()
    return json.loads(runner.flowfiles_for("success")[0].content)


def test_normal() -> None:
    assert _run(DOC, **{"Flatten Mode": "normal"}) == {
        "a.b": 1,
        "c[0]": 1,
        "c[1].d": 2,
        "p[0]": 1,
        "p[1]": 2,
        "e": {},
        '["k.x"]': 3,
    }


def test_keep_arrays_is_the_default() -> None:
    assert _run({"a": {"b": 1}, "c": [{"d": {"e": 2}}]}) == {
        "a.b": 1,
        "c": [{"d.e": 2}],
    }


def test_dot_notation_and_separator() -> None:
    out = _run(DOC, **{"Flatten Mode": "dot notation", "Separator": "_"})
    assert out["c_1_d"] == 2 and out["a_b"] == 1


def test_keep_primitive_arrays() -> None:
    out = _run(DOC, **{"Flatten Mode": "keep primitive arrays"})
    assert out["p"] == [1, 2] and out["c[1].d"] == 2


def test_ignore_reserved_characters() -> None:
    out = _run(DOC, **{"Flatten Mode": "normal", "Ignore Reserved Characters": "true"})
    assert out["k.x"] == 3


def test_unflatten_round_trip() -> None:
    doc = {"a": {"b": 1}, "c": [1, {"d": 2}], "k.x": 3}
    flat = _run(doc, **{"Flatten Mode": "normal"})
    runner = TestRunner(FlattenJson)
    runner.set_property("Flatten Mode", "normal")
    runner.set_property("Return Type", "unflatten")
    runner.enqueue(json.dumps(flat).encode())
    runner.run()
    assert json.loads(runner.flowfiles_for("success")[0].content) == doc


def test_pretty_print() -> None:
    runner = TestRunner(FlattenJson)
    runner.set_property("Pretty Print JSON", "true")
    runner.enqueue(b'{"a": {"b": 1}}')
    runner.run()
    assert runner.flowfiles_for("success")[0].content == b'{\n  "a.b": 1\n}'


def test_bad_and_deep_json_fail() -> None:
    runner = TestRunner(FlattenJson)
    runner.enqueue(b'{"a":')
    runner.enqueue(b"[" * 10_000 + b"]" * 10_000)
    runner.run(2)
    errors = [f.attributes["json.error"] for f in runner.flowfiles_for("failure")]
    assert len(errors) == 2 and "too deep" in errors[1]
