"""NiFi's textual durations (``30 sec``) and data sizes (``1 GB``)."""

from __future__ import annotations

import re

__all__ = ["format_duration", "format_size", "parse_data_size", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_DURATION_UNITS: dict[str, float] = {}
for _names, _secs in (
    (("ns", "nano", "nanos", "nanosecond", "nanoseconds"), 1e-9),
    (("ms", "milli", "millis", "millisecond", "milliseconds"), 1e-3),
    (("s", "sec", "secs", "second", "seconds"), 1.0),
    (("m", "min", "mins", "minute", "minutes"), 60.0),
    (("h", "hr", "hrs", "hour", "hours"), 3600.0),
    (("d", "day", "days"), 86400.0),
    (("w", "wk", "wks", "week", "weeks"), 604800.0),
):
    for _n in _names:
        _DURATION_UNITS[_n] = _secs

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": 1024,
    "kib": 1024,
    "mb": 1024**2,
    "mib": 1024**2,
    "gb": 1024**3,
    "gib": 1024**3,
    "tb": 1024**4,
    "tib": 1024**4,
}


def parse_duration(text: str | float | int) -> float:
    """Seconds in a NiFi time period such as ``30 sec``, ``5 mins``, ``100 millis``.

    A bare number is seconds. Raises ``ValueError`` with a readable message.
    """
    if isinstance(text, bool):
        raise ValueError(f"not a time period: {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"time period must not be negative: {text!r}")
        return float(text)
    m = _DURATION.match(text)
    if not m:
        raise ValueError(
            f"not a time period: {text!r} (expected e.g. '30 sec', '5 min')"
        )
    unit = m.group(2).lower()
    if unit == "":
        return float(m.group(1))
    if unit not in _DURATION_UNITS:
        raise ValueError(
            f"unknown time unit {m.group(2)!r} in {text!r} "
            "(use nanos, millis, secs, mins, hrs, days, weeks)"
        )
    return float(m.group(1)) * _DURATION_UNITS[unit]


def parse_data_size(text: str | int) -> int:
    """Bytes in a NiFi data size such as ``1 GB`` (binary units: 1 KB = 1024 B)."""
    if isinstance(text, bool):
        raise ValueError(f"not a data size: {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"data size must not be negative: {text!r}")
        return text
    m = _SIZE.match(text)
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(
            f"not a data size: {text!r} (expected e.g. '0 B', '64 KB', '1 GB')"
        )
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def format_duration(seconds: float) -> str:
    """A short human form: ``250 ms``, ``30 sec``, ``5 min``."""
    if seconds == 0:
        return "0 sec"
    for unit, size in (("day", 86400), ("hr", 3600), ("min", 60), ("sec", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    if seconds >= 1:
        return f"{seconds:g} sec"
    return f"{seconds * 1000:g} ms"


def format_size(n: float) -> str:
    """A short human form: ``512 B``, ``1.5 KB``, ``1 GB``."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return (
                f"{n:.0f} {unit}" if unit == "B" or n == int(n) else f"{n:.1f} {unit}"
            )
        n /= 1024
    return f"{n} TB"
