"""Lookup services for LookupRecord: key → value (or key → record), vectorized.

A lookup takes whole columns of keys and returns one column of results (null where a key
has no match): an Arrow hash lookup (``index_in`` + ``take``), no per-record Python.
Keys are compared as text, so an integer field finds the row whose CSV key is ``"42"``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from flowengine import (
    ConfigurationContext,
    ControllerService,
    DynamicProperties,
    PropertyDescriptor,
)

__all__ = ["LookupService", "SimpleCsvFileLookupService", "SimpleKeyValueLookupService"]


class LookupService(ABC):
    """Interface of record lookup services (NiFi's ``LookupService``)."""

    #: the coordinate names a lookup needs (LookupRecord's dynamic properties name them)
    key_names: tuple[str, ...] = ("key",)

    @abstractmethod
    def lookup(self, coordinates: Mapping[str, pa.Array]) -> pa.Array:
        """One result per record: a value, or a struct (a record); null when no match."""


class _TableLookup(LookupService):
    """Lookup over an in-memory table whose first column is the key."""

    _keys: pa.Array
    _values: pa.Array

    def _load(self, keys: pa.Array, values: pa.Array) -> None:
        keys = keys.cast(pa.string())
        # index_in finds the first occurrence: with duplicate keys the first row wins.
        self._keys = keys
        self._values = values

    def lookup(self, coordinates: Mapping[str, pa.Array]) -> pa.Array:
        key = coordinates.get("key")
        if key is None:
            raise KeyError("the lookup needs a 'key' coordinate")
        if isinstance(key, pa.ChunkedArray):
            key = key.combine_chunks()
        text = key.cast(pa.string()) if not pa.types.is_string(key.type) else key
        positions = pc.index_in(text, value_set=self._keys)
        return pc.take(self._values, positions)


class SimpleKeyValueLookupService(_TableLookup, ControllerService):
    """Looks values up in a map given as dynamic properties (key → value)."""

    tags = ("lookup", "enrich", "key", "value")
    dynamic_properties = DynamicProperties(
        "A key and the value it maps to.",
        name="A key",
        value="Its value",
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        items = {k: (v.value or "") for k, v in context.dynamic_properties.items()}
        self._load(
            pa.array(list(items), pa.string()),
            pa.array(list(items.values()), pa.string()),
        )


class SimpleCsvFileLookupService(_TableLookup, ControllerService):
    """Looks keys up in a CSV file (loaded once, when enabled): a value column, or the
    whole row as a record when no value column is named."""

    tags = ("lookup", "cache", "enrich", "join", "csv", "reloadable", "key", "value")

    CSV_FILE = PropertyDescriptor(
        "csv_file",
        "Path of the CSV file (with a header line).",
        display_name="CSV File",
        required=True,
    )
    KEY_COLUMN = PropertyDescriptor(
        "lookup_key_column",
        "The column holding keys.",
        display_name="Lookup Key Column",
        required=True,
    )
    VALUE_COLUMN = PropertyDescriptor(
        "lookup_value_column",
        "The column holding values; unset: the whole row is the result.",
        display_name="Lookup Value Column",
    )
    DELIMITER = PropertyDescriptor(
        "value_separator",
        "The character between values.",
        display_name="Value Separator",
        default=",",
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        path = Path(context.property(self.CSV_FILE).value or "")
        key = context.property(self.KEY_COLUMN).value or ""
        value = context.property(self.VALUE_COLUMN).value
        table = pcsv.read_csv(
            path,
            parse_options=pcsv.ParseOptions(
                delimiter=context.property(self.DELIMITER).value or ","
            ),
        )
        if key not in table.column_names:
            raise ValueError(
                f"{path}: no column {key!r} (columns: {', '.join(table.column_names)})"
            )
        if value and value not in table.column_names:
            raise ValueError(
                f"{path}: no column {value!r} (columns: {', '.join(table.column_names)})"
            )
        keys = table.column(key).combine_chunks()
        if value:
            values = table.column(value).combine_chunks().cast(pa.string())
        else:
            rest = table.drop_columns([key]).combine_chunks()
            values = pa.StructArray.from_arrays(
                [
                    c.chunk(0) if c.num_chunks else pa.array([], c.type)
                    for c in rest.columns
                ],
                fields=list(rest.schema),
            )
        self._load(keys, values)
