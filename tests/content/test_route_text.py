"""RouteText: each line routed by its own conditions, grouped, endings kept."""

from __future__ import annotations

import pytest

from flowengine.testing import TestRunner

CSV = b"a,1\r\nb,2\n  a,3  \nc,4"


def _run(content: bytes, **props: str) -> TestRunner:
    runner = TestRunner("RouteText")
    for key, value in props.items():
        runner.set_property(key, value)
    runner.enqueue(content, {"filename": "in.csv"})
    runner.run()
    return runner


def _content(runner: TestRunner, rel: str) -> list[bytes]:
    return [ff.content for ff in runner.flowfiles_for(rel)]


@pytest.mark.parametrize(
    ("strategy", "value", "expected"),
    [
        ("Starts With", "a", [b"a,1\r\n", b"  a,3  \n"]),
        ("Ends With", "3", [b"  a,3  \n"]),
        ("Contains", ",2", [b"b,2\n"]),
        ("Equals", "c,4", [b"c,4"]),
        (
            "Matches Regular Expression",
            "[ab],\\d",
            [b"a,1\r\n", b"b,2\n", b"  a,3  \n"],
        ),
        (
            "Contains Regular Expression",
            "\\d$",
            [b"a,1\r\n", b"b,2\n", b"  a,3  \n", b"c,4"],
        ),
    ],
)
def test_matching_strategies(strategy: str, value: str, expected: list[bytes]) -> None:
    """Each Matching Strategy, lines trimmed for the comparison but kept whole."""
    runner = _run(CSV, matching_strategy=strategy, hit=value)
    assert _content(runner, "hit") == [b"".join(expected)]
    hit = runner.flowfiles_for("hit")[0]
    hit.assert_attribute_equals("RouteText.Route", "hit")
    hit.assert_attribute_equals("RouteText.Group", "")
    hit.assert_attribute_equals("filename", "in.csv")
    original = runner.flowfiles_for("original")[0]
    original.assert_content_equals(CSV)
    original.assert_attribute_equals("RouteText.Route", "original")


def test_whitespace_is_significant_when_asked() -> None:
    """Ignore Leading/Trailing Whitespace false: '  a,3  ' does not start with 'a'."""
    runner = _run(
        CSV,
        matching_strategy="Starts With",
        ignore_leading_trailing_whitespace="false",
        hit="a",
    )
    assert _content(runner, "hit") == [b"a,1\r\n"]
    assert _content(runner, "unmatched") == [b"b,2\n  a,3  \nc,4"]


def test_ignore_case() -> None:
    """Ignore Case applies to plain and regex comparisons."""
    runner = _run(
        b"Hello\nhello\nHELLO\nbye\n",
        matching_strategy="Equals",
        ignore_case="true",
        h="hello",
    )
    assert _content(runner, "h") == [b"Hello\nhello\nHELLO\n"]
    runner = _run(
        b"ABC\nabc\n",
        matching_strategy="Matches Regular Expression",
        ignore_case="true",
        h="abc",
    )
    assert _content(runner, "h") == [b"ABC\nabc\n"]


def test_satisfies_expression_sees_line_and_line_number() -> None:
    """${line} is the line, ${lineNo} its 1-based number; attributes are visible."""
    runner = TestRunner("RouteText")
    runner.set_property("Matching Strategy", "Satisfies Expression")
    runner.set_property("body", "${lineNo:gt(1):and(${line:startsWith(${prefix})})}")
    runner.enqueue(b"h\nx1\nx2\nskip\n", {"prefix": "x"})
    runner.run()
    assert _content(runner, "body") == [b"x1\nx2\n"]
    assert _content(runner, "unmatched") == [b"h\nskip\n"]


def test_each_matching_property_gets_the_line() -> None:
    """Route to each matching Property Name: a line goes to every match."""
    runner = _run(b"ab\na\nb\nz\n", matching_strategy="Contains", has_a="a", has_b="b")
    assert _content(runner, "has_a") == [b"ab\na\n"]
    assert _content(runner, "has_b") == [b"ab\nb\n"]
    assert _content(runner, "unmatched") == [b"z\n"]


@pytest.mark.parametrize(
    ("routing", "matched", "unmatched"),
    [
        ("Route to 'matched' if line matches all conditions", b"ab\n", b"a\nb\nz\n"),
        ("Route to 'matched' if lines matches any condition", b"ab\na\nb\n", b"z\n"),
    ],
)
def test_all_and_any_strategies(routing: str, matched: bytes, unmatched: bytes) -> None:
    """The all/any strategies route to matched/unmatched."""
    runner = _run(
        b"ab\na\nb\nz\n",
        routing_strategy=routing,
        matching_strategy="Contains",
        has_a="a",
        has_b="b",
    )
    assert _content(runner, "matched") == [matched]
    assert _content(runner, "unmatched") == [unmatched]


def test_grouping_regular_expression() -> None:
    """Lines go to one FlowFile per relationship and group; RouteText.Group names it;
    lines the grouping regex does not match form the empty group."""
    runner = _run(
        b"a,x,1\nb,y,2\na,x,3\nnocomma\n",
        matching_strategy="Contains",
        grouping_regular_expression="(.*?),(.*?),.*",
        any=",",
    )
    groups = {ff["RouteText.Group"]: ff.content for ff in runner.flowfiles_for("any")}
    assert groups == {"a, x": b"a,x,1\na,x,3\n", "b, y": b"b,y,2\n"}
    assert _content(runner, "unmatched") == [b"nocomma\n"]
    runner.flowfiles_for("unmatched")[0].assert_attribute_equals("RouteText.Group", "")


def test_invalid_configurations() -> None:
    """No condition, a bad regex, or a grouping regex without a group: invalid."""
    runner = TestRunner("RouteText")
    runner.set_property("Matching Strategy", "Contains")
    runner.assert_not_valid()
    runner.set_property("x", "(")
    runner.assert_valid()  # Contains: the value is plain text
    runner.set_property("Matching Strategy", "Matches Regular Expression")
    runner.assert_not_valid()
    runner = TestRunner("RouteText")
    runner.set_property("Matching Strategy", "Contains")
    runner.set_property("x", "a")
    runner.set_property("Grouping Regular Expression", "abc")
    runner.assert_not_valid()


def test_invalid_utf8_reads_as_replacement_characters() -> None:
    """Malformed bytes become U+FFFD (Java's reader); nothing is lost."""
    runner = _run(b"\xffa\nb\n", matching_strategy="Contains", a="a")
    assert _content(runner, "a") == ["\ufffda\n".encode()]
    assert _content(runner, "unmatched") == [b"b\n"]
