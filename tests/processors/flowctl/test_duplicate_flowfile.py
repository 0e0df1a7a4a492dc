"""DuplicateFlowFile: Number of Copies (EL), copy.index, CLONE provenance, bad EL."""

from __future__ import annotations

from flowengine.processors.flow.duplicate import DuplicateFlowFile

from flowengine.testing import TestRunner


def test_copies_with_index_and_shared_content() -> None:
    """N copies plus the original reach success, indexed 0..N, content identical."""
    runner = TestRunner(DuplicateFlowFile).set_property("Number of Copies", "3")
    runner.enqueue(b"data", {"a": "1"})
    runner.run()
    out = runner.flowfiles_for("success")
    assert sorted(int(ff["copy.index"]) for ff in out) == [0, 1, 2, 3]
    assert len({ff["uuid"] for ff in out}) == 4
    for ff in out:
        ff.assert_content_equals(b"data")
        ff.assert_attribute_equals("a", "1")
    events = runner.provenance_events()
    clones = [e for e in events if e.event_type.value == "CLONE"]
    original = next(ff for ff in out if ff["copy.index"] == "0")
    assert len(clones) == 1 and clones[0].flowfile_uuid == original["uuid"]
    assert len(clones[0].child_uuids) == 3


def test_expression_language_per_flowfile() -> None:
    """Number of Copies is evaluated against each FlowFile; 0 sends only the original."""
    runner = TestRunner(DuplicateFlowFile).set_property("number_of_copies", "${n}")
    runner.enqueue(b"x", {"n": "2"})
    runner.enqueue(b"y", {"n": "0"})
    runner.run()
    assert runner.transfer_count("success") == 4


def test_garbage_copies_go_to_failure_with_reason() -> None:
    """EL that yields no integer routes to failure and says why; nothing is lost."""
    runner = TestRunner(DuplicateFlowFile).set_property("number_of_copies", "${n}")
    runner.enqueue(b"x", {"n": "lots"})
    runner.enqueue(b"y", {"n": "-1"})
    runner.run()
    failed = runner.flowfiles_for("failure")
    assert len(failed) == 2
    assert "'lots'" in failed[0]["DuplicateFlowFile.error"]
    runner.assert_transfer_count("success", 0)


def test_literal_garbage_is_invalid() -> None:
    """A literal Number of Copies that is not an integer is rejected at validation."""
    runner = TestRunner(DuplicateFlowFile).set_property("number_of_copies", "ten")
    assert any("non-negative integer" in e for e in runner.validate())
