"""Boolean-logic and string-manipulation functions (NiFi guide §Boolean, §String).

Owns the declarations and implementations of: isNull notNull isEmpty equals
equalsIgnoreCase gt ge lt le and or not ifElse toUpper toLower trim substring*
getDelimitedField append prepend replace replaceFirst replaceAll replaceByPattern
replaceNull replaceEmpty padLeft padRight length repeat compactDelimitedList
trimDelimitedList unique toString toNumber toDecimal literal. Null handling mirrors
the NiFi evaluators function by function (e.g. ``substringBefore`` of null is "",
``toUpper`` of null is null, ``append`` to null gives the argument).
"""

from __future__ import annotations

import random as _random

from flowengine.expression._errors import ExpressionEvaluationError
from flowengine.expression._regex import java_regex, replace_all, replace_first
from flowengine.expression._registry import register
from flowengine.expression._values import JAVA_WS, category, to_str, to_whole

__all__: list[str] = []

B, S, W, N = "BOOLEAN", "STRING", "WHOLE", "NUMBER"
_MISSING = object()

# -- boolean logic ---------------------------------------------------------------


@register("isNull", result=B, null="never", inline="{s} is None", subject="ANY")
def _is_null(s: object) -> bool:
    return s is None


@register("notNull", result=B, null="never", inline="{s} is not None", subject="ANY")
def _not_null(s: object) -> bool:
    return s is not None


@register(
    "isEmpty", result=B, null="never", inline="({s} is None or not {s}.strip(_WS))"
)
def _is_empty(s: str | None) -> bool:
    return s is None or not s.strip(JAVA_WS)


def _normalize(value: object) -> str | None:
    from flowengine.expression._values import JDate

    if isinstance(value, JDate):
        return str(value.millis)
    return to_str(value)


@register(
    "equals",
    min_args=1,
    max_args=1,
    subject="ANY",
    result=B,
    null="never",
    inline="{s} == {a0}",
    null_value="False",
)
def _equals(s: object, other: object) -> bool:
    if s is None or other is None:
        return False
    if category(s) == category(other):
        return s == other
    return _normalize(s) == _normalize(other)


@register(
    "equalsIgnoreCase",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    result=B,
    null="never",
    inline="{s}.lower() == {a0}.lower()",
    null_value="False",
)
def _equals_ignore_case(s: str | None, other: str | None) -> bool:
    if s is None or other is None:
        return False
    return len(s) == len(other) and (
        s.upper() == other.upper() or s.lower() == other.lower()
    )


def _compare(op: str) -> None:
    def impl(s: int | float | None, other: int | float | None) -> bool:
        if s is None or other is None:
            return False
        if op == "gt":
            return s > other
        if op == "ge":
            return s >= other
        if op == "lt":
            return s < other
        return s <= other

    sym = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
    register(
        op,
        min_args=1,
        max_args=1,
        subject=N,
        arg_types=(N,),
        result=B,
        null="never",
        inline=f"{{s}} {sym} {{a0}}",
        null_value="False",
    )(impl)


for _op in ("gt", "ge", "lt", "le"):
    _compare(_op)


@register(
    "and", min_args=1, max_args=1, subject=B, arg_types=(B,), result=B, null="never"
)
def _and(s: bool | None, other: bool | None) -> bool:  # pragma: no cover - special form
    return s is True and other is True


@register(
    "or", min_args=1, max_args=1, subject=B, arg_types=(B,), result=B, null="never"
)
def _or(s: bool | None, other: bool | None) -> bool:  # pragma: no cover - special form
    return s is True or other is True


@register("not", subject=B, result=B)
def _not(s: bool | None) -> bool | None:
    return None if s is None else not s


@register("ifElse", min_args=2, max_args=2, subject=B, arg_types=(S,), null="maybe")
def _if_else(
    s: bool | None, a: str | None, b: str | None
) -> str | None:  # pragma: no cover
    return a if s is True else b


# -- case, trim, substrings ------------------------------------------------------------


@register("toUpper", inline="{s}.upper()")
def _to_upper(s: str | None) -> str | None:
    return None if s is None else s.upper()


@register("toLower", inline="{s}.lower()")
def _to_lower(s: str | None) -> str | None:
    return None if s is None else s.lower()


@register("trim", inline="{s}.strip(_WS)")
def _trim(s: str | None) -> str | None:
    return None if s is None else s.strip(JAVA_WS)


def _java_int(value: int | None, what: str) -> int:
    if value is None:
        raise ExpressionEvaluationError(f"{what} is not a number")
    return int(value)


