"""Safe YAML with positions: every value knows its ``file:line:col``.

PyYAML's composer gives nodes with marks; we turn them into small located values
(:class:`YScalar`, :class:`YSeq`, :class:`YMap`) instead of plain Python objects, so the
flow loader can point at the exact key or value that is wrong. Only the standard YAML
tags are accepted (no ``!!python/object``), and duplicate keys are errors (PyYAML would
silently keep the last one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ._definition import Location

__all__ = ["YAMLProblem", "YMap", "YNode", "YScalar", "YSeq", "parse_yaml"]

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}


class YAMLProblem(Exception):
    """A YAML-level problem at a location."""

    def __init__(self, location: Location, message: str) -> None:
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}")


@dataclass
class YScalar:
    value: Any
    loc: Location
    quoted: bool = False

    @property
    def value_loc(self) -> Location:
        """Where the text of the value starts (after an opening quote)."""
        return Location(
            self.loc.file, self.loc.line, self.loc.col + (1 if self.quoted else 0)
        )

    def plain(self) -> Any:
        return self.value


@dataclass
class YSeq:
    items: list[YNode]
    loc: Location

    def plain(self) -> Any:
        return [i.plain() for i in self.items]


@dataclass
class YMap:
    items: dict[str, tuple[Location, YNode]] = field(default_factory=dict)
    loc: Location = field(default_factory=lambda: Location("?", 0, 0))

    def plain(self) -> Any:
        return {k: v.plain() for k, (_, v) in self.items.items()}

    def get(self, key: str) -> YNode | None:
        item = self.items.get(key)
        return None if item is None else item[1]

    def key_loc(self, key: str) -> Location:
        item = self.items.get(key)
        return self.loc if item is None else item[0]


YNode = YScalar | YSeq | YMap


def _loc(filename: str, mark: Any) -> Location:
    return Location(filename, mark.line + 1, mark.column + 1)


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader used only to compose nodes (construction is ours)."""


def parse_yaml(text: str, filename: str) -> tuple[YNode | None, list[YAMLProblem]]:
    """Parse one YAML document into located values (None for an empty document) and
    the problems found on the way (non-standard tags, duplicate keys).

    Raises YAMLProblem for syntax errors (including tabs), after which nothing more can
    be read.
    """
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _loc(filename, mark) if mark is not None else Location(filename, 1, 1)
        msg = exc.problem or str(exc)
        if "\t" in text and "found character '\\t'" in str(exc):
            msg = "tab character: YAML indentation must use spaces"
        elif exc.context:
            msg = f"{exc.context}, {msg}" if exc.problem else exc.context
        if "flow mapping" in msg or "flow sequence" in msg:
            msg += " (hint: quote values containing ${...}, { } or , inside {...} and [...])"
        raise YAMLProblem(loc, f"invalid YAML: {msg}") from None
    except yaml.YAMLError as exc:
        raise YAMLProblem(Location(filename, 1, 1), f"invalid YAML: {exc}") from None
    if node is None:
        return None, []
    problems: list[YAMLProblem] = []
    return _convert(node, filename, problems), problems


def _convert(node: yaml.Node, filename: str, problems: list[YAMLProblem]) -> YNode:
    loc = _loc(filename, node.start_mark)
    if node.tag not in _STANDARD_TAGS:
        problems.append(
            YAMLProblem(
                loc, f"YAML tag {node.tag!r} is not allowed (flow files use plain YAML)"
            )
        )
        return YScalar(None, loc)
    if isinstance(node, yaml.ScalarNode):
        loader = _Loader("")
        try:
            value = loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise YAMLProblem(loc, f"invalid value: {exc}") from None
        if node.tag == "tag:yaml.org,2002:timestamp":
            value = node.value  # keep dates as the text the user wrote
        return YScalar(value, loc, quoted=node.style in ("'", '"'))
    if isinstance(node, yaml.SequenceNode):
        return YSeq([_convert(n, filename, problems) for n in node.value], loc)
    assert isinstance(node, yaml.MappingNode)
    out = YMap(loc=loc)
    for knode, vnode in node.value:
        kloc = _loc(filename, knode.start_mark)
        if knode.tag == "tag:yaml.org,2002:merge":
            problems.append(
                YAMLProblem(
                    kloc, "YAML merge keys (<<) are not supported in flow files"
                )
            )
            continue
        if not isinstance(knode, yaml.ScalarNode):
            problems.append(YAMLProblem(kloc, "mapping keys must be plain strings"))
            continue
        key = str(_convert(knode, filename, problems).plain())
        if key in out.items:
            first = out.items[key][0]
            problems.append(
                YAMLProblem(
                    kloc, f"duplicate key {key!r} (first defined at line {first.line})"
                )
            )
            continue
        out.items[key] = (kloc, _convert(vnode, filename, problems))
    return out
