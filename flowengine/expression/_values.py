"""Runtime values of the Expression Language and NiFi's coercion rules.

Owns the mapping of NiFi's data types onto Python values and every implicit cast:

=============  ==========================================================
NiFi type      Python value
=============  ==========================================================
String         ``str``
Whole Number   ``int`` (kept within a Java ``long`` by :func:`wrap64`)
Decimal        ``float`` (a Java ``double``; rendered by :func:`java_double_str`)
Boolean        ``bool``
Date           :class:`JDate` (epoch milliseconds, like ``java.util.Date``)
Instant        :class:`JInstant` (epoch nanoseconds, like ``java.time.Instant``)
null           ``None``
=============  ==========================================================

Casts follow NiFi's cast evaluators: a string that is not a number becomes ``None``
(null), never an error; a boolean is "trimmed value equals true, ignoring case".
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Final

from flowengine.expression._errors import ExpressionEvaluationError

__all__ = [
    "JAVA_WS",
    "JDate",
    "JInstant",
    "category",
    "java_double_str",
    "java_long",
    "java_trim",
    "parse_number",
    "to_bool",
    "to_decimal",
    "to_number",
    "to_str",
    "to_whole",
    "wrap64",
]

JAVA_WS: Final = "".join(chr(c) for c in range(33))
"""Characters removed by Java's ``String.trim()`` (every char <= U+0020)."""

_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


class JDate:
    """A ``java.util.Date``: a point in time with millisecond precision."""

    __slots__ = ("millis",)

    def __init__(self, millis: int) -> None:
        self.millis = millis

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JDate) and other.millis == self.millis

    def __hash__(self) -> int:
        return hash(("JDate", self.millis))

    def __repr__(self) -> str:
        return f"JDate({self.millis})"


class JInstant:
    """A ``java.time.Instant``: a point in time with nanosecond precision."""

    __slots__ = ("nanos",)

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JInstant) and other.nanos == self.nanos

    def __hash__(self) -> int:
        return hash(("JInstant", self.nanos))

    def __repr__(self) -> str:
        return f"JInstant({self.nanos})"


def wrap64(value: int) -> int:
    """Wrap an integer to a signed 64-bit value, as Java ``long`` arithmetic does."""
    if _LONG_MIN <= value <= _LONG_MAX:
        return value
    return ((value + 2**63) % 2**64) - 2**63


def java_long(value: float) -> int:
    """Java's ``(long) double`` narrowing: truncate, NaN -> 0, saturate at the ends."""
    if value != value:
        return 0
    if value >= 9.223372036854775807e18:
        return _LONG_MAX
    if value <= -9.223372036854775808e18:
        return _LONG_MIN
    return int(value)


def java_trim(value: str) -> str:
    """Java ``String.trim()``: strip every character <= U+0020 from both ends."""
    return value.strip(JAVA_WS)


def java_double_str(value: float) -> str:
    """Render a float exactly like Java's ``Double.toString``."""
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    mag = abs(value)
    if 1e-3 <= mag < 1e7:
        text = repr(value)
        if "e" in text or "E" in text:  # pragma: no cover - repr is fixed here
            text = format(Decimal(text), "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = len(digits) - 1 + int(exponent)
    mantissa = ds[0] + "." + (ds[1:] or "0")
    return ("-" if sign else "") + mantissa + "E" + str(exp10)


_WHOLE_RE: Final = re.compile(r"[-+]?(?:[0-9]+|0[xX][0-9a-fA-F]+)")
_DOUBLE_RE: Final = re.compile(
    r"[-+]?(?:Infinity|NaN|[0-9]+\.[0-9]+|[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+"
    r"|\.[0-9]+(?:[eE][-+]?[0-9]+)?"
    r"|0[xX][0-9a-fA-F]+\.?[pP][-+]?[0-9]+"
    r"|0[xX][0-9a-fA-F]+(?:\.[0-9a-fA-F]+)?[pP][-+]?[0-9]+"
    r"|0[xX]\.[0-9a-fA-F]+(?:[pP][-+]?[0-9]+)?)"
)


def _parse_whole(text: str) -> int:
    body = text.lstrip("+-")
    neg = text.startswith("-")
    value = int(body[2:], 16) if body[:2] in ("0x", "0X") else int(body)
    value = -value if neg else value
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ExpressionEvaluationError(f"number out of range of a 64-bit long: {text}")
    return value


def _parse_double(text: str) -> float:
    if "x" in text or "X" in text:
        return float.fromhex(text)
    return float(text)


def parse_number(text: str) -> int | float | None:
    """Parse a trimmed string like NiFi's NumberParsing (None if not a number)."""
    if len(text) < 19 and text.isdigit() and text.isascii():
        return int(text)  # fast path for plain non-negative whole numbers
    if _WHOLE_RE.fullmatch(text):
        return _parse_whole(text)
    if _DOUBLE_RE.fullmatch(text):
        return _parse_double(text)
    return None


def category(value: object) -> str:
    """The NiFi result type of a runtime value."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "WHOLE"
    if isinstance(value, float):
        return "DECIMAL"
    if isinstance(value, JDate):
        return "DATE"
    if isinstance(value, JInstant):
        return "INSTANT"
    return "STRING"


def to_str(value: object) -> str | None:
    """String cast (``StringCastEvaluator``); ``None`` stays null."""
    if value is None or isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double_str(value)
    if isinstance(value, JDate):
        from flowengine.expression._dates import date_to_string

        return date_to_string(value.millis)
    if isinstance(value, JInstant):
        from flowengine.expression._dates import instant_to_string

        return instant_to_string(value.nanos)
    return str(value)


def to_bool(value: object) -> bool | None:
    """Boolean cast: trimmed string equals ``true`` ignoring case; null stays null."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip(JAVA_WS).lower() == "true"
    return None


def to_number(value: object) -> int | float | None:
    """Number cast (whole or decimal, whichever the value is); null if not numeric."""
    if value is None:
        return None
    if isinstance(value, str):
        return parse_number(value.strip(JAVA_WS))
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, JDate):
        return value.millis
    if isinstance(value, JInstant):
        return value.nanos // 1_000_000
    return None


def to_whole(value: object) -> int | None:
    """Whole-number cast (``toNumber()``): decimals truncate toward zero."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    num = to_number(value)
    if num is None or isinstance(num, int):
        return num
    return java_long(num)


def to_decimal(value: object) -> float | None:
    """Decimal cast (``toDecimal()``)."""
    if isinstance(value, float):
        return value
    num = to_number(value)
    return None if num is None else float(num)
