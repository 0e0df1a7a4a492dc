"""ExtractText: capture groups into attributes exactly as NiFi names them."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowengine
from flowengine import ValidationError
from flowengine.testing import TestRunner


def _run(content: bytes | str, **props: str) -> TestRunner:
    runner = TestRunner("ExtractText")
    for key, value in props.items():
        runner.set_property(key, value)
    runner.enqueue(content)
    runner.run()
    return runner


def _attrs(runner: TestRunner, prefix: str) -> dict[str, str]:
    runner.assert_all_transferred("matched", 1)
    ff = runner.flowfiles_for("matched")[0]
    return {
        k: v
        for k, v in ff.attributes.items()
        if k == prefix or k.startswith(prefix + ".")
    }


def test_groups_become_name_and_indexed_attributes() -> None:
    """First group -> name; each group n -> name.n; group 0 -> name.0 by default."""
    runner = _run(b"order=42 qty=7", order="order=(\\d+) qty=(\\d+)")
    assert _attrs(runner, "order") == {
        "order": "42",
        "order.0": "order=42 qty=7",
        "order.1": "42",
        "order.2": "7",
    }


def test_capture_group_zero_can_be_left_out() -> None:
    """Include Capture Group 0 false: no name.0."""
    runner = _run(b"k=v", kv="(\\w)=(\\w)", include_capture_group_0="false")
    assert _attrs(runner, "kv") == {"kv": "k", "kv.1": "k", "kv.2": "v"}


def test_optional_groups_that_did_not_match_are_omitted() -> None:
    """A group that took no part (or matched nothing) sets no attribute."""
    runner = _run(b"ab", x="(a)(z)?(b)()")
    assert _attrs(runner, "x") == {"x": "a", "x.0": "ab", "x.1": "a", "x.3": "b"}


def test_repeating_capture_groups_continue_the_numbering() -> None:
    """Enable repeating capture group: later matches take the next indexes."""
    runner = _run(
        b"1-2 3-4 5-6",
        p="(\\d)-(\\d)",
        enable_repeating_capture_group="true",
    )
    assert _attrs(runner, "p") == {
        "p": "1",
        "p.0": "1-2",
        "p.1": "1",
        "p.2": "2",
        "p.3": "3",
        "p.4": "4",
        "p.5": "5",
        "p.6": "6",
    }


def test_only_first_match_without_repeating() -> None:
    """By default only the first match is extracted."""
    assert _attrs(_run(b"1-2 3-4", p="(\\d)-(\\d)"), "p")["p.2"] == "2"
    assert "p.3" not in _attrs(_run(b"1-2 3-4", p="(\\d)-(\\d)"), "p")


def test_named_groups() -> None:
    """Enable named group support: name.<group> for named groups."""
    runner = _run(
        b"user=ada id=7",
        u="user=(?<user>\\w+) id=(?<id>\\d+)",
        enable_named_group_support="true",
        include_capture_group_0="false",
    )
    assert _attrs(runner, "u") == {"u": "ada", "u.user": "ada", "u.id": "7"}


def test_named_groups_must_all_be_named() -> None:
    """With named groups enabled an unnamed group is invalid."""
    runner = TestRunner("ExtractText")
    runner.set_property("u", "(?<a>x)(y)")
    runner.set_property("Enable named group support", "true")
    runner.assert_not_valid()


def test_maximum_capture_group_length_truncates() -> None:
    """Values are cut to Maximum Capture Group Length characters."""
    runner = _run(b"abcdefgh", s="(\\w+)", maximum_capture_group_length="3")
    assert _attrs(runner, "s") == {"s": "abc", "s.0": "abc", "s.1": "abc"}


def test_only_the_buffer_is_examined() -> None:
    """Content past Maximum Buffer Size is not evaluated (NiFi); no failure."""
    runner = _run(b"aaaa-tail", t="(tail)", maximum_buffer_size="4 B")
    runner.assert_all_transferred("unmatched", 1)
    runner.flowfiles_for("unmatched")[0].assert_attribute_not_exists("t")


@pytest.mark.parametrize(
    ("flag", "content", "regex"),
    [
        ("enable_case_insensitive_matching", b"HELLO", "(hello)"),
        ("enable_dotall_mode", b"a\nb", "(a.b)"),
        ("enable_multiline_mode", b"x\nstart", "^(start)"),
        ("permit_whitespace_and_comments_in_pattern", b"ab", "(a) (b) # comment"),
        ("enable_literal_parsing_of_the_pattern", b"a+b", "a+b"),
        ("enable_unicode_predefined_character_classes", "é".encode(), "(\\w)"),
        ("enable_canonical_equivalence", "e\u0301".encode(), "(\u00e9)"),
    ],
)
def test_regex_flags(flag: str, content: bytes, regex: str) -> None:
    """Each of NiFi's regex flag properties changes the match as Java's flag does."""
    assert _run(content, r=regex).transfer_counts() == {"unmatched": 1}
    assert _run(content, r=regex, **{flag: "true"}).transfer_counts() == {"matched": 1}


def test_unicode_case_folding() -> None:
    """Case-insensitive matching is ASCII-only unless Unicode-aware Case Folding."""
    base = {"r": "(é)", "enable_case_insensitive_matching": "true"}
    assert _run("É".encode(), **base).transfer_counts() == {"unmatched": 1}
    folded = _run("É".encode(), enable_unicode_aware_case_folding="true", **base)
    assert folded.transfer_counts() == {"matched": 1}


def test_unmatched_sets_no_attributes() -> None:
    """No regex matches: unmatched, attributes unchanged."""
    runner = _run(b"nothing", a="(\\d+)", b="(zzz)")
    runner.assert_all_transferred("unmatched", 1)
    runner.flowfiles_for("unmatched")[0].assert_attribute_not_exists("a")


def test_invalid_utf8_reads_as_replacement_characters() -> None:
    """Malformed bytes decode to U+FFFD as in Java; the rest still matches."""
    runner = _run(b"\xff id=9", id="id=(\\d)")
    assert _attrs(runner, "id")["id"] == "9"


def test_group_zero_off_needs_a_group() -> None:
    """Include Capture Group 0 false: a regex without groups is invalid (NiFi)."""
    runner = TestRunner("ExtractText")
    runner.set_property("x", "abc")
    runner.set_property("Include Capture Group 0", "false")
    runner.assert_not_valid()


def test_bad_regex_is_rejected_with_its_location(tmp_path: Path) -> None:
    """A dynamic regex that does not compile is reported at file:line:col."""
    path = tmp_path / "flow.yaml"
    path.write_text(
        "flow: bad\n"
        "processors:\n"
        "  gen: {type: GenerateFlowFile}\n"
        "  extract:\n"
        "    type: ExtractText\n"
        "    properties:\n"
        "      good: '(\\d+)'\n"
        "      broken: '([a-'\n"
        "    auto_terminate: [matched, unmatched]\n"
        "connections:\n"
        "  - gen -> extract\n"
    )
    with pytest.raises(ValidationError) as err:
        flowengine.load(path).validate(raise_on_error=True)
    message = str(err.value)
    assert f"{path}:8:" in message
    assert "broken" in message
    assert "good" not in message
