"""Jayway JsonPath dialect: the one JsonPath evaluator of flowengine.

NiFi evaluates JsonPath with Jayway JsonPath; this module gives that dialect on top
of the maintained ``python-jsonpath`` library (RFC 9535 plus extensions), so that
EvaluateJsonPath, SplitJson, JsonPathReader and the EL ``jsonPath*`` functions all
agree. The layer adds, as Jayway documents them (README of json-path/JsonPath):

* result shape: a *definite* path (no ``..``, ``*``, filter, union or slice) reads
  one value and a missing value is :class:`PathNotFound`; an indefinite path reads a
  list (possibly empty);
* the ``.[`` and ``$.["k"]`` bracket-after-dot forms seen in real flows;
* filter operators ``nin``, ``subsetof``, ``anyof``, ``noneof``, ``size``, ``empty``
  (``in`` and ``=~`` are the library's own);
* trailing functions ``length() size() min() max() avg() stddev() sum() keys()
  first() last()``.

:func:`compile_path` raises :class:`InvalidJsonPath` (a ``ValueError``) with the
library's position and a hint; compiled paths are cached.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any, Final

import jsonpath
from jsonpath.function_extensions import ExpressionType, FilterFunction

__all__ = [
    "InvalidJsonPath",
    "JaywayPath",
    "PathNotFound",
    "compile_path",
    "standard_values",
]


class InvalidJsonPath(ValueError):
    """The expression is not a JsonPath this dialect understands."""


class PathNotFound(LookupError):
    """A definite path named a value the document does not have."""


def _as_list(v: object) -> list[Any] | None:
    if isinstance(v, str):  # right operands travel as JSON text (see _rewrite)
        try:
            v = json.loads(v)
        except ValueError:
            return None
    return v if isinstance(v, list) else None


def _literal(v: object) -> object:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


class _SubsetOf(FilterFunction):
    arg_types = [ExpressionType.VALUE, ExpressionType.VALUE]
    return_type = ExpressionType.LOGICAL

    def __call__(self, left: object, right: object) -> bool:
        a, b = _as_list(left), _as_list(right)
        return a is not None and b is not None and all(x in b for x in a)


class _AnyOf(FilterFunction):
    arg_types = [ExpressionType.VALUE, ExpressionType.VALUE]
    return_type = ExpressionType.LOGICAL

    def __call__(self, left: object, right: object) -> bool:
        a, b = _as_list(left), _as_list(right)
        return a is not None and b is not None and any(x in b for x in a)


class _NoneOf(FilterFunction):
    arg_types = [ExpressionType.VALUE, ExpressionType.VALUE]
    return_type = ExpressionType.LOGICAL

    def __call__(self, left: object, right: object) -> bool:
        a, b = _as_list(left), _as_list(right)
        return a is not None and b is not None and not any(x in b for x in a)


class _SizeIs(FilterFunction):
    arg_types = [ExpressionType.VALUE, ExpressionType.VALUE]
    return_type = ExpressionType.LOGICAL

    def __call__(self, left: object, right: object) -> bool:
        return isinstance(left, (str, list, dict)) and len(left) == _literal(right)


class _Empty(FilterFunction):
    arg_types = [ExpressionType.VALUE, ExpressionType.VALUE]
    return_type = ExpressionType.LOGICAL

    def __call__(self, left: object, right: object) -> bool:
        if not isinstance(left, (str, list, dict)):
            return False
        return (len(left) == 0) == bool(_literal(right))


def _environment() -> jsonpath.JSONPathEnvironment:
    env = jsonpath.JSONPathEnvironment()
    env.function_extensions["jwsubsetof"] = _SubsetOf()
    env.function_extensions["jwanyof"] = _AnyOf()
    env.function_extensions["jwnoneof"] = _NoneOf()
    env.function_extensions["jwsize"] = _SizeIs()
    env.function_extensions["jwempty"] = _Empty()
    return env


_ENV: Final = _environment()
_STANDARD: Final = jsonpath.JSONPathEnvironment(strict=True)

_QUOTED: Final = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_INDEFINITE: Final = re.compile(r"\.\.|\*|\[\s*\?|\[[^\]]*[,:][^\]]*\]")
_FUNCTION: Final = re.compile(
    r"\.(length|size|min|max|avg|stddev|sum|keys|first|last)\(\)\s*$"
)
_OPERAND: Final = r"(@[\w.\[\]'\"-]*|\[[^\]]*\]|'[^']*'|\"[^\"]*\"|-?[\d.]+|true|false)"
_BINARY: Final = re.compile(
    _OPERAND + r"\s+(nin|subsetof|anyof|noneof|size|empty)\s+" + _OPERAND
)


def _mask(path: str) -> str:
    """``path`` with every quoted string replaced by same-length filler, so that
    syntax searches never look inside names or literals."""
    return _QUOTED.sub(lambda m: "'" + "_" * (len(m.group()) - 2) + "'", path)


def _rewrite(path: str) -> str:
    masked = _mask(path)
    # `.[` (and `$.["k"]`): Jayway reads the dot as nothing
    out, last = [], 0
    for m in re.finditer(r"(?<!\.)\.\[", masked):
        out.append(path[last : m.start()])
        last = m.start() + 1
    out.append(path[last:])
    path = "".join(out)

    def binary(m: re.Match[str]) -> str:
        left, op, right = m.group(1), m.group(2), m.group(3)
        if op == "nin":
            return f"!({left} in {right})"
        if not right.startswith("@"):
            literal = json.dumps(_json_literal(right)).replace("'", "\\'")
            right = f"'{literal}'"
        return f"jw{op}({left}, {right})"

    return _BINARY.sub(binary, path)


def _json_literal(text: str) -> Any:
    """A Jayway filter literal (JSON, or a single-quoted string/array) as a value."""
    try:
        return json.loads(text)
    except ValueError:
        try:
            return json.loads(re.sub(r"'((?:[^'\\]|\\.)*)'", r'"\1"', text))
        except ValueError:
            return text


def _numbers(values: list[Any], name: str) -> list[float]:
    nums = [
        v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if not nums:
        raise PathNotFound(
            f"Aggregation function attempted to calculate value using empty array ({name})"
        )
    return nums


def _stddev(nums: list[float]) -> float:
    mean = sum(nums) / len(nums)
    return math.sqrt(sum((x - mean) ** 2 for x in nums) / len(nums))


_FUNCTIONS: Final[dict[str, Callable[[Any], Any]]] = {
    "length": lambda v: len(v),
    "size": lambda v: len(v),
    "min": lambda v: float(min(_numbers(v, "min"))),
    "max": lambda v: float(max(_numbers(v, "max"))),
    "avg": lambda v: sum(_numbers(v, "avg")) / len(_numbers(v, "avg")),
    "stddev": lambda v: _stddev(_numbers(v, "stddev")),
    "sum": lambda v: float(sum(_numbers(v, "sum"))),
    "keys": lambda v: list(v.keys()),
    "first": lambda v: v[0],
    "last": lambda v: v[-1],
}


class JaywayPath:
    """A compiled path. :meth:`read` gives Jayway's result; :meth:`matches` the
    library's node list (for the EL mutators)."""

    __slots__ = ("_compiled", "_keys", "definite", "function", "text")

    def __init__(
        self,
        text: str,
        compiled: Any,
        definite: bool,
        function: str | None,
        keys: tuple[str | int, ...] | None = None,
    ):
        self.text = text
        self._compiled = compiled
        self.definite = definite
        self.function = function
        # plain name/index chains ($.a.b[0]) are read directly: same result as the
        # library, several times faster on the hot path of EvaluateJsonPath
        self._keys = keys

    def matches(self, doc: Any) -> list[Any]:
        """The library's match objects (``.obj``, ``.parts``), in document order."""
        return list(self._compiled.finditer(doc))

    def values(self, doc: Any) -> list[Any]:
        """Every selected value, in document order."""
        return [m.obj for m in self._compiled.finditer(doc)]

    def read(self, doc: Any) -> Any:
        """Jayway's result: one value for a definite path (:class:`PathNotFound`
        when missing), a list for an indefinite one, a function's value after
        ``.fn()``."""
        if self._keys is not None:
            node = doc
            for k in self._keys:
                if isinstance(k, str):
                    if not isinstance(node, dict) or k not in node:
                        raise PathNotFound(f"No results for path: {self.text}")
                elif not isinstance(node, list) or not -len(node) <= k < len(node):
                    raise PathNotFound(f"No results for path: {self.text}")
                node = node[k]
            return node if self.function is None else self._apply(node)
        found = self.values(doc)
        if self.definite:
            if not found:
                raise PathNotFound(f"No results for path: {self.text}")
            result: Any = found[0]
        else:
            result = found
        if self.function is None:
            return result
        return self._apply(result)

    def _apply(self, result: Any) -> Any:
        assert self.function is not None
        try:
            return _FUNCTIONS[self.function](result)
        except PathNotFound:
            raise
        except (TypeError, IndexError, AttributeError, KeyError) as exc:
            raise PathNotFound(
                f"Function {self.function}() cannot be applied to {type(result).__name__}"
            ) from exc


