"""RouteOnContent: regexes against the content decide the relationships."""

from __future__ import annotations

from flowengine.testing import TestRunner


def _runner(**props: str) -> TestRunner:
    runner = TestRunner("RouteOnContent")
    for key, value in props.items():
        runner.set_property(key, value)
    return runner


def test_must_match_exactly_by_default() -> None:
    """Default Match Requirement: the regex must match the entire content."""
    runner = _runner(digits="\\d+")
    runner.enqueue(b"12345")
    runner.enqueue(b"123 and text")
    runner.run()
    assert [ff.content for ff in runner.flowfiles_for("digits")] == [b"12345"]
    assert [ff.content for ff in runner.flowfiles_for("unmatched")] == [b"123 and text"]


def test_contain_match_and_clones_for_several_relationships() -> None:
    """'content must contain match': every matching relationship gets the FlowFile."""
    runner = _runner(
        match_requirement="content must contain match", num="\\d", word="[a-z]+"
    )
    runner.enqueue(b"abc 1")
    runner.run()
    assert runner.transfer_counts() == {"num": 1, "word": 1}
    uuids = {runner.flowfiles_for(r)[0]["uuid"] for r in ("num", "word")}
    assert len(uuids) == 2


def test_expression_language_in_the_regex() -> None:
    """The regex is evaluated against each FlowFile's attributes."""
    runner = _runner(match_requirement="content must contain match", hit="${needle}")
    runner.enqueue(b"find the pin", {"needle": "pin"})
    runner.enqueue(b"find the pin", {"needle": "nail"})
    runner.run()
    assert runner.transfer_counts() == {"hit": 1, "unmatched": 1}


def test_only_the_buffer_is_examined() -> None:
    """Content Buffer Size bounds what is read and matched."""
    runner = _runner(
        match_requirement="content must contain match",
        content_buffer_size="4 B",
        tail="tail",
    )
    runner.enqueue(b"headtail")
    runner.run()
    runner.assert_all_transferred("unmatched", 1)


def test_character_set_and_invalid_bytes() -> None:
    """Character Set decodes; malformed bytes read as U+FFFD (NiFi has no failure)."""
    runner = _runner(
        match_requirement="content must contain match",
        character_set="UTF-16",
        hi="hi",
    )
    runner.enqueue("hi".encode("utf-16"))
    runner.run()
    runner.assert_all_transferred("hi", 1)
    runner = _runner(match_requirement="content must contain match", ok="ok")
    runner.enqueue(b"\xff ok")
    runner.run()
    runner.assert_all_transferred("ok", 1)


def test_needs_a_valid_regex() -> None:
    """No dynamic property, or one that does not compile: invalid."""
    _runner().assert_not_valid()
    _runner(bad="(").assert_not_valid()
