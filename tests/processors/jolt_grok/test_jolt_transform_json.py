"""JoltTransformJSON behaviour beyond the fixtures: NiFi's properties, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from flowengine.processors.jolt.transform_json import JoltTransformJSON

from flowengine.testing import TestRunner

SHIFT = '{"a": "out.a"}'


def _runner(**props: str) -> TestRunner:
    runner = TestRunner(JoltTransformJSON)
    for k, v in props.items():
        runner.set_property(k.replace("_", " "), v)
    return runner


def test_shift_with_nifi_display_names_and_mime_type() -> None:
    runner = _runner(Jolt_Transform="Shift", Jolt_Specification=SHIFT)
    runner.enqueue(b'{"a": 1, "b": 2}')
    runner.run()
    out = runner.flowfiles_for("success")[0]
    assert json.loads(out.content) == {"out": {"a": 1}}
    out.assert_attribute_equals("mime.type", "application/json")


def test_default_transform_is_chain_and_pretty_print() -> None:
    runner = TestRunner(JoltTransformJSON)
    runner.set_property(
        "Jolt Specification", f'[{{"operation": "shift", "spec": {SHIFT}}}]'
    )
    runner.set_property("Pretty Print", "true")
    runner.enqueue(b'{"a": 1}')
    runner.run()
    assert (
        runner.flowfiles_for("success")[0].text == '{\n  "out": {\n    "a": 1\n  }\n}'
    )


def test_spec_that_does_not_parse_is_rejected_with_position() -> None:
    runner = _runner(
        Jolt_Transform="jolt-transform-shift",
        Jolt_Specification='{\n  "a": "b",\n  oops\n}',
    )
    problems = runner.validate()
    assert problems and "line 3 column 3" in problems[0] and "hint" in problems[0]


def test_spec_that_does_not_compile_is_rejected() -> None:
    runner = _runner(Jolt_Transform="Cardinality", Jolt_Specification='{"a": "pants"}')
    assert runner.validate()
    runner = _runner(Jolt_Transform="Chain", Jolt_Specification="[]")
    assert runner.validate()
    runner = _runner(
        Jolt_Transform="Chain", Jolt_Specification='[{"operation": "nope", "spec": {}}]'
    )
    assert runner.validate()


def test_spec_with_comments_and_from_a_file(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text('// comment\n{"a": /* inline */ "z"}', encoding="utf-8")
    runner = _runner(Jolt_Transform="Shift", Jolt_Specification=str(spec))
    runner.enqueue(b'{"a": 7}')
    runner.run()
    assert json.loads(runner.flowfiles_for("success")[0].content) == {"z": 7}


def test_expression_language_in_spec_compiled_per_distinct_text() -> None:
    runner = _runner(
        Jolt_Transform="Shift",
        Jolt_Specification='{"a": "${target}"}',
        Transform_Cache_Size="2",
    )
    for target in ("x", "y", "x"):
        runner.enqueue(b'{"a": 1}', attributes={"target": target})
    runner.run()
    outs = [json.loads(f.content) for f in runner.flowfiles_for("success")]
    assert outs == [{"x": 1}, {"y": 1}, {"x": 1}]


def test_bad_documents_go_to_failure_and_the_rest_go_on() -> None:
    runner = _runner(
        Jolt_Transform="Modify - Overwrite", Jolt_Specification='{"n": "=toInteger"}'
    )
    deep = b"[" * 10_000 + b"]" * 10_000
    for body in (b'{"n": "5"}', b"not json", deep, b'{"n": "6"}'):
        runner.enqueue(body)
    runner.run()
    assert [json.loads(f.content) for f in runner.flowfiles_for("success")] == [
        {"n": 5},
        {"n": 6},
    ]
    failed = runner.flowfiles_for("failure")
    assert len(failed) == 2
    assert failed[0].content == b"not json" and "not valid JSON" in (
        failed[0].get("error.message") or ""
    )
    assert failed[1].content == deep and "nested too deeply" in (
        failed[1].get("error.message") or ""
    )


def test_run_time_spec_error_fails_only_that_flowfile() -> None:
    runner = _runner(Jolt_Transform="Shift", Jolt_Specification="${spec}")
    runner.enqueue(b'{"a": 1}', attributes={"spec": '{"a": "ok"}'})
    runner.enqueue(b'{"a": 1}', attributes={"spec": '{"a": '})
    runner.run()
    assert json.loads(runner.flowfiles_for("success")[0].content) == {"ok": 1}
    assert "not valid JSON" in (
        runner.flowfiles_for("failure")[0].get("error.message") or ""
    )


def test_json_source_attribute() -> None:
    runner = _runner(
        Jolt_Transform="Shift",
        Jolt_Specification=SHIFT,
        JSON_Source="Attribute",
        JSON_Source_Attribute="doc",
    )
    runner.enqueue(b"untouched", attributes={"doc": '{"a": 3}'})
    runner.run()
    out = runner.flowfiles_for("success")[0]
    assert out.content == b"untouched"
    assert json.loads(out["doc"]) == {"out": {"a": 3}}


def test_sort_needs_no_spec() -> None:
    runner = _runner(Jolt_Transform="Sort")
    runner.enqueue(b'{"b": 1, "a": {"d": 1, "c": 2}}')
    runner.run()
    assert runner.flowfiles_for("success")[0].text == '{"a":{"c":2,"d":1},"b":1}'


def test_modify_functions() -> None:
    spec = '{"u": "=toUpper(@(1,s))", "c": "=concat(@(1,s),\'-\',@(1,s))", "p": "=split(\',\',@(1,csv))", "n": "=size(@(1,csv))"}'
    runner = _runner(Jolt_Transform="Modify - Overwrite", Jolt_Specification=spec)
    runner.enqueue(b'{"s": "ab", "csv": "x,y"}')
    runner.run()
    out = json.loads(runner.flowfiles_for("success")[0].content)
    assert out == {
        "s": "ab",
        "csv": "x,y",
        "u": "AB",
        "c": "ab-ab",
        "p": ["x", "y"],
        "n": 3,
    }
