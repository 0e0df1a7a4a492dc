"""The Jayway JsonPath dialect: RFC 9535 CTS in standard mode, and a table that
pins every Jayway behaviour the dialect layer adds.

Sources for the table: Jayway JsonPath README (github.com/json-path/JsonPath,
sections "Operators", "Functions", "Filter Operators", "What is Returned When?")
and NiFi's EvaluateJsonPath documentation ("If the JsonPath evaluates to a JSON
array ... definite/indefinite")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowengine.expression.jayway import (
    InvalidJsonPath,
    PathNotFound,
    compile_path,
    standard_values,
)

CTS = Path("/work/shared/conformance/jsonpath/cts.json")
# measured 2026-12-03 with python-jsonpath 2.2.2 (strict environment): 695 / 703
CTS_FLOOR = 695

DOC: dict[str, Any] = {
    "store": {
        "book": [
            {
                "category": "reference",
                "author": "Nigel Rees",
                "price": 8.95,
                "tags": ["a", "b"],
            },
            {
                "category": "fiction",
                "author": "Evelyn Waugh",
                "price": 12.99,
                "tags": ["c"],
                "isbn": "0-553-21311-3",
            },
            {
                "category": "fiction",
                "author": "Herman Melville",
                "price": 8.99,
                "tags": [],
            },
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "my key": 1,
}

# (path, expected, source) -- README = Jayway JsonPath README, NIFI = EvaluateJsonPath docs
TABLE: list[tuple[str, Any, str]] = [
    # What is Returned When: definite -> value, indefinite -> list
    ("$.store.bicycle.color", "red", "README: definite path returns the value"),
    ("$.store.book[0].author", "Nigel Rees", "README: definite path"),
    (
        "$.store.book[*].author",
        ["Nigel Rees", "Evelyn Waugh", "Herman Melville"],
        "README: wildcard is indefinite -> list",
    ),
    ("$..color", ["red"], "README: deep scan is indefinite -> list"),
    ("$.store.book[0,1].price", [8.95, 12.99], "README: union is indefinite"),
    ("$.store.book[:1].price", [8.95], "README: slice is indefinite"),
    (
        "$.store.book[?(@.isbn)].author",
        ["Evelyn Waugh"],
        "README: filter (existence) is indefinite",
    ),
    # forms seen in real NiFi flows
    ('$.["my key"]', 1, "README bracket notation; `.[` accepted by Jayway's compiler"),
    ('$.store.["bicycle"].color', "red", "Jayway compiler skips `.` before `[`"),
    # Filter operators (README "Filter Operators")
    ("$.store.book[?(@.price > 10)].author", ["Evelyn Waugh"], "README: >"),
    (
        "$.store.book[?(@.category in ['reference'])].author",
        ["Nigel Rees"],
        "README: in",
    ),
    (
        "$.store.book[?(@.category nin ['reference'])].author",
        ["Evelyn Waugh", "Herman Melville"],
        "README: nin",
    ),
    (
        "$.store.book[?(@.tags subsetof ['a', 'b', 'z'])].author",
        ["Nigel Rees", "Herman Melville"],
        "README: subsetof (empty set is a subset)",
    ),
    (
        "$.store.book[?(@.tags anyof ['c', 'z'])].author",
        ["Evelyn Waugh"],
        "README: anyof",
    ),
    (
        "$.store.book[?(@.tags noneof ['a'])].author",
        ["Evelyn Waugh", "Herman Melville"],
        "README: noneof",
    ),
    ("$.store.book[?(@.tags size 2)].author", ["Nigel Rees"], "README: size (array)"),
    (
        "$.store.book[?(@.author size 10)].author",
        ["Nigel Rees"],
        "README: size (string)",
    ),
    ("$.store.book[?(@.tags empty true)].author", ["Herman Melville"], "README: empty"),
    (
        "$.store.book[?(@.tags empty false)].author",
        ["Nigel Rees", "Evelyn Waugh"],
        "README: empty false",
    ),
    (
        "$.store.book[?(@.author =~ /.*REES/i)].author",
        ["Nigel Rees"],
        "README: =~ regex",
    ),
    # Functions (README "Functions"): applied at the tail of a path
    ("$.store.book.length()", 3, "README: length()"),
    ("$.store.book.size()", 3, "README: size()"),
    ("$.store.book[*].price.min()", 8.95, "README: min()"),
    ("$.store.book[*].price.max()", 12.99, "README: max()"),
    ("$.store.book[*].price.sum()", pytest.approx(30.93), "README: sum()"),
    ("$.store.book[*].price.avg()", pytest.approx(10.31), "README: avg()"),
    (
        "$.store.book[*].price.stddev()",
        pytest.approx(1.8951165),
        "README: stddev() (population)",
    ),
    ("$.store.bicycle.keys()", ["color", "price"], "README: keys()"),
    ("$.store.book[*].author.first()", "Nigel Rees", "README: first()"),
    ("$.store.book[*].author.last()", "Herman Melville", "README: last()"),
]


@pytest.mark.parametrize(
    ("path", "expected", "source"), TABLE, ids=[t[0] for t in TABLE]
)
def test_jayway_behaviour(path: str, expected: Any, source: str) -> None:
    assert compile_path(path).read(DOC) == expected, source


def test_definite_missing_is_path_not_found() -> None:
    """README: a definite path that does not exist throws PathNotFoundException."""
    with pytest.raises(PathNotFound):
        compile_path("$.store.nothing").read(DOC)
    assert compile_path("$..nothing").read(DOC) == []


def test_names_inside_quotes_do_not_change_the_shape() -> None:
    """A '*' or '..' inside a quoted name is a name, not a wildcard/deep scan."""
    assert compile_path("$['a*b']").definite
    assert compile_path("$['x..y']").read({"x..y": 5}) == 5


def test_invalid_path_says_where_and_hints() -> None:
    with pytest.raises(InvalidJsonPath, match=r"hint: paths look like"):
        compile_path("$.store[")
    with pytest.raises(InvalidJsonPath, match="empty"):
        compile_path("  ")


def test_rfc9535_cts_pass_rate_does_not_regress() -> None:
    """RFC 9535 Compliance Test Suite through the standard (strict) mode."""
    tests = json.loads(CTS.read_text())["tests"]
    passed = 0
    for t in tests:
        if t.get("invalid_selector"):
            try:
                standard_values(t["selector"], {})
            except Exception:
                passed += 1
            continue
        try:
            got = standard_values(t["selector"], t["document"])
        except Exception:
            continue
        passed += got == t["result"] if "result" in t else got in t["results"]
    assert len(tests) == 703
    assert passed >= CTS_FLOOR, f"{passed}/{len(tests)}"
