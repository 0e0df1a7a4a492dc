"""Round trips through every reader/writer pair: nulls, unicode, nesting, decimals, time zones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from flowengine.controller_services.records import format_schema

from flowengine.testing import TestRunner

from .conftest import FLAT_TEXT, parquet_bytes, read_parquet

FORMATS: dict[str, tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    # name: (writer spec, reader spec without schema)
    "csv": (("CSVRecordSetWriter", {}), ("CSVReader", {})),
    "tsv": (
        ("CSVRecordSetWriter", {"value_separator": "\\t"}),
        ("CSVReader", {"value_separator": "\\t"}),
    ),
    "json-lines": (
        ("JsonRecordSetWriter", {"output_grouping": "output-oneline"}),
        ("JsonTreeReader", {}),
    ),
    "json-array": (("JsonRecordSetWriter", {}), ("JsonTreeReader", {})),
    "json-pretty": (
        ("JsonRecordSetWriter", {"pretty_print_json": "true"}),
        ("JsonTreeReader", {}),
    ),
    "parquet": (("ParquetRecordSetWriter", {}), ("ParquetReader", {})),
    "avro": (("AvroRecordSetWriter", {}), ("AvroReader", {})),
}
NESTED_FORMATS = ["json-lines", "json-array", "json-pretty", "parquet", "avro"]


def convert(
    runner: Callable[..., TestRunner], data: bytes, reader: Any, writer: Any
) -> bytes:
    r = runner("ConvertRecord", reader, writer)
    r.enqueue(data, {"filename": "in"})
    r.run()
    r.assert_all_transferred("success", 1)
    return r.flowfiles_for("success")[0].content


def round_trip(
    runner: Callable[..., TestRunner], table: pa.Table, fmt: str, schema_text: str
) -> pa.Table:
    writer, reader = FORMATS[fmt]
    encoded = convert(runner, parquet_bytes(table), ("ParquetReader", {}), writer)
    props = dict(reader[1])
    if reader[0] in ("CSVReader", "JsonTreeReader"):
        props.update(
            schema_access_strategy="schema-text-property", schema_text=schema_text
        )
    back = convert(runner, encoded, (reader[0], props), ("ParquetRecordSetWriter", {}))
    return read_parquet(back)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_flat_round_trip(
    runner: Callable[..., TestRunner], flat_table: pa.Table, fmt: str
) -> None:
    """Nulls, unicode, decimals, UTC timestamps, booleans and floats survive each format."""
    back = round_trip(runner, flat_table, fmt, FLAT_TEXT)
    assert back.to_pylist() == flat_table.to_pylist()


@pytest.mark.parametrize("fmt", NESTED_FORMATS)
def test_nested_round_trip(
    runner: Callable[..., TestRunner], nested_table: pa.Table, fmt: str
) -> None:
    """Structs and lists (with nulls inside) survive the formats that can nest."""
    back = round_trip(runner, nested_table, fmt, format_schema(nested_table.schema))
    assert back.to_pylist() == nested_table.to_pylist()


def test_parquet_and_avro_keep_their_schema(
    runner: Callable[..., TestRunner], flat_table: pa.Table
) -> None:
    """Self-describing formats come back with the exact types without declaring a schema."""
    for fmt in ("parquet", "avro"):
        writer, reader = FORMATS[fmt]
        encoded = convert(
            runner, parquet_bytes(flat_table), ("ParquetReader", {}), writer
        )
        back = read_parquet(
            convert(runner, encoded, reader, ("ParquetRecordSetWriter", {}))
        )
        assert back.schema.types == flat_table.schema.types, fmt


def test_csv_and_json_infer_types(runner: Callable[..., TestRunner]) -> None:
    """Without a declared schema, CSV and JSON readers infer numbers, booleans and text."""
    csv = b"id,name,score,ok\n1,a,1.5,true\n2,b,,false\n"
    back = read_parquet(
        convert(runner, csv, ("CSVReader", {}), ("ParquetRecordSetWriter", {}))
    )
    assert back.schema.types == [pa.int64(), pa.string(), pa.float64(), pa.bool_()]
    assert back.column("score").to_pylist() == [1.5, None]
    js = (
        b'{"id": 1, "tags": ["x"], "c": {"n": "z"}}\n{"id": 2, "tags": [], "c": null}\n'
    )
    back = read_parquet(
        convert(runner, js, ("JsonTreeReader", {}), ("ParquetRecordSetWriter", {}))
    )
    assert back.to_pylist() == [
        {"id": 1, "tags": ["x"], "c": {"n": "z"}},
        {"id": 2, "tags": [], "c": None},
    ]


def test_avro_maps_round_trip(runner: Callable[..., TestRunner]) -> None:
    """Map columns become Avro maps and come back as maps."""
    table = pa.table(
        {"m": pa.array([[("a", 1)], [], None], pa.map_(pa.string(), pa.int64()))}
    )
    encoded = convert(
        runner, parquet_bytes(table), ("ParquetReader", {}), ("AvroRecordSetWriter", {})
    )
    back = read_parquet(
        convert(runner, encoded, ("AvroReader", {}), ("ParquetRecordSetWriter", {}))
    )
    assert back.column("m").to_pylist() == [[("a", 1)], [], None]


def test_csv_options_header_skip_quote_null(runner: Callable[..., TestRunner]) -> None:
    """Skip lines, no header with a declared schema, custom quote and a null string."""
    data = b"# exported\nx;'a;b';NULL\ny;'c';2\n"
    reader = (
        "CSVReader",
        {
            "skip_rows": "1",
            "treat_first_line_as_header": "false",
            "value_separator": ";",
            "quote_character": "'",
            "null_string": "NULL",
            "schema_access_strategy": "schema-text-property",
            "schema_text": "k: string, v: string, n: int32",
        },
    )
    back = read_parquet(convert(runner, data, reader, ("ParquetRecordSetWriter", {})))
    assert back.to_pylist() == [
        {"k": "x", "v": "a;b", "n": None},
        {"k": "y", "v": "c", "n": 2},
    ]


def test_csv_timestamp_format_and_offsets(runner: Callable[..., TestRunner]) -> None:
    """ISO 8601 offsets normalize to a zoned type; a custom format parses local times."""
    reader = (
        "CSVReader",
        {
            "schema_access_strategy": "schema-text-property",
            "schema_text": "t: timestamp(s, UTC)",
        },
    )
    back = read_parquet(
        convert(
            runner,
            b"t\n2024-03-01T10:00:00+02:00\n2024-03-01 09:30:00Z\n",
            reader,
            ("ParquetRecordSetWriter", {}),
        )
    )
    assert [v.isoformat() for v in back.column("t").to_pylist()] == [
        "2024-03-01T08:00:00+00:00",
        "2024-03-01T09:30:00+00:00",
    ]
    reader = (
        "CSVReader",
        {
            "timestamp_format": "%d/%m/%Y %H:%M:%S",
            "schema_access_strategy": "schema-text-property",
            "schema_text": "t: timestamp(s)",
        },
    )
    back = read_parquet(
        convert(
            runner, b"t\n01/03/2024 09:30:00\n", reader, ("ParquetRecordSetWriter", {})
        )
    )
    assert [v.isoformat() for v in back.column("t").to_pylist()] == [
        "2024-03-01T09:30:00"
    ]


def test_writer_declared_schema_casts_and_drops(
    runner: Callable[..., TestRunner],
) -> None:
    """A writer with Schema Text writes only the declared fields, cast to the declared types."""
    writer = (
        "ParquetRecordSetWriter",
        {
            "schema_access_strategy": "schema-text-property",
            "schema_text": "b: int32, a: string",
        },
    )
    back = read_parquet(convert(runner, b"a,b,c\nx,1,z\n", ("CSVReader", {}), writer))
    assert back.schema == pa.schema([("b", pa.int32()), ("a", pa.string())])


def test_schema_text_from_an_attribute(runner: Callable[..., TestRunner]) -> None:
    """The default Schema Text is ${avro.schema}: the schema can travel with the FlowFile."""
    r = runner(
        "ConvertRecord",
        ("CSVReader", {"schema_access_strategy": "schema-text-property"}),
        ("ParquetRecordSetWriter", {}),
    )
    r.enqueue(
        b"a\n1\n",
        {
            "avro.schema": '{"type":"record","name":"x","fields":[{"name":"a","type":"double"}]}'
        },
    )
    r.run()
    assert read_parquet(r.flowfiles_for("success")[0].content).schema.types == [
        pa.float64()
    ]


def test_avro_writer_sanitizes_field_names(runner: Callable[..., TestRunner]) -> None:
    """Field names Avro cannot spell are written with underscores."""
    encoded = convert(
        runner,
        b"first name,2nd\nann,1\n",
        ("CSVReader", {}),
        ("AvroRecordSetWriter", {}),
    )
    back = read_parquet(
        convert(runner, encoded, ("AvroReader", {}), ("ParquetRecordSetWriter", {}))
    )
    assert back.to_pylist() == [{"first_name": "ann", "_2nd": 1}]


def test_json_writer_handles_types_duckdb_does_not(
    runner: Callable[..., TestRunner],
) -> None:
    """Half floats and durations fall back to Python's JSON encoder instead of failing."""
    table = pa.table(
        {
            "h": pa.array([1.5, None], pa.float16()),
            "d": pa.array([1, None], pa.duration("s")),
        }
    )
    out = convert(
        runner, parquet_bytes(table), ("ParquetReader", {}), ("JsonRecordSetWriter", {})
    )
    assert out == b'[{"h":1.5,"d":"0:00:01"},{"h":null,"d":null}]'


