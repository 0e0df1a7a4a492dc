"""The Jolt adapter: spec text -> a compiled transform, behind one small interface.

Why a library: ``jolt-py`` (import name ``pyjolt``, Apache-2.0) is a pure-Python port of
bazaarvoice/jolt. Measured against the 174 shared Jolt fixtures it passes the large
majority (see docs/jolt-grok.md), so the transforms are not rewritten here. This module
is the only place that imports it: swapping the library means changing this file.

What this layer adds, following Jolt's and NiFi's documented behaviour:

* spec text is parsed as JSON with ``//`` and ``/* */`` comments (Jolt's JsonUtils and
  NiFi's JoltTransformJSON accept them); errors carry line and column;
* NiFi's Jolt Transform values (``jolt-transform-chain`` ...) map to the operations;
* every library error becomes :class:`JoltSpecError` (compile time) or
  :class:`JoltTransformError` (run time), and deep recursion becomes the latter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyjolt
from pyjolt.chainr import Chainr

__all__ = [
    "JOLT_TRANSFORMS",
    "JoltSpecError",
    "JoltTransformError",
    "compile_spec",
    "parse_json_with_comments",
]

# NiFi API name -> (display name, Jolt operation name, description)
JOLT_TRANSFORMS: dict[str, tuple[str, str, str]] = {
    "jolt-transform-chain": (
        "Chain",
        "chain",
        "Execute list of Jolt transformations.",
    ),
    "jolt-transform-default": (
        "Default",
        "default",
        "Apply default values to the output JSON.",
    ),
    "jolt-transform-remove": (
        "Remove",
        "remove",
        "Remove values from input data to create the output JSON.",
    ),
    "jolt-transform-shift": (
        "Shift",
        "shift",
        "Shift input JSON/data to create the output JSON.",
    ),
    "jolt-transform-sort": (
        "Sort",
        "sort",
        "Sort input json key values alphabetically. Any specification set is ignored.",
    ),
    "jolt-transform-card": (
        "Cardinality",
        "cardinality",
        "Change the cardinality of input elements to create the output JSON.",
    ),
    "jolt-transform-modify-default": (
        "Modify - Default",
        "modify-default-beta",
        "Writes when key is missing or value is null",
    ),
    "jolt-transform-modify-overwrite": (
        "Modify - Overwrite",
        "modify-overwrite-beta",
        "Always overwrite value",
    ),
    "jolt-transform-modify-define": (
        "Modify - Define",
        "modify-define-beta",
        "Writes when key is missing",
    ),
}


class JoltSpecError(ValueError):
    """The specification does not parse or does not compile (``line``/``col`` are
    1-based positions in the spec text when known, else 0)."""

    def __init__(self, message: str, line: int = 0, col: int = 0) -> None:
        where = f"line {line} column {col}: " if line else ""
        super().__init__(f"{where}{message}")
        self.line = line
        self.col = col


class JoltTransformError(ValueError):
    """The transform failed on one document."""


def _strip_comments(text: str) -> str:
    """Blank out ``//`` and ``/* */`` comments outside strings, keeping every newline
    and every other character's offset, so JSON errors still point at the right spot."""
    out = list(text)
    i, n = 0, len(text)
    in_str = False
    while i < n:
        c = text[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
            continue
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for j in range(i, end):
                if text[j] != "\n":
                    out[j] = " "
            i = end
            continue
        i += 1
    return "".join(out)


def parse_json_with_comments(text: str) -> Any:
    """JSON with comments, as Jolt reads specs; :class:`JoltSpecError` with the
    position when it does not parse."""
    try:
        return json.loads(_strip_comments(text))
    except json.JSONDecodeError as exc:
        raise JoltSpecError(
            f"the specification is not valid JSON: {exc.msg}", exc.lineno, exc.colno
        ) from None
    except RecursionError:
        raise JoltSpecError("the specification is nested too deeply") from None


# (document, Jolt context map or None) -> output document
Transform = Callable[[Any, "dict[str, Any] | None"], Any]


def compile_spec(transform: str, spec: Any) -> Transform:
    """Compile ``spec`` (already parsed) for NiFi's ``transform`` value into a function
    from input document to output document; :class:`JoltSpecError` when it is invalid."""
    if transform not in JOLT_TRANSFORMS:
        raise JoltSpecError(f"unknown Jolt Transform {transform!r}")
    op = JOLT_TRANSFORMS[transform][1]
    try:
        if op == "chain":
            if not isinstance(spec, list) or not spec:
                raise JoltSpecError(
                    'a Chain specification must be a non-empty JSON array of {"operation": ..., "spec": ...} entries'
                )
            for n, entry in enumerate(spec):
                if not isinstance(entry, dict) or not isinstance(
                    entry.get("operation"), str
                ):
                    raise JoltSpecError(f'chain entry {n}: needs an "operation" string')
            compiled: Any = Chainr.from_spec(spec)
        elif op == "sort":
            compiled = Chainr.from_spec([{"operation": "sort"}])
        else:
            if spec is None:
                raise JoltSpecError(
                    f"the {JOLT_TRANSFORMS[transform][0]} transform needs a specification"
                )
            compiled = Chainr.from_spec([{"operation": op, "spec": spec}])
    except JoltSpecError:
        raise
    except (pyjolt.PyJoltError, TypeError, ValueError, KeyError, AttributeError) as exc:
        raise JoltSpecError(f"the specification does not compile: {exc}") from None
    except RecursionError:
        raise JoltSpecError("the specification is nested too deeply") from None
    apply = compiled.apply

    def run(document: Any, context: dict[str, Any] | None = None) -> Any:
        try:
            return apply(document, context)
        except RecursionError:
            raise JoltTransformError(
                "the document is nested too deeply to transform"
            ) from None
        except (
            pyjolt.PyJoltError,
            TypeError,
            ValueError,
            KeyError,
            IndexError,
            AttributeError,
        ) as exc:
            raise JoltTransformError(f"{type(exc).__name__}: {exc}") from None

    return run
