"""EvaluateJsonPath and SplitJson through flowengine.testing, plus flow validation
of a bad JsonPath through the CLI (file:line:col)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flowengine.processors.json.evaluate_json_path import EvaluateJsonPath
from flowengine.processors.json.split_json import SplitJson

from flowengine.testing import TestRunner

DOC = json.dumps(
    {"id": 7, "name": "ann", "tags": ["x", "y"], "addr": {"city": "Oslo"}, "n": None}
).encode()


def _eval(content: bytes, **props: str) -> TestRunner:
    runner = TestRunner(EvaluateJsonPath)
    for k, v in props.items():
        runner.set_property(k, v)
    runner.enqueue(content)
    runner.run()
    return runner


def test_attributes_scalar_values() -> None:
    r = _eval(DOC, Destination="flowfile-attribute", a="$.id", b="$.name", c="$.n")
    ff = r.flowfiles_for("matched")[0]
    assert ff.attributes["a"] == "7"
    assert ff.attributes["b"] == "ann"
    assert ff.attributes["c"] == ""  # Null Value Representation: empty string


def test_null_as_the_string_null() -> None:
    r = _eval(
        DOC,
        Destination="flowfile-attribute",
        **{"Null Value Representation": "the string 'null'"},
        c="$.n",
    )
    assert r.flowfiles_for("matched")[0].attributes["c"] == "null"


def test_auto_detect_scalar_for_attributes_sends_containers_to_failure() -> None:
    """NiFi: auto-detect means scalar for flowfile-attribute; an object fails."""
    r = _eval(DOC, Destination="flowfile-attribute", a="$.addr")
    assert len(r.flowfiles_for("failure")) == 1
    r = _eval(
        DOC, Destination="flowfile-attribute", **{"Return Type": "json"}, a="$.addr"
    )
    assert r.flowfiles_for("matched")[0].attributes["a"] == '{"city":"Oslo"}'


def test_indefinite_path_gives_a_json_array() -> None:
    r = _eval(
        DOC, Destination="flowfile-attribute", **{"Return Type": "json"}, t="$.tags[*]"
    )
    assert r.flowfiles_for("matched")[0].attributes["t"] == '["x","y"]'


def test_path_not_found_ignore_and_skip() -> None:
    r = _eval(DOC, Destination="flowfile-attribute", a="$.missing")
    assert r.flowfiles_for("matched")[0].attributes["a"] == ""
    r = _eval(
        DOC,
        Destination="flowfile-attribute",
        **{"Path Not Found Behavior": "skip"},
        a="$.missing",
    )
    assert "a" not in r.flowfiles_for("matched")[0].attributes


def test_content_destination_matched_and_unmatched() -> None:
    r = _eval(DOC, x="$.addr")
    r.flowfiles_for("matched")[0].assert_content_equals(b'{"city":"Oslo"}')
    r = _eval(DOC, x="$.nothing")
    r.flowfiles_for("unmatched")[0].assert_content_equals(DOC)


def test_content_destination_needs_exactly_one_path() -> None:
    runner = TestRunner(EvaluateJsonPath)
    runner.set_property("a", "$.id")
    runner.set_property("b", "$.name")
    assert any("exactly one" in p for p in runner.validate())


def test_invalid_json_to_failure_with_position() -> None:
    r = _eval(b'{"a": 1,\n "b": }', Destination="flowfile-attribute", a="$.a")
    ff = r.flowfiles_for("failure")[0]
    assert "line 2 column 7" in ff.attributes["json.error"]
    ff.assert_content_equals(b'{"a": 1,\n "b": }')


def test_ten_thousand_levels_fail_without_crash() -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    r = _eval(deep, Destination="flowfile-attribute", a="$[0]")
    assert "too deep" in r.flowfiles_for("failure")[0].attributes["json.error"]


def test_max_string_length() -> None:
    big = json.dumps({"s": "x" * 100}).encode()
    r = _eval(
        big, Destination="flowfile-attribute", **{"Max String Length": "50 B"}, a="$.s"
    )
    assert "Max String Length" in r.flowfiles_for("failure")[0].attributes["json.error"]


def test_split_json_fragments() -> None:
    runner = TestRunner(SplitJson)
    runner.set_property("JsonPath Expression", "$.items")
    runner.enqueue(b'{"items": [{"a": 1}, "s", null, 2]}', {"filename": "f.json"})
    runner.run()
    splits = runner.flowfiles_for("split")
    assert [s.content for s in splits] == [b'{"a":1}', b"s", b"", b"2"]
    assert [s.attributes["fragment.index"] for s in splits] == ["0", "1", "2", "3"]
    assert {s.attributes["fragment.count"] for s in splits} == {"4"}
    assert {s.attributes["segment.original.filename"] for s in splits} == {"f.json"}
    orig = runner.flowfiles_for("original")[0]
    assert (
        orig.attributes["fragment.identifier"]
        == splits[0].attributes["fragment.identifier"]
    )


def test_split_json_not_an_array_or_missing_fails() -> None:
    for path in ("$.a", "$.zzz"):
        runner = TestRunner(SplitJson)
        runner.set_property("JsonPath Expression", path)
        runner.enqueue(b'{"a": {"b": 1}}')
        runner.run()
        assert len(runner.flowfiles_for("failure")) == 1
        assert not runner.flowfiles_for("original")


def test_bad_jsonpath_rejected_at_validation_with_location(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        "flow: j\n"
        "processors:\n"
        "  gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}\n"
        "  ev:\n"
        "    type: EvaluateJsonPath\n"
        "    properties:\n"
        "      Destination: flowfile-attribute\n"
        "      bad: $.a[\n"
        "    auto_terminate: [matched, unmatched, failure]\n"
        "connections:\n"
        "  - gen -> ev\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "flowengine", "validate", str(flow)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2, run
    assert f"{flow}:8:12: processor 'ev': dynamic property 'bad'" in run.stderr
    assert "hint:" in run.stderr
