"""Date and time functions (NiFi guide §Date Manipulation).

Owns: format formatInstant toDate toInstant toMicros toNanos now plusDuration
minusDuration plusInstantDuration minusInstantDuration isValidDate isValidInstant.
``Date`` arithmetic is calendar-aware in the default zone (``ZonedDateTime``),
``Instant`` arithmetic is in UTC, as in NiFi.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Final

from flowengine.expression import _dates
from flowengine.expression._errors import ExpressionEvaluationError
from flowengine.expression._registry import register
from flowengine.expression._values import JDate, JInstant, to_whole

__all__: list[str] = []

S = "STRING"
_AMOUNT_RE: Final = re.compile(
    r"\s*(\d+)\s+(seconds?|minutes?|hours?|days?|weeks?|months?|years?)\s*",
    re.IGNORECASE,
)


def _check_pattern(pattern: object, *_: object) -> None:
    if isinstance(pattern, str):
        _dates.compile_pattern(pattern)


def _check_zone(_pattern: object = None, tz: object = None) -> None:
    _check_pattern(_pattern)
    if isinstance(tz, str):
        _dates.zone(tz, strict=True)


@register(
    "format",
    min_args=1,
    max_args=2,
    subject="DATE",
    arg_types=(S, S),
    validate=_check_pattern,
)
def _format(d: JDate | None, pattern: str | None, tz: str | None = None) -> str | None:
    if d is None or pattern is None:
        return None
    zone = _dates.zone(tz, strict=False) if tz is not None else _dates.local_zone()
    return _dates.format_nanos(d.millis * 1_000_000, pattern, zone)


@register(
    "formatInstant",
    min_args=2,
    max_args=2,
    subject="INSTANT",
    arg_types=(S, S),
    validate=_check_zone,
)
def _format_instant(
    i: JInstant | None, pattern: str | None, tz: str | None
) -> str | None:
    if i is None or pattern is None:
        return None
    zone = _dates.zone(tz, strict=True) if tz is not None else _dates.zone("UTC")
    return _dates.format_nanos(i.nanos, pattern, zone)


def _parse(value: str, pattern: str, tz: str | None) -> int:
    zone = _dates.zone(tz, strict=True) if tz is not None else _dates.local_zone()
    return _dates.parse_nanos(value, pattern, zone)


@register(
    "toDate",
    min_args=0,
    max_args=2,
    subject="ANY",
    arg_types=(S, S),
    result="DATE",
    validate=_check_zone,
)
def _to_date(
    s: object, pattern: str | None = None, tz: str | None = None
) -> JDate | None:
    if s is None:
        return None
    if isinstance(s, str) and pattern is not None:
        return JDate(_parse(s, pattern, tz) // 1_000_000)
    millis = to_whole(s)
    return None if millis is None else JDate(millis)


@register(
    "toInstant",
    min_args=0,
    max_args=2,
    subject="ANY",
    arg_types=(S, S),
    result="INSTANT",
    validate=_check_zone,
)
def _to_instant(
    s: object, pattern: str | None = None, tz: str | None = None
) -> JInstant | None:
    if s is None:
        return None
    if isinstance(s, str) and pattern is not None:
        return JInstant(_parse(s, pattern, tz if tz is not None else "UTC"))
    millis = to_whole(s)
    return None if millis is None else JInstant(millis * 1_000_000)


@register("toMicros", subject="INSTANT", result="WHOLE")
def _to_micros(i: JInstant | None) -> int | None:
    return None if i is None else i.nanos // 1_000


@register("toNanos", subject="INSTANT", result="WHOLE")
def _to_nanos(i: JInstant | None) -> int | None:
    return None if i is None else i.nanos


@register("now", subject="NONE", result="DATE", null="never")
def _now() -> JDate:
    return JDate(time.time_ns() // 1_000_000)


def _amount(expr: str | None) -> tuple[int, str]:
    if expr is None or not expr.strip():
        raise ExpressionEvaluationError(
            "Amount expression cannot be null or empty. "
            "Expected format: '<integer> <unit>'"
        )
    m = _AMOUNT_RE.fullmatch(expr)
    if m is None:
        raise ExpressionEvaluationError(
            f"Invalid amount expression: '{expr}'. Expected format: '<integer> <unit>' "
            "(e.g. '2 weeks', '1 month')"
        )
    unit = m.group(2).lower()
    return int(m.group(1)), unit[:-1] if unit.endswith("s") else unit


def _check_amount(expr: object) -> None:
    if isinstance(expr, str):
        _amount(expr)


def _shift(dt: datetime, amount: int, unit: str) -> datetime:
    if unit in ("second", "minute", "hour"):
        return dt + timedelta(**{unit + "s": amount})
    if unit in ("day", "week"):
        naive = dt.replace(tzinfo=None) + timedelta(**{unit + "s": amount})
        return naive.replace(tzinfo=dt.tzinfo)
    months = amount * (12 if unit == "year" else 1)
    total = dt.year * 12 + dt.month - 1 + months
    year, month = divmod(total, 12)
    import calendar

    day = min(dt.day, calendar.monthrange(year, month + 1)[1])
    return dt.replace(year=year, month=month + 1, day=day)


def _date_arith(d: JDate | None, expr: str | None, sign: int) -> JDate | None:
    if d is None:
        return None
    amount, unit = _amount(expr)
    zone = _dates.local_zone()
    dt = (
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=d.millis)
    ).astimezone(zone)
    out = _shift(dt, sign * amount, unit)
    delta = out.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return JDate(delta // timedelta(milliseconds=1))


def _instant_arith(i: JInstant | None, expr: str | None, sign: int) -> JInstant | None:
    if i is None:
        return None
    amount, unit = _amount(expr)
    secs, nanos = divmod(i.nanos, 1_000_000_000)
    dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=secs)
    out = _shift(dt, sign * amount, unit)
    delta = out - datetime(1970, 1, 1, tzinfo=UTC)
    return JInstant((delta.days * 86400 + delta.seconds) * 1_000_000_000 + nanos)


@register(
    "plusDuration",
    min_args=1,
    max_args=1,
    subject="DATE",
    arg_types=(S,),
    result="DATE",
    validate=_check_amount,
)
def _plus_duration(d: JDate | None, expr: str | None) -> JDate | None:
    return _date_arith(d, expr, 1)


@register(
    "minusDuration",
    min_args=1,
    max_args=1,
    subject="DATE",
    arg_types=(S,),
    result="DATE",
    validate=_check_amount,
)
def _minus_duration(d: JDate | None, expr: str | None) -> JDate | None:
    return _date_arith(d, expr, -1)


@register(
    "plusInstantDuration",
    min_args=1,
    max_args=1,
    subject="INSTANT",
    arg_types=(S,),
    result="INSTANT",
    validate=_check_amount,
)
def _plus_instant(i: JInstant | None, expr: str | None) -> JInstant | None:
    return _instant_arith(i, expr, 1)


@register(
    "minusInstantDuration",
    min_args=1,
    max_args=1,
    subject="INSTANT",
    arg_types=(S,),
    result="INSTANT",
    validate=_check_amount,
)
def _minus_instant(i: JInstant | None, expr: str | None) -> JInstant | None:
    return _instant_arith(i, expr, -1)


@register(
    "isValidDate",
    min_args=1,
    max_args=2,
    arg_types=(S, S),
    result="BOOLEAN",
    null="never",
    validate=_check_zone,
)
def _is_valid_date(s: str | None, pattern: str | None, tz: str | None = None) -> bool:
    if s is None or pattern is None:
        return False
    zone = _dates.zone(tz, strict=True) if tz is not None else _dates.local_zone()
    try:
        _dates.parse_nanos(s, pattern, zone, strict=True)
    except ExpressionEvaluationError:
        return False
    return True


@register("isValidInstant", result="BOOLEAN", null="never")
def _is_valid_instant(s: str | None) -> bool:
    return s is not None and _dates.parse_iso_instant(s.strip()) is not None
