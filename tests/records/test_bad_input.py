"""Bad input goes to failure with record.error.message naming the place; nothing crashes."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import fastavro
import pyarrow as pa
import pytest

from flowengine.testing import TestRunner

from .conftest import parquet_bytes

CSV = ("CSVReader", {})
DECLARED_CSV = (
    "CSVReader",
    {
        "schema_access_strategy": "schema-text-property",
        "schema_text": "id: int64, name: string",
    },
)
JSON = ("JsonTreeReader", {})
DECLARED_JSON = (
    "JsonTreeReader",
    {
        "schema_access_strategy": "schema-text-property",
        "schema_text": "id: int64, name: string",
    },
)
OUT = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})


def avro_bytes(rows: int) -> bytes:
    buf = io.BytesIO()
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "long"}, {"name": "s", "type": "string"}],
    }
    fastavro.writer(
        buf, schema, [{"id": i, "s": "x" * 50} for i in range(rows)], sync_interval=1000
    )
    return buf.getvalue()


CASES: list[tuple[str, Any, bytes, str]] = [
    (
        "csv wrong column count",
        CSV,
        b"id,name\n1,a\n2,b\n3,c,extra\n4,d\n",
        r"line 4: expected 2 columns, got 3",
    ),
    (
        "csv too few columns",
        CSV,
        b"id,name\n1,a\n2\n",
        r"line 3: expected 2 columns, got 1",
    ),
    (
        "csv bad quoting",
        CSV,
        b'id,name\n1,"open\n2,b\n',
        r"line 2 \(record 1\): unterminated quote in field 'name'",
    ),
    (
        "csv undecodable bytes",
        CSV,
        b"id,name\n1,ok\n2,caf\xe9\n",
        r"line 3 \(record 2\): field 'name' has bytes that are not valid utf-8",
    ),
    (
        "csv value does not fit declared type",
        DECLARED_CSV,
        b"id,name\n1,a\n2,b\nthree,c\n",
        r"line 4 \(record 3\): field 'id' value 'three' does not fit int64",
    ),
    (
        "csv late bad value in a later block",
        (
            "CSVReader",
            {
                "schema_access_strategy": "schema-text-property",
                "schema_text": "id: int64, name: string",
                "block_size": "64 B",
            },
        ),
        b"id,name\n" + b"".join(b"%d,n\n" % i for i in range(100)) + b"x,n\n",
        r"line 102 \(record 101\)",
    ),
    (
        "csv value not fitting the type inferred from the first block",
        ("CSVReader", {"block_size": "64 B"}),
        b"id,name\n" + b"".join(b"%d,n\n" % i for i in range(100)) + b"x,n\n",
        r"line 102 \(record 101\): field 'id' value 'x' does not fit int64 \(the type inferred",
    ),
    (
        "json invalid line",
        JSON,
        b'{"id": 1}\n{"id": 2\n{"id": 3}\n',
        r"invalid JSON at line 2 \(record 2\)",
    ),
    ("json not an object", JSON, b'{"id": 1}\n[1, 2]\n', r"line 2: not a JSON object"),
    (
        "json array truncated",
        JSON,
        b'[{"id": 1},\n {"id": 2',
        r"invalid JSON at line 2 \(record 2\)",
    ),
    (
        "json array bad element",
        JSON,
        b'[{"id": 1},\n {"id": tru}]',
        r"invalid JSON at line 2 \(record 2\)",
    ),
    (
        "json undecodable",
        JSON,
        b'{"id": 1}\n{"id": "\xff"}\n',
        r"line 2: JSON is not valid UTF-8",
    ),
    (
        "json value does not fit declared type",
        DECLARED_JSON,
        b'{"id": 1, "name": "a"}\n{"id": "two", "name": "b"}\n',
        r"line 2 \(record 2\): does not fit the schema",
    ),
    (
        "json array element does not fit declared type",
        DECLARED_JSON,
        b'[{"id": 1, "name": "a"},\n {"id": 2, "name": "b"},\n {"id": "x", "name": "c"}]',
        r"line 3 \(record 3\): does not fit the schema",
    ),
    (
        "json misfit deep in a later block",
        ("JsonTreeReader", {**DECLARED_JSON[1], "block_size": "1 KB"}),
        b"".join(b'{"id": %d, "name": "n"}\n' % i for i in range(1, 1500))
        + b'{"id": 1.5, "name": "n"}\n{"id": 9, "name": "n"}\n',
        r"line 1500 \(record 1500\): does not fit the schema",
    ),
    (
        "truncated parquet",
        ("ParquetReader", {}),
        parquet_bytes(pa.table({"a": list(range(1000))}))[:-100],
        r"not a readable Parquet file",
    ),
    (
        "not parquet at all",
        ("ParquetReader", {}),
        b"id,name\n1,a\n",
        r"not a readable Parquet file",
    ),
    (
        "truncated avro",
        ("AvroReader", {}),
        avro_bytes(500)[:-300],
        r"Avro data is unreadable after record \d+",
    ),
    ("not avro", ("AvroReader", {}), b"hello", r"not a readable Avro file"),
]


@pytest.mark.parametrize(
    ("reader", "data", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_fails_that_flowfile_only(
    runner: Callable[..., TestRunner], reader: Any, data: bytes, pattern: str
) -> None:
    """The bad FlowFile goes to failure (original content kept); good ones around it succeed."""
    good = b"id,name\n7,g\n" if reader[0] == "CSVReader" else None
    r = runner("ConvertRecord", reader, OUT)
    if good is not None:
        r.enqueue(good, {"filename": "before"})
    r.enqueue(data, {"filename": "bad"})
    if good is not None:
        r.enqueue(good, {"filename": "after"})
    r.run()
    failed = r.flowfiles_for("failure")
    assert len(failed) == 1
    msg = failed[0].attributes["record.error.message"]
    assert __import__("re").search(pattern, msg), msg
    assert failed[0].content == data
    assert failed[0]["filename"] == "bad"
    if good is not None:
        assert [f["filename"] for f in r.flowfiles_for("success")] == [
            "before",
            "after",
        ]
    assert not r.bulletins or all(b.level != "error" for b in r.bulletins)


def test_writer_rejects_records_not_fitting_its_schema(
    runner: Callable[..., TestRunner],
) -> None:
    """A writer's declared schema that the data does not fit fails the FlowFile, naming the record."""
    writer = (
        "CSVRecordSetWriter",
        {"schema_access_strategy": "schema-text-property", "schema_text": "id: int8"},
    )
    r = runner("ConvertRecord", CSV, writer)
    r.enqueue(b"id\n1\n2\n300\n")
    r.run()
    r.assert_all_transferred("failure", 1)
    assert (
        "record 3: field 'id' value 300"
        in r.flowfiles_for("failure")[0]["record.error.message"]
    )


