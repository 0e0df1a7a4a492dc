"""Java date/time patterns (``DateTimeFormatter`` syntax) on Python datetimes.

Owns the pattern translator used by ``format``, ``toDate``, ``toInstant``,
``formatInstant`` and ``isValidDate``: a pattern is split into letter runs,
quoted literals and optional ``[...]`` sections once (cached), then formatted
field by field, or turned into a regular expression for parsing (lenient numbers
and case-insensitive text, like NiFi's lenient case-insensitive formatter).
Also owns Java time-zone resolution (``TimeZone.getTimeZone`` falls back to GMT,
``ZoneId.of`` is strict) and the text forms of ``java.util.Date`` and ``Instant``.
"""

from __future__ import annotations

import calendar
import functools
import os
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flowengine.expression._errors import ExpressionEvaluationError

__all__ = [
    "date_to_string",
    "format_nanos",
    "instant_to_string",
    "local_zone",
    "parse_default_date",
    "parse_iso_instant",
    "parse_nanos",
    "zone",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS: Final = [calendar.month_name[i] for i in range(1, 13)]
_DAYS: Final = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
]
# java.time.ZoneId.SHORT_IDS (TimeZone.getTimeZone accepts the same names).
_SHORT_IDS: Final = {
    "EST": "-05:00",
    "MST": "-07:00",
    "HST": "-10:00",
    "ACT": "Australia/Darwin",
    "AET": "Australia/Sydney",
    "AGT": "America/Argentina/Buenos_Aires",
    "ART": "Africa/Cairo",
    "AST": "America/Anchorage",
    "BET": "America/Sao_Paulo",
    "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare",
    "CNT": "America/St_Johns",
    "CST": "America/Chicago",
    "CTT": "Asia/Shanghai",
    "EAT": "Africa/Addis_Ababa",
    "ECT": "Europe/Paris",
    "IET": "America/Indiana/Indianapolis",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "MIT": "Pacific/Apia",
    "NET": "Asia/Yerevan",
    "NST": "Pacific/Auckland",
    "PLT": "Asia/Karachi",
    "PNT": "America/Phoenix",
    "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles",
    "SST": "Pacific/Guadalcanal",
    "VST": "Asia/Ho_Chi_Minh",
}
_FULL_NAMES: Final = {
    "UTC": "Coordinated Universal Time",
    "GMT": "Greenwich Mean Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CET": "Central European Standard Time",
    "CEST": "Central European Summer Time",
    "JST": "Japan Standard Time",
    "BST": "British Summer Time",
}
_OFFSET_RE: Final = re.compile(
    r"(?:GMT|UTC|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?"
)


def _fixed(
    sign: str, hours: str, minutes: str | None, seconds: str | None = None
) -> tzinfo:
    delta = timedelta(
        hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0)
    )
    if delta > timedelta(hours=18):
        raise ValueError("offset out of range")
    return timezone(-delta if sign == "-" else delta)


@functools.lru_cache(maxsize=256)
def zone(name: str | None, strict: bool = True) -> tzinfo:
    """Resolve a Java zone name: ``strict`` is ``ZoneId.of``, else ``TimeZone``."""
    if name is None:
        return local_zone()
    try:
        if name in ("Z", "UTC", "GMT", "UT"):
            return ZoneInfo("UTC") if name != "GMT" else ZoneInfo("GMT")
        m = _OFFSET_RE.fullmatch(name)
        if m:
            return _fixed(*m.groups())
        short = _SHORT_IDS.get(name)
        if short is not None:
            return zone(short, strict)
        if "/" not in name and not strict and name not in ("CET", "EET", "WET", "MET"):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        if not strict:
            return ZoneInfo("GMT")
        raise ExpressionEvaluationError(f"unknown time zone {name!r}") from exc


@functools.lru_cache(maxsize=1)
def local_zone() -> tzinfo:
    """The JVM default zone equivalent: ``$TZ``, else ``/etc/localtime``, else UTC."""
    tz = os.environ.get("TZ")
    if tz:
        try:
            return ZoneInfo(tz.lstrip(":"))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return ZoneInfo("UTC")


