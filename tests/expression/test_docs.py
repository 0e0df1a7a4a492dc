"""Evaluates the examples in docs/expression-language.md so the page cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flowengine.expression import compile, functions

DOC = Path(__file__).resolve().parents[2] / "docs" / "expression-language.md"
TEXT = DOC.read_text(encoding="utf-8")
ATTRS: dict[str, str] = json.loads(
    re.search(r"## Example attributes.*?```json\n(.*?)```", TEXT, re.S).group(1)  # type: ignore[union-attr]
)
EXAMPLES = re.findall(r"^- `(\$\{.*\})` → (`(.*)`|\*\(varies\)\*)$", TEXT, re.M)
MULTI = {
    "anyAttribute",
    "allAttributes",
    "anyMatchingAttribute",
    "allMatchingAttributes",
    "anyDelineatedValue",
    "allDelineatedValues",
}


@pytest.mark.parametrize(("expression", "shown", "expected"), EXAMPLES)
def test_documented_example(expression: str, shown: str, expected: str) -> None:
    """Each documented example evaluates to the documented result."""
    result = compile(expression).evaluate(attributes=ATTRS)
    if shown.startswith("`"):
        assert result == expected


def test_every_function_is_documented_with_an_example() -> None:
    """Every function has a ### heading followed by at least one example."""
    sections = dict(re.findall(r"^### (\w+)\n(.*?)(?=^##)", TEXT + "\n##", re.S | re.M))
    names = set(functions()) | MULTI
    missing = sorted(
        n for n in names if n not in sections or "- `${" not in sections[n]
    )
    assert missing == []
