"""ReplaceText and ReplaceTextWithMapping: every strategy and mode, NiFi's edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowengine
from flowengine import ValidationError
from flowengine.testing import TestRunner


def _run(
    content: bytes | str, attrs: dict[str, str] | None = None, **props: str
) -> TestRunner:
    runner = TestRunner("ReplaceText")
    for key, value in props.items():
        runner.set_property(key, value)
    runner.enqueue(content, attrs or {})
    runner.run()
    return runner


def _out(runner: TestRunner) -> bytes:
    runner.assert_all_transferred("success", 1)
    return runner.flowfiles_for("success")[0].content


def test_defaults_are_nifis() -> None:
    """Regex Replace of (?s)(^.*$) with $1, line by line: content unchanged."""
    runner = _run(b"a\r\nb\nc")
    assert _out(runner) == b"a\r\nb\nc"


def test_expression_language_with_back_references() -> None:
    """${'$1':toUpper()} sees capture group 1 (the NiFi CSV reformatting flow)."""
    runner = _run(
        b"john,smith\nada,lovelace\n",
        search_value="^(.*?),(.*?)$",
        replacement_value="${'$2':toUpper()}, $1 (${tag})",
        attrs={"tag": "t"},
    )
    assert _out(runner) == b"SMITH, john (t)\nLOVELACE, ada (t)\n"


def test_back_references_nifi_leniency() -> None:
    """A reference to a group the regex lacks is literal; $12 with one group is group 1
    then '2'; \\$ is a dollar."""
    runner = _run(
        b"price 42\n", search_value="(\\d+)", replacement_value="$1$12 $5 \\$9"
    )
    assert _out(runner) == b"price 42422 $5 $9\n"


def test_a_dollar_not_before_a_digit_makes_the_value_literal() -> None:
    """NiFi's normalizeReplacementString: '$' followed by a non-digit anywhere quotes
    the whole value, so its $1 stays as written too."""
    runner = _run(b"price 42\n", search_value="(\\d+)", replacement_value="$1 costs $x")
    assert _out(runner) == b"price $1 costs $x\n"


def test_a_reference_without_groups_goes_to_failure() -> None:
    """$1 with a regex that has no group: Java's 'No group 1' -> failure, intact."""
    runner = _run(b"abc\n", search_value="b", replacement_value="[$1]")
    runner.assert_all_transferred("failure", 1)
    assert "No group 1" in runner.flowfiles_for("failure")[0]["error.message"]


def test_regex_is_java_syntax() -> None:
    """\\p{Alpha}, named groups and \\Q..\\E work as in Java; $${...} escapes the
    Expression Language, but a '${' left in the value makes it literal (NiFi)."""
    runner = _run(
        b"ab12 x.y\n",
        search_value="(?<word>\\p{Alpha}+)(\\d+) x\\Q.\\Ey",
        replacement_value="$2-$1",
    )
    assert _out(runner) == b"12-ab\n"
    runner = _run(
        b"ab12\n",
        search_value="(?<word>\\p{Alpha}+)(\\d+)",
        replacement_value="$${word}-$2 ${word}",
        attrs={"word": "attr"},
    )
    assert _out(runner) == b"${word}-$2 attr\n"


def test_literal_replace() -> None:
    """Literal Replace: metacharacters are plain text, every occurrence replaced."""
    runner = _run(
        b"a.b.c\n",
        replacement_strategy="Literal Replace",
        search_value=".",
        replacement_value="$1",
    )
    assert _out(runner) == b"a$1b$1c\n"


@pytest.mark.parametrize(
    ("strategy", "extra", "expected"),
    [
        ("Prepend", {"replacement_value": ">"}, b">a\r\n>b\n>c"),
        ("Append", {"replacement_value": "<"}, b"a<\r\nb<\nc<"),
        ("Always Replace", {"replacement_value": "X"}, b"X\r\nX\nX"),
        (
            "Surround",
            {"text_to_prepend": "[", "text_to_append": "]"},
            b"[a]\r\n[b]\n[c]",
        ),
    ],
)
def test_line_strategies_keep_line_endings(
    strategy: str, extra: dict[str, str], expected: bytes
) -> None:
    """Line by line, values go inside the line ending, which is kept."""
    runner = _run(b"a\r\nb\nc", replacement_strategy=strategy, **extra)
    assert _out(runner) == expected