def test_csv_format_presets(runner: Callable[..., TestRunner]) -> None:
    """CSV Format presets set the separator: Tab-Delimited reads and writes tabs."""
    out = convert(
        runner,
        b"a\tb\n1\tx y\n",
        ("CSVReader", {"csv_format": "Tab-Delimited"}),
        ("CSVRecordSetWriter", {"csv_format": "tdf"}),
    )
    assert out == b'"a"\t"b"\n1\t"x y"\n'


def test_csv_escape_character(runner: Callable[..., TestRunner]) -> None:
    """An escape character protects separators and quotes inside values."""
    reader = ("CSVReader", {"escape_character": "\\"})
    out = convert(
        runner, b'k,v\n1,a\\,b\n2,"say \\"hi\\""\n', reader, ("JsonRecordSetWriter", {})
    )
    assert out == b'[{"k":1,"v":"a,b"},{"k":2,"v":"say \\"hi\\""}]'


def test_avro_deflate(runner: Callable[..., TestRunner], flat_table: pa.Table) -> None:
    """The DEFLATE codec writes files the reader decodes."""
    encoded = convert(
        runner,
        parquet_bytes(flat_table),
        ("ParquetReader", {}),
        ("AvroRecordSetWriter", {"compression_format": "DEFLATE"}),
    )
    assert b"deflate" in encoded[:200]
    back = read_parquet(
        convert(runner, encoded, ("AvroReader", {}), ("ParquetRecordSetWriter", {}))
    )
    assert back.to_pylist() == flat_table.to_pylist()


