"""Pieces shared by the reader and writer services: schema access and stream adapters."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, BinaryIO

import pyarrow as pa

from flowengine import (
    AllowableValue,
    ConfigurationContext,
    ExpressionLanguageScope,
    PropertyDescriptor,
)

from ._api import RecordError, SchemaRegistry
from .schema import SchemaSyntaxError, parse_schema

__all__ = [
    "EMBEDDED",
    "INFER",
    "INHERIT",
    "NAME",
    "SCHEMA_TEXT",
    "SchemaAccess",
    "SchemaProperties",
    "arrow_input",
    "schema_properties",
]

INFER = "infer-schema"
TEXT = "schema-text-property"
EMBEDDED = "embedded-schema"
INHERIT = "inherit-record-schema"
NAME = "schema-name"
SCHEMA_TEXT = TEXT

_LABELS = {
    INFER: AllowableValue(INFER, "Infer Schema", "Derive the schema from the data"),
    TEXT: AllowableValue(
        TEXT, "Use 'Schema Text' Property", "The schema declared in Schema Text"
    ),
    EMBEDDED: AllowableValue(
        EMBEDDED, "Use Embedded Schema", "The schema stored in the data file"
    ),
    NAME: AllowableValue(
        NAME,
        "Use 'Schema Name' Property",
        "The schema a Schema Registry holds under Schema Name",
    ),
    INHERIT: AllowableValue(
        INHERIT,
        "Inherit Record Schema",
        "Write records with the schema they were read with",
    ),
}


#: the four schema properties, see :func:`schema_properties`
SchemaProperties = tuple[
    PropertyDescriptor, PropertyDescriptor, PropertyDescriptor, PropertyDescriptor
]


def schema_properties(default: str, *others: str) -> SchemaProperties:
    """The schema properties every reader and writer declares, in NiFi's order.

    Returns ``(strategy, text, registry, name)``: NiFi's Schema Access Strategy (readers)
    / Schema Write Strategy (writers) offering ``default`` then ``others``, and Schema
    Text, Schema Registry and Schema Name, which depend on the strategy. Unpack them into
    the class body in that order (``SCHEMA_ACCESS_STRATEGY, SCHEMA_TEXT, ... = ...``):
    declaration order is the order ``describe`` and the docs list them in;
    :class:`SchemaAccess` reads them by their names when the service is enabled.
    """
    strategy = PropertyDescriptor(
        "schema_access_strategy",
        "Where the schema comes from.",
        display_name="Schema Access Strategy",
        default=default,
        required=True,
        allowable_values=tuple(_LABELS[o] for o in (default, *others)),
    )
    text = PropertyDescriptor(
        "schema_text",
        "The schema: Arrow types in the declaration syntax (`id: int64, name: string`) "
        "or an Avro schema in JSON. See docs/records.md.",
        display_name="Schema Text",
        default="${avro.schema}",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("schema_access_strategy", (TEXT,)),
    )
    registry = PropertyDescriptor(
        "schema_registry",
        "The schema registry service that holds the schemas, by name.",
        display_name="Schema Registry",
        service=SchemaRegistry,
        depends_on=("schema_access_strategy", (NAME,)),
    )
    name = PropertyDescriptor(
        "schema_name",
        "The name of the schema in the Schema Registry.",
        display_name="Schema Name",
        default="${schema.name}",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("schema_access_strategy", (NAME,)),
    )
    return strategy, text, registry, name


class SchemaAccess:
    """Resolves the declared schema of a service per FlowFile (cached by text)."""

    def __init__(self, context: ConfigurationContext) -> None:
        self.strategy = context.property("schema_access_strategy").value
        self._text = context.property("schema_text") if self.strategy == TEXT else None
        self._name = context.property("schema_name") if self.strategy == NAME else None
        self._registry: SchemaRegistry | None = None
        if self._name is not None:
            registry = context.property("schema_registry")
            if not registry.is_set:
                raise ValueError(
                    "the Schema Name strategy needs a Schema Registry (schema_registry)"
                )
            self._registry = registry.as_service(SchemaRegistry)
        self._cache: dict[str, pa.Schema] = {}
        if self._text is not None and not self._text.has_expressions:
            self.schema_for(
                {}
            )  # a literal schema is checked when the service is enabled

    @property
    def declared(self) -> bool:
        return self._text is not None or self._name is not None

    def schema_for(self, attributes: Mapping[str, str] | None) -> pa.Schema | None:
        """The declared schema, or None when the schema is inferred or embedded."""
        if self._name is not None and self._registry is not None:
            name = self._name.evaluate(attributes=dict(attributes or {})).value or ""
            return self._registry.retrieve(name)
        if self._text is None:
            return None
        text = self._text.evaluate(attributes=dict(attributes or {})).value or ""
        schema = self._cache.get(text)
        if schema is None:
            try:
                schema = parse_schema(text)
            except SchemaSyntaxError as exc:
                raise RecordError(f"invalid schema text: {exc}") from None
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[text] = schema
        return schema


def arrow_input(source: BinaryIO) -> Any:
    """An Arrow input file over ``source`` without copying when it is in memory."""
    if isinstance(source, io.BytesIO):
        # getvalue() shares the bytes a BytesIO was made from (no copy); getbuffer()
        # would pin the BytesIO so that closing it fails.
        return pa.BufferReader(pa.py_buffer(source.getvalue()))
    return pa.PythonFile(source, mode="r")