@pytest.mark.parametrize(
    ("strategy", "extra", "expected"),
    [
        ("Prepend", {"replacement_value": ">"}, b">a\nb\n"),
        ("Append", {"replacement_value": "<"}, b"a\nb\n<"),
        ("Always Replace", {"replacement_value": "X"}, b"X"),
        ("Surround", {"text_to_prepend": "[", "text_to_append": "]"}, b"[a\nb\n]"),
    ],
)
def test_entire_text_strategies(
    strategy: str, extra: dict[str, str], expected: bytes
) -> None:
    """Entire text: once around the whole content (streamed, no buffer limit)."""
    runner = _run(
        b"a\nb\n",
        replacement_strategy=strategy,
        evaluation_mode="Entire text",
        maximum_buffer_size="1 B",
        **extra,
    )
    assert _out(runner) == expected


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("All", b"#1\n#2\n#3\n"),
        ("First-Line", b"#1\n2\n3\n"),
        ("Last-Line", b"1\n2\n#3\n"),
        ("Except-First-Line", b"1\n#2\n#3\n"),
        ("Except-Last-Line", b"#1\n#2\n3\n"),
    ],
)
def test_line_by_line_evaluation_modes(mode: str, expected: bytes) -> None:
    """Line-by-Line Evaluation Mode picks the lines the strategy applies to."""
    runner = _run(
        b"1\n2\n3\n",
        replacement_strategy="Prepend",
        replacement_value="#",
        line_by_line_evaluation_mode=mode,
    )
    assert _out(runner) == expected


def test_entire_text_regex_spans_lines() -> None:
    """Entire text: the regex sees all lines at once."""
    runner = _run(
        b"a\nb\n",
        evaluation_mode="Entire text",
        search_value="a\\nb",
        replacement_value="ab",
    )
    assert _out(runner) == b"ab\n"


def test_substitute_variables() -> None:
    """${name} becomes the attribute's value; unknown names stay as written; $${x}
    escapes and ${x:-d} defaults, as NiFi's StringSubstitutor does."""
    runner = _run(
        b"Hi ${who}, ${missing}! $${who} ${nope:-default}\n",
        {"who": "Ada"},
        replacement_strategy="Substitute Variables",
    )
    assert _out(runner) == b"Hi Ada, ${missing}! ${who} default\n"


def test_dot_star_always_replaces() -> None:
    """NiFi: Search Value '.*' replaces the whole line without evaluating a regex."""
    runner = _run(b"abc\ndef\n", search_value=".*", replacement_value="x")
    assert _out(runner) == b"x\nx\n"


def test_entire_text_over_the_buffer_goes_to_failure() -> None:
    """Content larger than Maximum Buffer Size: failure with error.message, intact."""
    runner = _run(
        b"0123456789",
        evaluation_mode="Entire text",
        maximum_buffer_size="4 B",
        search_value="1",
        replacement_value="x",
    )
    runner.assert_all_transferred("failure", 1)
    failed = runner.flowfiles_for("failure")[0]
    failed.assert_content_equals(b"0123456789")
    assert "Maximum Buffer Size" in failed["error.message"]


def test_line_over_the_buffer_goes_to_failure() -> None:
    """Line by line, one line longer than Maximum Buffer Size fails the FlowFile."""
    runner = _run(
        b"short\n" + b"x" * 100 + b"\n",
        maximum_buffer_size="10 B",
        search_value="x",
        replacement_value="y",
    )
    runner.assert_all_transferred("failure", 1)
    assert "Maximum Buffer Size" in runner.flowfiles_for("failure")[0]["error.message"]


def test_invalid_utf8_goes_to_failure_and_others_pass() -> None:
    """Bytes that are not UTF-8: that FlowFile to failure, the batch carries on."""
    runner = TestRunner("ReplaceText")
    runner.set_property("Search Value", "a")
    runner.set_property("Replacement Value", "b")
    runner.enqueue(b"\xff\xfe a\n")
    runner.enqueue(b"a\n")
    runner.run()
    assert runner.transfer_counts() == {"failure": 1, "success": 1}
    failed = runner.flowfiles_for("failure")[0]
    failed.assert_content_equals(b"\xff\xfe a\n")
    assert "not valid utf-8" in failed["error.message"]
    runner.flowfiles_for("success")[0].assert_content_equals(b"b\n")