@register("substring", min_args=1, max_args=2, arg_types=(W,), null="never")
def _substring(s: str | None, start: int | None, end: object = _MISSING) -> str:
    if s is None:
        return ""
    begin = _java_int(start, "substring start index")
    stop = len(s) if end is _MISSING else _java_int(end, "substring end index")  # type: ignore[arg-type]
    if begin < 0 or stop > len(s) or begin > stop:
        raise ExpressionEvaluationError(
            f"substring index out of range: begin {begin}, end {stop}, length {len(s)}"
        )
    return s[begin:stop]


@register(
    "substringBefore",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="never",
    inline="{s}[:_i] if (_i := {s}.find({a0})) >= 0 else {s}",
    null_value="''",
)
def _substring_before(s: str | None, sep: str | None) -> str:
    if s is None:
        return ""
    if sep is None:
        return s
    i = s.find(sep)
    return s if i < 0 else s[:i]


@register(
    "substringBeforeLast",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="never",
    inline="{s}[:_i] if (_i := {s}.rfind({a0})) >= 0 else {s}",
    null_value="''",
)
def _substring_before_last(s: str | None, sep: str | None) -> str:
    if s is None:
        return ""
    if sep is None:
        return s
    i = s.rfind(sep)
    return s if i < 0 else s[:i]


@register(
    "substringAfter",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="never",
    inline="{s}[_i + len({a0}):] if (_i := {s}.find({a0})) >= 0 else {s}",
    null_value="''",
)
def _substring_after(s: str | None, sep: str | None) -> str:
    if s is None:
        return ""
    if sep is None:
        return s
    i = s.find(sep)
    return s if i < 0 else s[i + len(sep) :]


@register(
    "substringAfterLast",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="never",
    inline="{s}[_i + len({a0}):] if (_i := {s}.rfind({a0})) >= 0 else {s}",
    null_value="''",
)
def _substring_after_last(s: str | None, sep: str | None) -> str:
    if s is None:
        return ""
    if sep is None:
        return s
    i = s.rfind(sep)
    return s if i < 0 else s[i + len(sep) :]


def _single_char(value: str | None, what: str) -> str:
    if not value:
        raise ExpressionEvaluationError(
            f"Cannot evaluate getDelimitedField function because the {what} was "
            "not specified"
        )
    if len(value) > 1:
        raise ExpressionEvaluationError(
            f"Cannot evaluate getDelimitedField function because the {what} "
            "evaluated to "
            f'"{value}", but only a single character is allowed.'
        )
    return value


@register(
    "getDelimitedField", min_args=1, max_args=5, arg_types=(W, S, S, S, B), null="never"
)
def _get_delimited_field(
    s: str | None,
    index: int | None,
    delimiter: str | None = ",",
    quote: str | None = '"',
    escape: str | None = "\\",
    strip: bool | None = False,
) -> str:
    if not s:
        return ""
    if index is None:
        raise ExpressionEvaluationError(
            "Cannot evaluate getDelimitedField function because the index (which field "
            "to obtain) was not specified"
        )
    if index < 1:
        return ""
    d = _single_char(delimiter, "delimiter")
    q = _single_char(quote, "quote character")
    e = _single_char(escape, "escape character")
    if q in (d, e) or d == e:
        raise ExpressionEvaluationError(
            "Cannot evaluate getDelimitedField function because the quote character, "
            "delimiter and escape character must all differ"
        )
    strip_chars = strip is True
    field: list[str] = []
    in_quote = False
    current = 1
    last_escape = False
    for c in s:
        if c == q and not last_escape:
            in_quote = not in_quote
            if not strip_chars and current == index:
                field.append(c)
        elif c == d and not last_escape and not in_quote:
            if current == index:
                return "".join(field)
            current += 1
        elif current == index and (c != e or not strip_chars):
            field.append(c)
        last_escape = c == e and not last_escape
    return "".join(field) if current == index else ""


@register(
    "append",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="never",
    inline="{s} + {a0}",
    null_value="{a0}",
)
def _append(s: str | None, other: str | None) -> str:
    return (s or "") + (other or "")


@register(
    "prepend",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="never",
    inline="{a0} + {s}",
    null_value="{a0}",
)
def _prepend(s: str | None, other: str | None) -> str:
    return (other or "") + (s or "")


@register(
    "replace",
    min_args=2,
    max_args=2,
    arg_types=(S, S),
    inline="{s}.replace({a0}, {a1})",
)
def _replace(s: str | None, search: str | None, repl: str | None) -> str | None:
    if s is None:
        return None
    if search is None or repl is None:
        return s
    return s.replace(search, repl)


@register("replaceFirst", min_args=2, max_args=2, arg_types=(S, S))
def _replace_first(s: str | None, regex: str | None, repl: str | None) -> str | None:
    if s is None or regex is None or repl is None:
        return s
    return replace_first(s, regex, repl)


