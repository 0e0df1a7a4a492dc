"""Multi-attribute functions (``anyAttribute`` ...) and their reducers.

Owns how the rest of a chain is applied to each selected value: ``any*`` ORs the
boolean results, ``all*`` ANDs them, ``count()`` counts results that are neither
null nor false, ``join(d)`` concatenates the non-null results. Also owns the
implicit Date/Instant casts, which need the date parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flowengine.expression._context import EvalContext, lookup
from flowengine.expression._errors import ExpressionEvaluationError
from flowengine.expression._values import JDate, JInstant, java_long

__all__ = [
    "all_of",
    "any_of",
    "count_of",
    "join_of",
    "matching_values",
    "named_values",
    "split_values",
    "to_date",
    "to_instant",
]

PerValue = Callable[[str | None, Any, Mapping[str, str], Any, Any], object]


def any_of(
    fn: PerValue,
    values: Iterable[str | None],
    ff: Any,
    a: Mapping[str, str],
    extras: Any,
    state: Any,
) -> bool:
    """True if the chain returns true for any value."""
    return any(fn(v, ff, a, extras, state) is True for v in values)


def all_of(
    fn: PerValue,
    values: Iterable[str | None],
    ff: Any,
    a: Mapping[str, str],
    extras: Any,
    state: Any,
) -> bool:
    """True if the chain returns true for every value (NiFi: vacuously true)."""
    return all(fn(v, ff, a, extras, state) is True for v in values)


def count_of(
    fn: PerValue,
    values: Iterable[str | None],
    ff: Any,
    a: Mapping[str, str],
    extras: Any,
    state: Any,
) -> int:
    """Number of results that are neither null nor false."""
    n = 0
    for v in values:
        r = fn(v, ff, a, extras, state)
        if r is not None and r is not False:
            n += 1
    return n


def join_of(
    fn: PerValue,
    values: Iterable[str | None],
    delimiter: str | None,
    ff: Any,
    a: Mapping[str, str],
    extras: Any,
    state: Any,
) -> str:
    """Non-null results joined with *delimiter*."""
    out = [r for v in values if (r := fn(v, ff, a, extras, state)) is not None]
    return ("" if delimiter is None else delimiter).join(str(r) for r in out)


def split_values(value: str | None, delimiter: str | None) -> list[str | None]:
    """Java ``String.split(Pattern.quote(d))``: trailing empty strings are dropped."""
    if value is None:
        return []
    if not delimiter:
        parts = list(value) if value else [""]
    else:
        parts = value.split(delimiter)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if parts == [""] and value:
        return []
    return list(parts)


def named_values(
    names: tuple[str, ...], ff: Any, a: Mapping[str, str], extras: Any, state: Any
) -> list[str | None]:
    """Values of the named attributes, through the full lookup chain."""
    ctx = EvalContext(ff, a, extras, state)
    return [lookup(ctx, n) for n in names]


def matching_values(
    patterns: tuple[re.Pattern[str], ...],
    ff: Any,
    a: Mapping[str, str],
    extras: Any,
    state: Any,
) -> list[str | None]:
    """Values of attributes (and extras) whose *name* fully matches any pattern."""
    keys: dict[str, str] = {}
    if extras is not None:
        keys.update(extras)
    for k, v in a.items():
        keys.setdefault(k, v)
    return [v for k, v in keys.items() if any(p.fullmatch(k) for p in patterns)]


def to_date(value: object) -> JDate | None:
    """Implicit Date cast (``DateCastEvaluator``): epoch millis or a known text form."""
    from flowengine.expression import _dates

    if value is None or isinstance(value, JDate):
        return value
    if isinstance(value, JInstant):
        return JDate(value.nanos // 1_000_000)
    if isinstance(value, bool):
        raise ExpressionEvaluationError("cannot convert a boolean to a Date")
    if isinstance(value, int):
        return JDate(value)
    if isinstance(value, float):
        return JDate(java_long(value))
    text = str(value).strip()
    if re.fullmatch(r"-?[0-9]+", text):
        return JDate(int(text))
    millis = _dates.parse_default_date(text)
    if millis is None:
        raise ExpressionEvaluationError(
            f"could not implicitly convert {text!r} to a Date"
        )
    return JDate(millis)


def to_instant(value: object) -> JInstant | None:
    """Implicit Instant cast: epoch millis, or an ISO-8601 instant."""
    from flowengine.expression import _dates

    if value is None or isinstance(value, JInstant):
        return value
    if isinstance(value, JDate):
        return JInstant(value.millis * 1_000_000)
    if isinstance(value, bool):
        raise ExpressionEvaluationError("cannot convert a boolean to an Instant")
    if isinstance(value, int):
        return JInstant(value * 1_000_000)
    if isinstance(value, float):
        return JInstant(java_long(value) * 1_000_000)
    text = str(value).strip()
    if re.fullmatch(r"-?[0-9]+", text):
        return JInstant(int(text) * 1_000_000)
    nanos = _dates.parse_iso_instant(text)
    if nanos is None:
        raise ExpressionEvaluationError(
            f"could not implicitly convert {text!r} to an Instant"
        )
    return JInstant(nanos)