@functools.lru_cache(maxsize=1024)
def compile_path(path: str) -> JaywayPath:
    """Compile a Jayway JsonPath; :class:`InvalidJsonPath` says where and why."""
    text = path.strip()
    if not text:
        raise InvalidJsonPath("JsonPath is empty; hint: a path starts with '$'")
    function = None
    m = _FUNCTION.search(_mask(text))
    if m:
        function = m.group(1)
        text_body = text[: m.start()]
    else:
        text_body = text
    rewritten = _rewrite(text_body)
    try:
        compiled = _ENV.compile(rewritten)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidJsonPath(
            f"invalid JsonPath {path!r}: {first}; hint: paths look like $.a.b, "
            "$['key'], $.list[0], $.list[*].x or $.list[?(@.x > 1)]"
        ) from exc
    definite = _INDEFINITE.search(_mask(text_body)) is None
    return JaywayPath(path, compiled, definite, function, _plain_keys(rewritten))


_PLAIN_STEP: Final = re.compile(
    r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([^'\\]*)'\s*\]|\[\s*\"([^\"\\]*)\"\s*\]"
    r"|\[\s*(-?\d+)\s*\]"
)


def _plain_keys(path: str) -> tuple[str | int, ...] | None:
    """The key chain of a path made only of names and indexes, else None."""
    if not path.startswith("$"):
        return None
    keys: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _PLAIN_STEP.match(path, pos)
        if m is None:
            return None
        name = m.group(1) or m.group(2) or m.group(3)
        if m.group(4) is not None:
            keys.append(int(m.group(4)))
        elif name is not None:
            keys.append(name)
        else:
            return None  # empty quoted name: leave it to the library
        pos = m.end()
    return tuple(keys)


def standard_values(path: str, doc: Any) -> list[Any]:
    """RFC 9535 mode (the library's strict environment, no dialect rewriting): the
    selected values; a path that does not parse raises the library's error."""
    return [m.obj for m in _STANDARD.compile(path).finditer(doc)]