def _tokens(pattern: str) -> list[tuple[str, int | str]]:
    out: list[tuple[str, int | str]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c.isascii() and c.isalpha():
            j = i
            while j < n and pattern[j] == c:
                j += 1
            if c not in "GuyDMLdQqYwWEecFahKkHmsSAnNVvzOXxZ":
                raise ExpressionEvaluationError(f"Unknown pattern letter: {c}")
            out.append((c, j - i))
            i = j
        elif c == "'":
            j = i + 1
            buf: list[str] = []
            while j < n:
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(pattern[j])
                j += 1
            else:
                if j > i + 1 or i + 1 >= n:
                    raise ExpressionEvaluationError(
                        f"Pattern ends with an incomplete string literal: {pattern}"
                    )
            out.append(("'", "'" if j == i + 1 else "".join(buf)))
            i = j + 1
        elif c in "[]":
            out.append((c, 0))
            i += 1
        elif c in "{}#":
            raise ExpressionEvaluationError(
                f"Pattern includes reserved character: '{c}'"
            )
        else:
            out.append(("'", c))
            i += 1
    return out


compile_pattern = functools.lru_cache(maxsize=512)(_tokens)


def _offset_text(off: timedelta, letter: str, count: int) -> str:
    total = int(off.total_seconds())
    if total == 0 and letter == "X":
        return "Z"
    if total == 0 and letter == "Z" and count == 5:
        return "Z"
    sign = "-" if total < 0 else "+"
    total = abs(total)
    hh, mm, ss = total // 3600, total // 60 % 60, total % 60
    if letter == "O" or (letter == "Z" and count == 4):
        if total == 0:
            return "GMT"
        if letter == "O" and count == 1:
            return f"GMT{sign}{hh}" + (f":{mm:02d}" if mm else "")
        return f"GMT{sign}{hh:02d}:{mm:02d}" + (f":{ss:02d}" if ss else "")
    if letter == "Z" and count <= 3:
        return f"{sign}{hh:02d}{mm:02d}"
    if count == 1:
        return f"{sign}{hh:02d}" + (f"{mm:02d}" if mm else "")
    if count in (2, 4):
        return f"{sign}{hh:02d}{mm:02d}" + (f"{ss:02d}" if count == 4 and ss else "")
    return f"{sign}{hh:02d}:{mm:02d}" + (f":{ss:02d}" if count == 5 and ss else "")


def _zone_name(dt: datetime, full: bool) -> str:
    name = dt.tzname() or "GMT"
    if name[:1] in "+-":
        off = dt.utcoffset() or timedelta(0)
        return _offset_text(off, "O", 4)
    return _FULL_NAMES.get(name, name) if full else name


def _us_week(dt: datetime) -> tuple[int, int]:
    """(week-based-year, week) with US rules: weeks start Sunday, week 1 holds Jan 1."""
    sunday = dt.date() - timedelta(days=(dt.weekday() + 1) % 7)
    saturday = sunday + timedelta(days=6)
    year = saturday.year if saturday.year > dt.year else dt.year
    jan1 = datetime(year, 1, 1).date()
    week1 = jan1 - timedelta(days=(jan1.weekday() + 1) % 7)
    return year, (sunday - week1).days // 7 + 1


def _field(dt: datetime, nanos: int, letter: str, count: int, zone_key: str) -> str:
    if letter in "yuY":
        year = _us_week(dt)[0] if letter == "Y" else dt.year
        return f"{year % 100:02d}" if count == 2 else str(year).zfill(count)
    if letter in "ML":
        if count >= 3:
            name = _MONTHS[dt.month - 1]
            return name[:3] if count == 3 else name if count == 4 else name[0]
        return str(dt.month).zfill(count)
    if letter in "Eec" and (letter == "E" or count >= 3):
        name = _DAYS[dt.weekday()]
        return name if count == 4 else name[0] if count == 5 else name[:3]
    simple = {
        "d": dt.day,
        "D": dt.timetuple().tm_yday,
        "H": dt.hour,
        "m": dt.minute,
        "s": dt.second,
        "h": (dt.hour % 12) or 12,
        "K": dt.hour % 12,
        "k": dt.hour or 24,
        "n": nanos,
        "F": (dt.day - 1) // 7 + 1,
        "e": (dt.weekday() + 1) % 7 + 1,
        "c": (dt.weekday() + 1) % 7 + 1,
        "w": _us_week(dt)[1] if letter == "w" else 0,
        "W": (dt.day + (dt.replace(day=1).weekday() + 1) % 7 - 1) // 7 + 1,
        "A": (dt.hour * 3600 + dt.minute * 60 + dt.second) * 1000 + nanos // 1_000_000,
        "N": (dt.hour * 3600 + dt.minute * 60 + dt.second) * 1_000_000_000 + nanos,
    }
    if letter in simple:
        return str(simple[letter]).zfill(count)
    if letter == "S":
        return (
            f"{nanos:09d}"[:count] if count <= 9 else f"{nanos:09d}".ljust(count, "0")
        )
    if letter == "a":
        return "AM" if dt.hour < 12 else "PM"
    if letter == "G":
        return "Anno Domini" if count == 4 else "A" if count == 5 else "AD"
    if letter in "Qq":
        q = (dt.month - 1) // 3 + 1
        return [
            str(q),
            f"0{q}",
            f"Q{q}",
            f"{q}{['st', 'nd', 'rd', 'th'][q - 1]} quarter",
        ][min(count, 4) - 1]
    if letter in "zv":
        return _zone_name(dt, count >= 4)
    if letter == "V":
        return zone_key
    off = dt.utcoffset() or timedelta(0)
    if letter == "x" and off == timedelta(0):
        return "+00" if count == 1 else "+0000" if count in (2, 4) else "+00:00"
    return _offset_text(off, letter, count)


def _zone_key(tz: tzinfo) -> str:
    key = getattr(tz, "key", None)
    if key:
        return str(key)
    off = datetime.now(tz).utcoffset() or timedelta(0)
    return _offset_text(off, "X", 5)


def format_nanos(epoch_nanos: int, pattern: str, tz: tzinfo) -> str:
    """Format an instant (epoch nanoseconds) with a Java pattern in zone *tz*."""
    seconds, nanos = divmod(epoch_nanos, 1_000_000_000)
    try:
        dt = (_EPOCH + timedelta(seconds=seconds)).astimezone(tz)
    except OverflowError as exc:
        raise ExpressionEvaluationError("date out of the supported range") from exc
    key = _zone_key(tz)
    out: list[str] = []
    for letter, count in compile_pattern(pattern):
        if letter == "'":
            out.append(str(count))
        elif letter not in "[]":
            out.append(_field(dt, nanos, letter, int(count), key))
    return "".join(out)


def date_to_string(millis: int) -> str:
    """``Date.toString()``: ``EEE MMM dd HH:mm:ss zzz yyyy`` in the local zone."""
    return format_nanos(
        millis * 1_000_000, "EEE MMM dd HH:mm:ss zzz yyyy", local_zone()
    )


def instant_to_string(nanos: int) -> str:
    """``Instant.toString()`` (ISO-8601, fraction in groups of 3 digits, ``Z``)."""
    seconds, frac = divmod(nanos, 1_000_000_000)
    dt = _EPOCH + timedelta(seconds=seconds)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        digits = f"{frac:09d}"
        while digits.endswith("000"):
            digits = digits[:-3]
        text += "." + digits
    return text + "Z"


_NUMERIC: Final = "yuYDMLdQqwWeEcFhKkHmsSAnN"
_TEXT_ZONE: Final = r"[A-Za-z][A-Za-z0-9_/+\-:]*"
_OFFSET_PAT: Final = (
    r"Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?|GMT(?:[+-]\d{1,2}(?::\d{2})?)?"
)


def _is_numeric(tok: tuple[str, int | str]) -> bool:
    letter, count = tok
    if letter in "MLQqEec" and isinstance(count, int) and count >= 3:
        return False
    return letter in _NUMERIC and letter != "E"


def _token_regex(tok: tuple[str, int | str], adjacent: bool) -> str:
    letter, raw = tok
    count = int(raw)
    if letter in "ML" and count >= 3:
        names = [m[:3] for m in _MONTHS] if count == 3 else _MONTHS
        return "(" + "|".join(names) + ")"
    if letter in "Eec" and (letter == "E" or count >= 3):
        names = [d[:3] for d in _DAYS] if count <= 3 else _DAYS
        return "(" + "|".join(names) + ")"
    if letter in "Qq" and count >= 3:
        return r"Q?(\d)(?:st|nd|rd|th)?(?: quarter)?"
    if letter == "a":
        return "(AM|PM)"
    if letter == "G":
        return "(AD|BC|Anno Domini|Before Christ|A|B)"
    if letter in "zv":
        return f"({_TEXT_ZONE})"
    if letter == "V":
        return f"({_TEXT_ZONE})"
    if letter in "XxZO":
        return f"({_OFFSET_PAT})"
    if letter == "S":
        return rf"(\d{{{count}}})"
    if letter in "yuY":
        if count == 2:
            return r"(\d{2})"
        return (
            rf"([+-]?\d{{{count}}})"
            if adjacent
            else rf"([+-]?\d{{{max(count, 1)},10}})"
        )
    if adjacent:
        return rf"(\d{{{max(count, 1)}}})" if count > 1 else r"(\d{1,2})"
    return rf"(\d{{1,{max(count, 2) if letter not in 'nNAD' else 19}}})"


@functools.lru_cache(maxsize=512)
def _parser(pattern: str) -> tuple[re.Pattern[str], tuple[tuple[str, int], ...]]:
    toks = compile_pattern(pattern)
    parts: list[str] = []
    fields: list[tuple[str, int]] = []
    for idx, tok in enumerate(toks):
        letter, count = tok
        if letter == "'":
            parts.append(re.escape(str(count)))
        elif letter == "[":
            parts.append("(?:")
        elif letter == "]":
            parts.append(")?")
        else:
            nxt = toks[idx + 1] if idx + 1 < len(toks) else None
            adjacent = nxt is not None and _is_numeric(tok) and _is_numeric(nxt)
            parts.append(_token_regex(tok, adjacent))
            fields.append((letter, int(count)))
    return re.compile("".join(parts), re.IGNORECASE), tuple(fields)


def _zone_from_text(text: str) -> tzinfo:
    if text.upper() == "Z":
        return UTC
    return zone(text.upper() if len(text) <= 4 else text, strict=True)


def parse_nanos(text: str, pattern: str, tz: tzinfo, *, strict: bool = False) -> int:
    """Parse *text* with a Java pattern; returns epoch nanoseconds.

    Missing fields default like ``java.time`` (midnight, 1970 for a missing year).
    ``strict`` rejects impossible dates (Feb 30) instead of clamping them
    (``ResolverStyle.SMART`` clamps the day-of-month), and DST-gap times.
    """
    regex, fields = _parser(pattern)
    m = regex.fullmatch(text)
    if m is None:
        raise ExpressionEvaluationError(
            f"Cannot parse attribute value as a date; date format: {pattern}; "
            f"attribute value: {text}"
        )
    year, month, day, hour, minute, second, nanos = 1970, 1, 1, 0, 0, 0, 0
    pm: bool | None = None
    h12: int | None = None
    doy: int | None = None
    bc = False
    tz_used = tz
    for (letter, count), value in zip(fields, m.groups(), strict=True):
        if value is None:
            continue
        if letter in "yu":
            year = 2000 + int(value) if count == 2 else int(value)
        elif letter in "ML":
            month = (
                int(value)
                if count < 3
                else [
                    x.lower()
                    for x in ([n[:3] for n in _MONTHS] if count == 3 else _MONTHS)
                ].index(value.lower())
                + 1
            )
        elif letter == "d":
            day = int(value)
        elif letter == "D":
            doy = int(value)
        elif letter == "H":
            hour = int(value)
        elif letter == "k":
            hour = int(value) % 24
        elif letter in "hK":
            h12 = int(value) % 12
        elif letter == "a":
            pm = value.upper() == "PM"
        elif letter == "m":
            minute = int(value)
        elif letter == "s":
            second = int(value)
        elif letter == "S":
            nanos = int(value.ljust(9, "0")[:9])
        elif letter == "n":
            nanos = int(value)
        elif letter == "G":
            bc = value.upper().startswith("B")
        elif letter in "zvVXxZO":
            tz_used = _zone_from_text(value)
        elif letter in "YwW":
            raise ExpressionEvaluationError(
                f"parsing week-based field '{letter}' is not supported"
            )
    if bc:
        year = 1 - year
    if h12 is not None:
        hour = h12 + (12 if pm else 0)
    try:
        if doy is not None:
            base = datetime(year, 1, 1) + timedelta(days=doy - 1)
            month, day = base.month, base.day
        if not strict:
            day = (
                min(day, calendar.monthrange(year, month)[1])
                if 1 <= month <= 12
                else day
            )
        local = datetime(year, month, day, hour, minute, second)
    except (ValueError, OverflowError) as exc:
        raise ExpressionEvaluationError(
            f"Cannot parse attribute value as a date; date format: {pattern}; "
            f"attribute value: {text}. Error: {exc}"
        ) from exc
    aware = local.replace(tzinfo=tz_used)
    if strict:
        back = aware.astimezone(UTC).astimezone(tz_used).replace(tzinfo=None)
        if back != local:
            raise ExpressionEvaluationError(
                f"{text!r} does not exist in zone {tz_used}"
            )
    delta = aware.astimezone(UTC) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + nanos


_DEFAULT_DATE_PATTERNS: Final = (
    "EEE MMM dd HH:mm:ss zzz yyyy",
    "yyyy/MM/dd HH:mm:ss.SSS",
    "yyyy/MM/dd HH:mm:ss",
    "yyyy-MM-dd HH:mm:ss.SSS",
    "yyyy-MM-dd HH:mm:ss",
)


def parse_default_date(text: str) -> int | None:
    """Epoch millis of a string in one of the forms NiFi casts to Date implicitly."""
    for pattern in _DEFAULT_DATE_PATTERNS:
        try:
            return parse_nanos(text, pattern, local_zone()) // 1_000_000
        except ExpressionEvaluationError:
            continue
    nanos = parse_iso_instant(text)
    return None if nanos is None else nanos // 1_000_000


_ISO_RE: Final = re.compile(
    r"(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:\d{2}(?::\d{2})?)"
)
_RFC1123_RE: Final = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
    r"(\d{2}):(\d{2})(?::(\d{2}))? (GMT|[+-]\d{4})"
)


def parse_iso_instant(text: str) -> int | None:
    """Epoch nanos of an ISO instant, ISO offset date-time or RFC 1123 string."""
    m = _ISO_RE.fullmatch(text)
    try:
        if m:
            y, mo, d, h, mi, s, frac, off = m.groups()
            tz = (
                UTC
                if off == "Z"
                else _fixed(off[0], off[1:3], off[4:6], off[7:9] or None)
            )
            dt = datetime(
                int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=tz
            )
            delta = dt - _EPOCH
            nanos = int((frac or "0").ljust(9, "0"))
            return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + nanos
        m = _RFC1123_RE.fullmatch(text)
        if m:
            d, mon, y, h, mi, s, off = m.groups()
            tz = UTC if off == "GMT" else _fixed(off[0], off[1:3], off[3:5])
            month = [x[:3] for x in _MONTHS].index(mon) + 1
            dt = datetime(
                int(y), month, int(d), int(h), int(mi), int(s or 0), tzinfo=tz
            )
            delta = dt - _EPOCH
            return (delta.days * 86400 + delta.seconds) * 1_000_000_000
    except ValueError:
        return None
    return None
