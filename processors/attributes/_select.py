"""Attribute selection shared by AttributesToJSON and AttributesToCSV.

Both NiFi processors pick attributes the same way: an explicit comma-separated list
(missing names still appear, as null or empty), plus every attribute whose name fully
matches a regular expression; with neither, all attributes. Core attributes are removed
from the selection when *Include Core Attributes* is false.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flowengine import (
    AllowableValue,
    ExpressionLanguageScope,
    ProcessContext,
    PropertyDescriptor,
)
from flowengine import validators as v

__all__ = [
    "CORE_ATTRIBUTES",
    "DESTINATION_ATTRIBUTE",
    "DESTINATION_CONTENT",
    "destination",
    "include_core",
    "null_value",
    "parse_list",
    "regex_property",
    "select",
]

#: NiFi's ``CoreAttributes`` keys
CORE_ATTRIBUTES = frozenset(
    {
        "path",
        "absolute.path",
        "filename",
        "uuid",
        "priority",
        "mime.type",
        "discard.reason",
        "alternate.identifier",
    }
)
DESTINATION_ATTRIBUTE = "flowfile-attribute"
DESTINATION_CONTENT = "flowfile-content"


def regex_property(description: str) -> PropertyDescriptor:
    """The *Attributes Regular Expression* property (validated as a regex)."""
    return PropertyDescriptor(
        "attributes_regular_expression",
        description,
        display_name="Attributes Regular Expression",
        validators=(v.REGEX,),
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )


def destination(attribute_name: str) -> PropertyDescriptor:
    """The *Destination* property: a new attribute or the content."""
    return PropertyDescriptor(
        "destination",
        f"Write the result to the attribute '{attribute_name}' or to the content "
        "(replacing any existing content).",
        display_name="Destination",
        default=DESTINATION_ATTRIBUTE,
        required=True,
        allowable_values=(
            AllowableValue(
                DESTINATION_ATTRIBUTE, None, f"the '{attribute_name}' attribute"
            ),
            AllowableValue(DESTINATION_CONTENT, None, "the FlowFile content"),
        ),
    )


def include_core() -> PropertyDescriptor:
    """The *Include Core Attributes* property."""
    return PropertyDescriptor(
        "include_core_attributes",
        "Whether the core attributes (uuid, filename, path, mime.type, ...) are included.",
        display_name="Include Core Attributes",
        default="true",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )


def null_value(missing: str) -> PropertyDescriptor:
    """The *Null Value* property."""
    return PropertyDescriptor(
        "null_value",
        f"If true a selected attribute that does not exist is written as {missing}; if "
        "false as an empty string.",
        display_name="Null Value",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )


def parse_list(value: str | None) -> list[str]:
    """The names of a comma-separated list, trimmed, empty entries dropped."""
    return [n.strip() for n in (value or "").split(",") if n.strip()]


@dataclass(frozen=True)
class Selection:
    """What both processors read from their selection properties when scheduled."""

    names: list[str]
    pattern: re.Pattern[str] | None
    to_content: bool
    core: bool
    null: bool

    @classmethod
    def of(
        cls,
        context: ProcessContext,
        *,
        attribute_list: PropertyDescriptor,
        regex: PropertyDescriptor,
        destination: PropertyDescriptor,
        include_core: PropertyDescriptor,
        null_value: PropertyDescriptor,
    ) -> Selection:
        pattern = context.property(regex).evaluate().value
        return cls(
            names=parse_list(context.property(attribute_list).value),
            pattern=re.compile(pattern) if pattern else None,
            to_content=context.property(destination).value == DESTINATION_CONTENT,
            core=bool(context.property(include_core).as_bool()),
            null=bool(context.property(null_value).as_bool()),
        )

    def select(self, attrs: Mapping[str, str]) -> dict[str, str | None]:
        return select(attrs, self.names, self.pattern, self.core)


def select(
    attrs: Mapping[str, str],
    names: list[str],
    pattern: re.Pattern[str] | None,
    core: bool,
) -> dict[str, str | None]:
    """The selected attributes in output order; ``None`` marks a listed absent one."""
    if not names and pattern is None:
        out: dict[str, str | None] = dict(attrs)
    else:
        out = {n: attrs.get(n) for n in names}
        if pattern is not None:
            for k, val in attrs.items():
                if k not in out and pattern.fullmatch(k):
                    out[k] = val
    if not core:
        for k in CORE_ATTRIBUTES:
            out.pop(k, None)
    return out
