"""Avro schemas ↔ Arrow schemas, for the Avro reader/writer and Avro schema texts.

Mapping: ``record`` ↔ struct (top level: the schema), ``["null", T]`` ↔ nullable ``T``,
``array`` ↔ list, ``map`` ↔ map<string, T>, ``enum`` → string, ``fixed``/``bytes`` → binary,
``decimal`` ↔ decimal, ``date`` ↔ date32, ``time-millis``/``time-micros`` ↔ time32/time64,
``timestamp-millis``/``-micros`` ↔ timestamp with tz UTC (Avro timestamps are instants),
``local-timestamp-*`` ↔ timestamp without tz, ``uuid`` → string.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pyarrow as pa

from ._api import SchemaSyntaxError

__all__ = ["arrow_to_avro", "avro_to_arrow", "avro_type_to_arrow"]

_PRIMITIVE = {
    "null": pa.null(),
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "bytes": pa.binary(),
    "string": pa.string(),
}


def _logical(t: dict[str, Any], named: dict[str, pa.DataType]) -> pa.DataType | None:
    lt = t.get("logicalType")
    if lt == "decimal":
        p, s = int(t["precision"]), int(t.get("scale", 0))
        return pa.decimal128(p, s) if p <= 38 else pa.decimal256(p, s)
    if lt == "date":
        return pa.date32()
    if lt == "time-millis":
        return pa.time32("ms")
    if lt == "time-micros":
        return pa.time64("us")
    if lt in (
        "timestamp-millis",
        "timestamp-micros",
        "local-timestamp-millis",
        "local-timestamp-micros",
    ):
        unit = "ms" if lt.endswith("millis") else "us"
        return pa.timestamp(unit, tz=None if lt.startswith("local") else "UTC")
    if lt == "uuid":
        return pa.string()
    return None


def avro_type_to_arrow(
    t: Any, named: dict[str, pa.DataType] | None = None
) -> tuple[pa.DataType, bool]:
    """(Arrow type, nullable) of one Avro type."""
    named = {} if named is None else named
    if isinstance(t, str):
        if t in _PRIMITIVE:
            return _PRIMITIVE[t], t == "null"
        if t in named:
            return named[t], False
        raise SchemaSyntaxError(f"unknown Avro type {t!r}")
    if isinstance(t, list):
        branches = [b for b in t if b != "null"]
        if len(branches) != 1:
            raise SchemaSyntaxError(
                f'Avro unions other than ["null", T] are not supported: {t}'
            )
        inner, _ = avro_type_to_arrow(branches[0], named)
        return inner, len(branches) != len(t)
    if not isinstance(t, dict) or "type" not in t:
        raise SchemaSyntaxError(f"not an Avro type: {t!r}")
    logical = _logical(t, named)
    if logical is not None:
        return logical, False
    kind = t["type"]
    if kind == "record":
        fields = []
        for f in t.get("fields", []):
            ftype, nullable = avro_type_to_arrow(f["type"], named)
            fields.append(pa.field(f["name"], ftype, nullable=nullable))
        st = pa.struct(fields)
        if "name" in t:
            named[t["name"]] = st
        return st, False
    if kind == "array":
        item, _ = avro_type_to_arrow(t["items"], named)
        return pa.list_(item), False
    if kind == "map":
        value, _ = avro_type_to_arrow(t["values"], named)
        return pa.map_(pa.string(), value), False
    if kind == "enum":
        named[t.get("name", "enum")] = pa.string()
        return pa.string(), False
    if kind == "fixed":
        named[t.get("name", "fixed")] = pa.binary()
        return pa.binary(), False
    return avro_type_to_arrow(kind, named)


def avro_to_arrow(avro: Any) -> pa.Schema:
    """The Arrow schema of an Avro record schema."""
    dtype, _ = avro_type_to_arrow(avro)
    if not pa.types.is_struct(dtype):
        raise SchemaSyntaxError("an Avro schema for records must be a record type")
    return pa.schema([dtype.field(i) for i in range(dtype.num_fields)])


def _avro_name(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return clean if re.match(r"[A-Za-z_]", clean) else f"_{clean}"


def _to_avro(dtype: pa.DataType, counter: itertools.count[int]) -> Any:
    if pa.types.is_null(dtype):
        return "null"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "int" if dtype.bit_width <= 16 or dtype in (pa.int32(),) else "long"
    if pa.types.is_float16(dtype) or pa.types.is_float32(dtype):
        return "float"
    if pa.types.is_floating(dtype):
        return "double"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if (
        pa.types.is_binary(dtype)
        or pa.types.is_large_binary(dtype)
        or pa.types.is_fixed_size_binary(dtype)
    ):
        return "bytes"
    if pa.types.is_decimal(dtype):
        return {
            "type": "bytes",
            "logicalType": "decimal",
            "precision": dtype.precision,
            "scale": dtype.scale,
        }
    if pa.types.is_date(dtype):
        return {"type": "int", "logicalType": "date"}
    if pa.types.is_time32(dtype):
        return {"type": "int", "logicalType": "time-millis"}
    if pa.types.is_time64(dtype):
        return {"type": "long", "logicalType": "time-micros"}
    if pa.types.is_timestamp(dtype):
        unit = "millis" if dtype.unit in ("s", "ms") else "micros"
        prefix = "timestamp" if dtype.tz else "local-timestamp"
        return {"type": "long", "logicalType": f"{prefix}-{unit}"}
    if pa.types.is_struct(dtype):
        return {
            "type": "record",
            "name": f"record{next(counter)}",
            "fields": [
                _field(dtype.field(i), counter) for i in range(dtype.num_fields)
            ],
        }
    if pa.types.is_map(dtype):
        return {"type": "map", "values": _nullable(_to_avro(dtype.item_type, counter))}
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return {
            "type": "array",
            "items": _nullable(_to_avro(dtype.value_type, counter)),
        }
    if pa.types.is_dictionary(dtype):
        return _to_avro(dtype.value_type, counter)
    if pa.types.is_duration(dtype):
        return "long"
    raise SchemaSyntaxError(f"Arrow type {dtype} has no Avro equivalent")


def _nullable(t: Any) -> Any:
    return t if t == "null" else ["null", t]


def _field(f: pa.Field, counter: itertools.count[int]) -> dict[str, Any]:
    t = _to_avro(f.type, counter)
    if f.nullable:
        return {"name": _avro_name(f.name), "type": _nullable(t), "default": None}
    return {"name": _avro_name(f.name), "type": t}


def arrow_to_avro(schema: pa.Schema, name: str = "nifiRecord") -> dict[str, Any]:
    """An Avro record schema for Arrow ``schema`` (nullable fields as ``["null", T]``)."""
    counter = itertools.count(1)
    return {
        "type": "record",
        "name": name,
        "fields": [_field(f, counter) for f in schema],
    }
