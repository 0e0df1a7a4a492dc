"""JoltTransformRecord: every record through the spec, reader to writer."""

from __future__ import annotations

import json

from flowengine.processors.jolt.transform_record import JoltTransformRecord

from flowengine.testing import TestRunner

LINES = b'{"id": 1, "name": "a", "tags": ["x"]}\n{"id": 2, "name": "b", "tags": []}\n'


def _runner(transform: str, spec: str | None) -> TestRunner:
    runner = TestRunner(JoltTransformRecord)
    runner.add_service("in", "JsonTreeReader", {})
    runner.add_service("out", "JsonRecordSetWriter", {})
    runner.set_property("Record Reader", "in")
    runner.set_property("Record Writer", "out")
    runner.set_property("Jolt Transform", transform)
    if spec is not None:
        runner.set_property("Jolt Specification", spec)
    return runner


def test_shift_each_record() -> None:
    runner = _runner("Shift", '{"id": "key", "name": "person.name"}')
    runner.enqueue(LINES)
    runner.run()
    out = runner.flowfiles_for("success")[0]
    assert json.loads(out.content) == [
        {"key": 1, "person": {"name": "a"}},
        {"key": 2, "person": {"name": "b"}},
    ]
    out.assert_attribute_equals("record.count", "2")
    assert runner.transfer_count("original") == 1


def test_chain_with_default_and_modify() -> None:
    spec = json.dumps(
        [
            {"operation": "default", "spec": {"source": "web"}},
            {"operation": "modify-overwrite-beta", "spec": {"name": "=toUpper"}},
        ]
    )
    runner = _runner("Chain", spec)
    runner.enqueue(LINES)
    runner.run()
    recs = json.loads(runner.flowfiles_for("success")[0].content)
    assert [(r["name"], r["source"]) for r in recs] == [("A", "web"), ("B", "web")]


def test_bad_input_fails_that_flowfile_only() -> None:
    runner = _runner("Shift", '{"id": "key"}')
    runner.enqueue(b"{not json")
    runner.enqueue(LINES)
    runner.run()
    assert runner.transfer_count("failure") == 1
    assert runner.flowfiles_for("failure")[0].content == b"{not json"
    assert runner.flowfiles_for("failure")[0].get("record.error.message")
    assert (
        runner.transfer_count("success") == 1 and runner.transfer_count("original") == 1
    )


def test_spec_that_does_not_parse_is_invalid() -> None:
    assert _runner("Shift", '{"id": }').validate()
