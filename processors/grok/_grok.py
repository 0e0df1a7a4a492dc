"""Compile Grok expressions to Python ``re`` patterns.

``%{NAME}``, ``%{NAME:field}`` and ``%{NAME:field:type}`` (type ``int``/``long``/
``float``/``double``/``boolean``/``string``) expand recursively from the pattern
dictionary. Oniguruma named groups ``(?<field>...)`` become Python groups. Field names
need not be Python identifiers (``[a][b]``, dotted names): each capture gets a synthetic
group name and :class:`Grok` maps it back.

With *named captures only* false, every ``%{NAME}`` without a field name is captured
under the pattern name too (java-grok's behaviour, which NiFi uses): ``%{IP}`` yields
an ``IP`` capture.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._patterns import STANDARD_PATTERNS

__all__ = ["Grok", "GrokError", "parse_pattern_text"]

_REF = re.compile(
    r"%\{(?P<name>[A-Za-z0-9_]+)(?::(?P<field>[^:}]+))?(?::(?P<type>[A-Za-z]+))?\}"
)
_ONIG_GROUP = re.compile(r"\(\?<(?P<name>[A-Za-z_][A-Za-z0-9_.\[\]@-]*)>")
_TYPES = {"int", "long", "float", "double", "boolean", "string"}
_MAX_DEPTH = 64


class GrokError(ValueError):
    """The expression names an unknown pattern or does not compile; ``column`` is
    1-based in the expression (0 when unknown)."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


def parse_pattern_text(text: str, origin: str = "patterns") -> dict[str, str]:
    """Parse a Grok pattern file: ``NAME regex`` per line, ``#`` comments, blank lines."""
    patterns: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, _, regex = stripped.partition(" ")
        if not re.fullmatch(r"[A-Za-z0-9_]+", name) or not regex.strip():
            raise GrokError(
                f"{origin} line {number}: expected 'NAME regex', got {line!r}"
            )
        patterns[name] = regex.strip()
    return patterns


@dataclass(frozen=True)
class _Field:
    name: str
    type: str | None


def _convert(value: str, kind: str | None) -> Any:
    if kind in ("int", "long"):
        try:
            return int(value)
        except ValueError:
            return value
    if kind in ("float", "double"):
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean":
        return value.lower() == "true"
    return value


class Grok:
    """A compiled Grok expression.

    :meth:`match` returns ``{field: value}`` for the first match in the text (or
    ``None``); several captures of one field give a list of their non-null values.
    """

    def __init__(
        self,
        expression: str,
        patterns: Mapping[str, str] | None = None,
        *,
        named_only: bool = False,
    ) -> None:
        self.expression = expression
        self.patterns = dict(STANDARD_PATTERNS)
        if patterns:
            self.patterns.update(patterns)
        self.named_only = named_only
        self._fields: dict[str, _Field] = {}
        regex = self._expand(expression, 0, top=True)
        try:
            self.regex = re.compile(regex)
        except re.error as exc:
            raise GrokError(
                f"the expanded expression is not a valid regular expression: {exc}"
            ) from None
        self._groups = [
            (g, self._fields[g]) for g in self.regex.groupindex if g in self._fields
        ]
        self.field_names = list(dict.fromkeys(f.name for _, f in self._groups))
        #: every field captured once and untyped: captures are str or None, fast path
        self.simple = len(self.field_names) == len(self._groups) and all(
            f.type is None for _, f in self._groups
        )
        self._group_names = tuple(g for g, _ in self._groups)

    def _group(self, field: str, kind: str | None) -> str:
        group = f"g{len(self._fields)}"
        self._fields[group] = _Field(field, kind)
        return group

    def _expand(self, text: str, depth: int, top: bool = False) -> str:
        if depth > _MAX_DEPTH:
            raise GrokError(
                "patterns refer to each other in a cycle (or nest deeper than 64)"
            )
        text = _ONIG_GROUP.sub(lambda m: f"(?P<{self._group(m['name'], None)}>", text)
        out: list[str] = []
        pos = 0
        for m in _REF.finditer(text):
            out.append(text[pos : m.start()])
            pos = m.end()
            name, field, kind = m["name"], m["field"], m["type"]
            body = self.patterns.get(name)
            if body is None:
                raise GrokError(
                    f"unknown Grok pattern %{{{name}}}"
                    + (
                        f" at column {m.start() + 1}"
                        if top
                        else " (used by another pattern)"
                    ),
                    m.start() + 1 if top else 0,
                )
            if kind is not None and kind.lower() not in _TYPES:
                raise GrokError(
                    f"unknown type {kind!r} in %{{{m.group(0)[2:-1]}}}",
                    m.start() + 1 if top else 0,
                )
            inner = self._expand(body, depth + 1)
            if field:
                out.append(
                    f"(?P<{self._group(field, kind.lower() if kind else None)}>{inner})"
                )
            elif not self.named_only:
                out.append(f"(?P<{self._group(name, None)}>{inner})")
            else:
                out.append(f"(?:{inner})")
        out.append(text[pos:])
        return "".join(out)

    def captures(self, m: re.Match[str]) -> dict[str, Any]:
        """The fields of a match: one value, or a list when captured more than once."""
        if self.simple:
            if len(self._group_names) == 1:
                return {self.field_names[0]: m.group(self._group_names[0])}
            return dict(zip(self.field_names, m.group(*self._group_names), strict=True))
        result: dict[str, Any] = {}
        for group, field in self._groups:
            value = m.group(group)
            if field.name in result:
                if value is None:
                    continue
                old = result[field.name]
                if old is None:
                    result[field.name] = _convert(value, field.type)
                elif isinstance(old, list):
                    old.append(_convert(value, field.type))
                else:
                    result[field.name] = [old, _convert(value, field.type)]
            else:
                result[field.name] = (
                    None if value is None else _convert(value, field.type)
                )
        return result

    def match(self, text: str) -> dict[str, Any] | None:
        m = self.regex.search(text)
        return None if m is None else self.captures(m)
