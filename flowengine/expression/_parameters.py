"""Parameter references ``#{name}`` and their substitution (NiFi §5.4).

Owns the scanner for parameter references and the ``##`` escaping rule: in a run
of ``k`` ``#`` characters before ``{``, pairs collapse left to right into literal
``#``; an odd run leaves one ``#`` that opens a reference (``##{x}`` -> ``#{x}``,
``###{x}`` -> ``#`` + value). Names are letters, digits, ``-``, ``_``, ``.`` and
space, or any text in single quotes (``#{'my param'}``). Substitution is textual
and happens before EL parsing; a reference *inside* ``${...}`` becomes an EL
string literal (``literal('v')`` in subject position), which is how NiFi treats
parameter tokens in expressions (their value is not re-parsed as EL there).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final

from flowengine.expression._errors import ParameterError
from flowengine.expression._lexer import split_template

__all__ = ["parameter_references", "substitute_parameters"]

_NAME_RE: Final = re.compile(r"[A-Za-z0-9_.\- ]+")


def _scan(text: str) -> Iterator[tuple[int, int, int, str | None]]:
    """Yield ``(run_start, ref_start, ref_end, name)`` for every ``#`` run before ``{``.

    ``name`` is None for an escaped (even) run; ``ref_start`` is the index of the
    ``#`` opening the reference (or of ``{`` for an escaped run).
    """
    i = 0
    n = len(text)
    while i < n:
        if text[i] != "#":
            i += 1
            continue
        j = i
        while j < n and text[j] == "#":
            j += 1
        if j >= n or text[j] != "{":
            i = j
            continue
        close = text.find("}", j)
        if close < 0:
            return
        run = j - i
        if run % 2 == 0:
            yield i, j, j, None
            i = j
            continue
        raw = text[j + 1 : close]
        if len(raw) >= 2 and raw[0] == raw[-1] == "'":
            name = raw[1:-1]
        elif raw and _NAME_RE.fullmatch(raw):
            name = raw
        else:
            raise ParameterError(
                f"invalid parameter reference #{{{raw}}}: names may contain letters, "
                "digits, "
                "'-', '_', '.' and spaces, or be quoted in single quotes",
                j - 1,
                text,
                name=raw,
            )
        yield i, j - 1, close + 1, name
        i = close + 1


def parameter_references(text: str) -> list[tuple[str, int, int]]:
    """``(name, start, end)`` of every parameter reference (``##`` escapes)."""
    return [
        (name, start, end) for _, start, end, name in _scan(text) if name is not None
    ]


def _el_ranges(text: str) -> list[tuple[int, int]]:
    try:
        return [(s.start, s.end) for s in split_template(text) if s.is_expression]
    except Exception:  # pragma: no cover - scanning never raises today
        return []


def _quote(value: str) -> str:
    return (
        "'"
        + value.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        + "'"
    )


def substitute_parameters(
    text: str,
    lookup: Callable[[str], str | None],
    *,
    expression_language: bool = True,
) -> str:
    """Replace every ``#{name}`` in *text* with ``lookup(name)``.

    Args:
        text: a property value.
        lookup: returns a parameter's value, or ``None`` when it is not defined.
        expression_language: when True (the default) references inside ``${...}``
            become EL string literals so the value is used as data; pass False for
            properties that do not support EL.

    Raises:
        ParameterError: a reference is malformed or its parameter is undefined
            (``.name`` and ``.position`` say which and where).
    """
    if "#" not in text:
        return text
    ranges = _el_ranges(text) if expression_language and "${" in text else []
    out: list[str] = []
    last = 0
    for run_start, ref_start, ref_end, name in _scan(text):
        out.append(text[last:run_start])
        run = ref_start - run_start
        out.append("#" * (run // 2))
        if name is None:
            last = ref_start
            continue
        value = lookup(name)
        if value is None:
            raise ParameterError(
                f"parameter #{{{name}}} is not defined", ref_start, text, name=name
            )
        inside = any(start < ref_start < end for start, end in ranges)
        if inside:
            before = text[:ref_start].rstrip()
            value = (
                f"literal({_quote(value)})" if before.endswith("${") else _quote(value)
            )
        out.append(value)
        last = ref_end
    out.append(text[last:])
    return "".join(out)
