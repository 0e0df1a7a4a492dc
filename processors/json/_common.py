"""Shared by the JSON processors: parsing with a located error, rendering results
the way NiFi's JsonPath processors do, and the JsonPath property check."""

from __future__ import annotations

import json
from typing import Any, Final

from flowengine import AllowableValue, PropertyDescriptor, validators
from flowengine.expression.jayway import InvalidJsonPath, compile_path

#: attribute written on FlowFiles routed to failure because the content is not JSON
ERROR_ATTRIBUTE: Final = "json.error"

NULL_EMPTY: Final = "empty string"
NULL_LITERAL: Final = "the string 'null'"

NULL_VALUE_REPRESENTATION = PropertyDescriptor(
    "null_value_representation",
    "Indicates the desired representation of JSON Path expressions resulting in a "
    "null value.",
    display_name="Null Value Representation",
    default=NULL_EMPTY,
    required=True,
    allowable_values=(AllowableValue(NULL_EMPTY), AllowableValue(NULL_LITERAL)),
)


class BadJson(ValueError):
    """The content is not JSON; the message carries the parser's position."""


def parse(data: bytes) -> Any:
    """The JSON document in ``data``. Raises :class:`BadJson` with line/column for
    malformed input and for nesting too deep for the parser (no crash)."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise BadJson(
            f"invalid JSON at line {exc.lineno} column {exc.colno} "
            f"(char {exc.pos}): {exc.msg}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise BadJson(f"invalid JSON: not UTF-8 at byte {exc.start}") from exc
    except RecursionError as exc:
        raise BadJson("invalid JSON: nesting too deep to parse") from exc


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def representation(value: Any, null_value: str) -> str:
    """NiFi's getResultRepresentation: strings as they are, containers as JSON,
    other scalars as text, null as the Null Value Representation."""
    if isinstance(value, str):
        return value
    if value is None:
        return null_value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (dict, list)):
        return to_json(value)
    return str(value)


def is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def jsonpath_check(value: str) -> str | None:
    """Value check for a JsonPath property: it compiles in the Jayway dialect."""
    try:
        compile_path(value)
    except InvalidJsonPath as exc:
        return str(exc)
    return None


def longest_string(value: Any, limit: int) -> bool:
    """True when some string (key or value) in ``value`` is longer than ``limit``
    (Jackson's StreamReadConstraints maxStringLength)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if len(v) > limit:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


# the public API exposes Validator instances, not the class: take it from one
JSONPATH: Final = type(validators.NON_EMPTY)("JsonPath", jsonpath_check)