def test_invalid_schema_text_fails_the_flowfile(
    runner: Callable[..., TestRunner],
) -> None:
    """A schema from an attribute that does not parse fails that FlowFile with the syntax error."""
    r = runner(
        "ConvertRecord",
        ("CSVReader", {"schema_access_strategy": "schema-text-property"}),
        OUT,
    )
    r.enqueue(b"a\n1\n", {"avro.schema": "a: integer"})
    r.run()
    r.assert_all_transferred("failure", 1)
    assert (
        "unknown type 'integer'"
        in r.flowfiles_for("failure")[0]["record.error.message"]
    )


class _CountingReader(io.BytesIO):
    """Counts the bytes read from it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def test_bad_element_early_in_a_large_json_array_is_found_without_reading_on() -> None:
    """A syntax error near the start of a 30 MB array is reported from the first
    blocks: the reader does not pull the rest of the input into memory to be sure."""
    from flowengine.controller_services.records import RecordError
    from flowengine.controller_services.records.json_format import _ArrayAsLines

    body = b",\n".join(
        b'{"id": %d, "pad": "%s"}' % (i, b"p" * 80) for i in range(300_000)
    )
    src = _CountingReader(b'[{"id": 0},\n {"id": tru},\n' + body + b"]")
    lines = _ArrayAsLines(src)
    with pytest.raises(RecordError, match=r"invalid JSON at line 2 \(record 2\)"):
        lines.readall()
    assert src.read_bytes < 4 * 1024**2