def test_other_character_set() -> None:
    """Character Set decodes and encodes the content."""
    runner = _run(
        "café\n".encode("latin-1"),
        character_set="ISO-8859-1",
        search_value="é",
        replacement_value="e",
    )
    assert _out(runner) == b"cafe\n"


def test_search_value_with_expression_language() -> None:
    """Search Value is evaluated per FlowFile."""
    runner = _run(b"a-b\n", {"sep": "-"}, search_value="${sep}", replacement_value="+")
    assert _out(runner) == b"a+b\n"


def test_bad_evaluated_regex_goes_to_failure() -> None:
    """A Search Value that only fails to compile once evaluated: that FlowFile fails."""
    runner = _run(b"a\n", {"re": "("}, search_value="${re}", replacement_value="x")
    runner.assert_all_transferred("failure", 1)
    assert "Search Value" in runner.flowfiles_for("failure")[0]["error.message"]


def test_invalid_regex_is_rejected_with_its_location(tmp_path: Path) -> None:
    """A Search Value that does not compile is a validation error at file:line:col."""
    path = tmp_path / "flow.yaml"
    path.write_text(
        "flow: bad\n"
        "processors:\n"
        "  gen: {type: GenerateFlowFile}\n"
        "  replace:\n"
        "    type: ReplaceText\n"
        "    properties:\n"
        "      Search Value: 'a(b'\n"
        "    auto_terminate: [success, failure]\n"
        "connections:\n"
        "  - gen -> replace\n"
    )
    with pytest.raises(ValidationError) as err:
        flowengine.load(path).validate(raise_on_error=True)
    assert f"{path}:7:" in str(err.value)
    assert "regular expression" in str(err.value)


def test_literal_replace_needs_a_search_value() -> None:
    """NiFi: Literal Replace with an empty Search Value is invalid."""
    runner = TestRunner("ReplaceText")
    runner.set_property("Replacement Strategy", "Literal Replace")
    runner.set_property("Search Value", "")
    runner.assert_not_valid()


def test_streams_large_content_line_by_line() -> None:
    """8 MB with a 1 KB buffer: line by line never needs more than a line."""
    content = b"".join(b"%d,x\n" % i for i in range(1_000_000))
    runner = _run(
        content,
        maximum_buffer_size="1 KB",
        search_value="^(\\d+),x$",
        replacement_value="$1",
    )
    out = _out(runner)
    assert out.count(b"\n") == 1_000_000
    assert out.startswith(b"0\n1\n2\n")


# -- ReplaceTextWithMapping --------------------------------------------------------------


def _mapping(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mapping.txt"
    path.write_text(text)
    return str(path)


def test_mapping_replaces_known_words(tmp_path: Path) -> None:
    """Each \\S+ match found in the mapping is replaced; others stay."""
    runner = TestRunner("ReplaceTextWithMapping")
    runner.set_property("Mapping File", _mapping(tmp_path, "cat\tdog\nred\tblue\n"))
    runner.enqueue(b"the red cat sat\n")
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(b"the blue dog sat\n")


def test_mapping_matching_group(tmp_path: Path) -> None:
    """With Matching Group 1 only that group's text is looked up and replaced."""
    runner = TestRunner("ReplaceTextWithMapping")
    runner.set_property("Mapping File", _mapping(tmp_path, "7\tseven\n"))
    runner.set_property("Regular Expression", "id=(\\d+)")
    runner.set_property("Matching Group", "1")
    runner.enqueue(b"id=7 id=8 7\n")
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(b"id=seven id=8 7\n")


def test_mapping_failures(tmp_path: Path) -> None:
    """Missing mapping file: invalid; content over the buffer: failure."""
    runner = TestRunner("ReplaceTextWithMapping")
    runner.set_property("Mapping File", str(tmp_path / "nope.txt"))
    runner.assert_not_valid()
    runner = TestRunner("ReplaceTextWithMapping")
    runner.set_property("Mapping File", _mapping(tmp_path, "a\tb\n"))
    runner.set_property("Maximum Buffer Size", "2 B")
    runner.enqueue(b"aaaa")
    runner.run()
    runner.assert_all_transferred("failure", 1)
    runner.flowfiles_for("failure")[0].assert_attribute_exists("error.message")
