"""AvroSchemaRegistry: schemas by name, for readers and writers that use Schema Name."""

from __future__ import annotations

import pyarrow as pa

from flowengine import ConfigurationContext, ControllerService, DynamicProperties

from ._api import RecordError, SchemaRegistry
from .schema import SchemaSyntaxError, parse_schema

__all__ = ["AvroSchemaRegistry"]


class AvroSchemaRegistry(SchemaRegistry, ControllerService):
    """Holds schemas by name: each dynamic property is a schema name and its schema, as
    Avro JSON (NiFi's form) or in the Arrow declaration syntax. Readers and writers with
    *Use 'Schema Name' Property* look a FlowFile's schema up by name (``${schema.name}``).
    Every schema is parsed when the service is enabled, so a bad one stops the flow from
    starting, naming the schema."""

    tags = ("schema", "registry", "avro", "json", "csv")
    dynamic_properties = DynamicProperties(
        "A schema name and its schema (Avro JSON or the declaration syntax).",
        name="A schema name",
        value="The schema",
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        schemas: dict[str, pa.Schema] = {}
        for name, pv in context.dynamic_properties.items():
            try:
                schemas[name] = parse_schema(pv.value or "")
            except SchemaSyntaxError as exc:
                raise ValueError(f"schema {name!r}: {exc}") from None
        self._schemas = schemas

    def retrieve(self, name: str) -> pa.Schema:
        schema = self._schemas.get(name)
        if schema is None:
            known = ", ".join(sorted(self._schemas)) or "none"
            raise RecordError(
                f"no schema named {name!r} in the schema registry (known: {known})"
            )
        return schema