@register("replaceAll", min_args=2, max_args=2, arg_types=(S, S))
def _replace_all(s: str | None, regex: str | None, repl: str | None) -> str | None:
    if s is None or regex is None or repl is None:
        return s
    return replace_all(s, regex, repl)


@register("replaceByPattern", min_args=1, max_args=1, arg_types=(S,))
def _replace_by_pattern(s: str | None, mapping: str | None) -> str | None:
    if s is None or mapping is None or not mapping.strip():
        return s
    for item in mapping.split(","):
        parts = item.strip(JAVA_WS).split(":")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            continue
        try:
            pattern = java_regex(parts[0])
        except ExpressionEvaluationError:
            continue  # NiFi ignores mappings whose pattern does not compile
        if pattern.fullmatch(s):
            return parts[1]
    return s


@register(
    "replaceNull",
    min_args=1,
    max_args=1,
    arg_types=(S,),
    null="maybe",
    inline="{s}",
    null_value="{a0}",
)
def _replace_null(s: str | None, repl: str | None) -> str | None:
    return repl if s is None else s


@register("replaceEmpty", min_args=1, max_args=1, arg_types=(S,), null="maybe")
def _replace_empty(s: str | None, repl: str | None) -> str | None:
    return repl if s is None or not s.strip(JAVA_WS) else s


def _pad(s: str | None, length: int | None, pad: str | None, left: bool) -> str | None:
    if s is None:
        return None
    if length is None or pad is None or pad == "" or length < 0 or length > 2**31 - 1:
        return s
    missing = length - len(s)
    if missing <= 0:
        return s
    filler = (pad * (missing // len(pad) + 1))[:missing]
    return filler + s if left else s + filler


@register("padLeft", min_args=1, max_args=2, arg_types=(W, S))
def _pad_left(s: str | None, length: int | None, pad: str | None = "_") -> str | None:
    return _pad(s, length, pad, True)


@register("padRight", min_args=1, max_args=2, arg_types=(W, S))
def _pad_right(s: str | None, length: int | None, pad: str | None = "_") -> str | None:
    return _pad(s, length, pad, False)


@register("length", result=W, null="never", inline="len({s})", null_value="0")
def _length(s: str | None) -> int:
    return 0 if s is None else len(s)


@register("repeat", min_args=1, max_args=2, arg_types=(W,))
def _repeat(s: str | None, low: int | None, high: object = _MISSING) -> str | None:
    if s is None:
        return None
    if high is _MISSING:
        high = low
    if low is None or not isinstance(high, int):
        raise ExpressionEvaluationError("repeat() arguments must be numbers")
    if low < 1 or high < low:
        raise ExpressionEvaluationError(
            "repeat() needs a positive minimum and a maximum >= the minimum"
        )
    return s * (low if low == high else _random.randint(low, high))


def _split_list(s: str, delimiter: str) -> list[str]:
    return s.split(delimiter) if delimiter else [s]


@register("compactDelimitedList", min_args=0, max_args=1, arg_types=(S,))
def _compact(s: str | None, delimiter: str | None = ",") -> str | None:
    if s is None:
        return None
    d = delimiter or ","
    return d.join(p.strip(JAVA_WS) for p in _split_list(s, d) if p.strip(JAVA_WS))


@register("trimDelimitedList", min_args=0, max_args=1, arg_types=(S,))
def _trim_list(s: str | None, delimiter: str | None = ",") -> str | None:
    if s is None:
        return None
    d = delimiter or ","
    return d.join(p.strip(JAVA_WS) for p in _split_list(s, d))


@register("unique", min_args=0, max_args=1, arg_types=(S,))
def _unique(s: str | None, delimiter: str | None = ",") -> str | None:
    if s is None:
        return None
    d = delimiter or ","
    return d.join(dict.fromkeys(_split_list(s, d)))


# -- type coercion ------------------------------------------------------------


@register("toString", subject="ANY")
def _to_string(s: object) -> str | None:
    return to_str(s)


@register("toNumber", subject="ANY", result=W)
def _to_number(s: object) -> int | None:
    """NiFi parses the (trimmed) subject as a number and fails the evaluation when it
    is not one (its ``NumberFormatException``): a non-numeric value is an error, not
    an empty result. A null or blank subject stays null."""
    num = to_whole(s)
    if num is None and isinstance(s, str) and s.strip(JAVA_WS):
        raise ExpressionEvaluationError(f"toNumber(): cannot convert {s!r} to a number")
    return num


@register("toDecimal", subject="DECIMAL", result="DECIMAL")
def _to_decimal(s: float | None) -> float | None:
    return s


@register(
    "literal", min_args=1, max_args=1, subject="NONE", arg_types=(S,), null="maybe"
)
def _literal(value: str | None) -> str | None:
    return value
