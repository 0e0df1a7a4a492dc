"""Schema declarations: the readable Arrow syntax, Avro schemas, conforming batches."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from flowengine.controller_services.records import (
    RecordError,
    SchemaSyntaxError,
    conform,
    format_schema,
    format_type,
    parse_schema,
    parse_type,
)
from flowengine.controller_services.records.avro_types import (
    arrow_to_avro,
    avro_to_arrow,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int64", pa.int64()),
        ("bool", pa.bool_()),
        ("string", pa.string()),
        ("utf8", pa.string()),
        ("double", pa.float64()),
        ("float", pa.float32()),
        ("date", pa.date32()),
        ("decimal(10, 2)", pa.decimal128(10, 2)),
        ("decimal(50, 4)", pa.decimal256(50, 4)),
        ("timestamp(ms)", pa.timestamp("ms")),
        ("timestamp(us, UTC)", pa.timestamp("us", tz="UTC")),
        ("timestamp[us, tz=Europe/Paris]", pa.timestamp("us", tz="Europe/Paris")),
        ("timestamp(s, +02:00)", pa.timestamp("s", tz="+02:00")),
        ("time64(us)", pa.time64("us")),
        ("duration(ms)", pa.duration("ms")),
        ("list<string>", pa.list_(pa.string())),
        ("list<item: int32>", pa.list_(pa.int32())),
        (
            "struct<a: int64, b: list<string>>",
            pa.struct([("a", pa.int64()), ("b", pa.list_(pa.string()))]),
        ),
        ("map<string, double>", pa.map_(pa.string(), pa.float64())),
    ],
)
def test_parse_type(text: str, expected: pa.DataType) -> None:
    """Each documented type spelling parses to the Arrow type."""
    assert parse_type(text) == expected


def test_schema_fields_commas_newlines_nullability_and_quoted_names() -> None:
    """Fields split on commas or new lines; `not null` and quoted names work."""
    schema = parse_schema('id: int64 not null\nname: string, "odd name": double\n')
    assert schema.names == ["id", "name", "odd name"]
    assert not schema.field("id").nullable
    assert schema.field("name").nullable


@pytest.mark.parametrize(
    "dtype",
    [
        pa.int8(),
        pa.uint64(),
        pa.float16(),
        pa.large_string(),
        pa.binary(),
        pa.date64(),
        pa.decimal128(38, 10),
        pa.timestamp("ns", tz="America/New_York"),
        pa.time32("ms"),
        pa.list_(pa.struct([("x", pa.list_(pa.int64()))])),
        pa.map_(pa.string(), pa.list_(pa.bool_())),
        pa.large_list(pa.string()),
    ],
)
def test_format_type_round_trips(dtype: pa.DataType) -> None:
    """format_type output parses back to the same type, and so does pyarrow's str()."""
    assert parse_type(format_type(dtype)) == dtype
    assert parse_type(str(dtype)) == dtype


def test_format_schema_round_trips() -> None:
    """A whole schema survives format_schema → parse_schema."""
    schema = pa.schema(
        [
            pa.field("a b", pa.int64(), nullable=False),
            ("c", pa.struct([("d", pa.string())])),
        ]
    )
    assert parse_schema(format_schema(schema)) == schema


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("id: int65", "unknown type 'int65'"),
        ("id int64", "expected ':'"),
        ("id: list<int64", "expected '>'"),
        ("a: int64\nb: decimal(10)", "line 2"),
        ("a: int64, a: string", "declared twice"),
        ("", "empty"),
        ('{"type": "record", "fields": [', "not valid JSON"),
    ],
)
def test_schema_syntax_errors_say_where(text: str, fragment: str) -> None:
    """Bad declarations raise SchemaSyntaxError whose message locates the problem."""
    with pytest.raises(SchemaSyntaxError, match=fragment):
        parse_schema(text)


def test_avro_schema_text_maps_logical_types_and_unions() -> None:
    """An Avro schema JSON declares Arrow fields (nullable unions, logical types, records)."""
    avro = {
        "type": "record",
        "name": "r",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": ["null", "string"]},
            {
                "name": "price",
                "type": {
                    "type": "bytes",
                    "logicalType": "decimal",
                    "precision": 9,
                    "scale": 2,
                },
            },
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {
                "name": "addr",
                "type": {
                    "type": "record",
                    "name": "a",
                    "fields": [{"name": "city", "type": "string"}],
                },
            },
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "attrs", "type": {"type": "map", "values": "int"}},
            {
                "name": "kind",
                "type": {"type": "enum", "name": "k", "symbols": ["A", "B"]},
            },
        ],
    }
    schema = parse_schema(json.dumps(avro))
    assert schema.field("id").type == pa.int64() and not schema.field("id").nullable
    assert schema.field("name").nullable
    assert schema.field("price").type == pa.decimal128(9, 2)
    assert schema.field("at").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("addr").type == pa.struct(
        [pa.field("city", pa.string(), nullable=False)]
    )
    assert schema.field("attrs").type == pa.map_(pa.string(), pa.int32())
    assert schema.field("kind").type == pa.string()


def test_arrow_to_avro_and_back_keeps_types() -> None:
    """Arrow → Avro → Arrow keeps the types Avro can express."""
    schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            ("d", pa.decimal128(10, 2)),
            ("t", pa.timestamp("us", tz="UTC")),
            ("l", pa.timestamp("ms")),
            ("day", pa.date32()),
            ("s", pa.struct([("x", pa.string())])),
        ]
    )
    back = avro_to_arrow(arrow_to_avro(schema))
    assert back.field("id") == schema.field("id")
    for name in ("d", "t", "l", "day"):
        assert back.field(name).type == schema.field(name).type


def test_conform_casts_reorders_and_names_the_bad_record() -> None:
    """conform casts to the schema, fills missing fields, and names the record that does not fit."""
    batch = pa.RecordBatch.from_pydict({"b": ["1", "2"], "a": ["x", "y"]})
    out = conform(batch, parse_schema("a: string, b: int32, c: double"))
    assert out.to_pydict() == {"a": ["x", "y"], "b": [1, 2], "c": [None, None]}
    bad = pa.RecordBatch.from_pydict({"b": ["1", "zz", "3"]})
    with pytest.raises(RecordError, match=r"record 12: field 'b' value 'zz'") as info:
        conform(bad, parse_schema("b: int32"), first_row=11)
    assert info.value.row == 12
    with pytest.raises(RecordError, match="null but declared not null"):
        conform(
            pa.RecordBatch.from_pydict({"b": [1, None]}),
            parse_schema("b: int64 not null"),
        )