@pytest.mark.parametrize("grouping", ["output-array", "output-oneline"])
def test_json_writer_across_many_batches(
    runner: Callable[..., TestRunner], grouping: str
) -> None:
    """Records written over many reader batches form one valid JSON document / JSON lines."""
    import json

    data = b"n,s\n" + b"".join(b'%d,"t,%d"\n' % (i, i) for i in range(3000))
    out = convert(
        runner,
        data,
        ("CSVReader", {"block_size": "2 KB"}),
        ("JsonRecordSetWriter", {"output_grouping": grouping}),
    )
    rows = (
        json.loads(out)
        if grouping == "output-array"
        else [json.loads(x) for x in out.splitlines()]
    )
    assert [r["n"] for r in rows] == list(range(3000))
    assert rows[2999]["s"] == "t,2999"


def test_schema_by_name_from_a_registry(runner: Callable[..., TestRunner]) -> None:
    """With Use 'Schema Name' the reader and writer take ${schema.name} from an AvroSchemaRegistry."""
    by_name = {
        "schema_access_strategy": "Use 'Schema Name' Property",
        "schema_registry": "registry",
    }
    r = runner(
        "ConvertRecord", ("CSVReader", by_name), ("ParquetRecordSetWriter", by_name)
    )
    r.add_service(
        "registry",
        "AvroSchemaRegistry",
        {
            "orders": '{"type": "record", "name": "o", "fields": [{"name": "id", "type": "long"}, {"name": "amount", "type": "double"}]}',
            "people": "name: string, age: int8",
        },
    )
    r.enqueue(b"id,amount\n1,2.5\n", {"schema.name": "orders"})
    r.enqueue(b"name,age\nann,300\n", {"schema.name": "people"})
    r.enqueue(b"a\n1\n", {"schema.name": "nope"})
    r.run()
    ok = r.flowfiles_for("success")
    assert len(ok) == 1 and read_parquet(ok[0].content).schema.types == [
        pa.int64(),
        pa.float64(),
    ]
    errors = sorted(f["record.error.message"] for f in r.flowfiles_for("failure"))
    assert "does not fit int8" in errors[0]
    assert errors[1].startswith(
        "no schema named 'nope' in the schema registry (known: orders, people)"
    )


def test_a_bad_registered_schema_stops_the_start(
    runner: Callable[..., TestRunner],
) -> None:
    """A registered schema that does not parse keeps the registry from enabling, naming it."""
    by_name = {"schema_access_strategy": "schema-name", "schema_registry": "registry"}
    r = runner("ConvertRecord", ("CSVReader", by_name), ("CSVRecordSetWriter", {}))
    r.add_service("registry", "AvroSchemaRegistry", {"broken": "a: integer"})
    r.enqueue(b"a\n1\n")
    with pytest.raises(Exception, match=r"schema 'broken': .*unknown type 'integer'"):
        r.run()
