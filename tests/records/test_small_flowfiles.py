"""One-record FlowFiles take the small paths (issue 23, item 11): the same records and
the same text as the streaming reader and DuckDB's writer."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pytest
from flowengine.controller_services.records import json_format as jf

from flowengine.testing import TestRunner

VALUES = [
    {"i": 1, "f": 1.5, "g": 1.0, "z": 0.0, "m": 0.30000000000000004, "big": 2**62},
    {"i": -3, "f": 0.0001, "g": 123456789.123, "z": -0.0, "m": None, "big": None},
    {"s": 'é/"\\\t\n\r\b\f\x7f 日本 \u2028', "b": True, "n": None},
]


@pytest.mark.parametrize("row", VALUES)
def test_small_batch_text_is_duckdbs_text(row: dict[str, object]) -> None:
    batch = pa.RecordBatch.from_pylist([row, row])
    small = jf._small_texts(batch)
    assert small is not None
    writer = jf._JsonWriter.__new__(jf._JsonWriter)
    writer._cursor = None
    duck = writer._duck_texts(batch).to_pylist()
    assert small == duck


@pytest.mark.parametrize(
    "value",
    [1e20, 1e-7, float("nan"), float("inf"), "\x01", {"a": 1}, [1]],
    ids=["exp-big", "exp-small", "nan", "inf", "control", "struct", "list"],
)
def test_values_written_differently_go_to_duckdb(value: object) -> None:
    assert jf._small_texts(pa.RecordBatch.from_pylist([{"v": value}])) is None


@pytest.mark.parametrize(
    "data",
    [
        b'{"id": 1, "o": {"a": [1, 2.5]}, "s": "x", "t": "2024-01-01T00:00:00Z", "n": null}\n',
        b'[{"id": 1, "s": "x"}, {"id": 2, "o": {"a": true}}]',
        b'{"id": 1}\n\n{"id": 2.5, "l": []}\n',
    ],
)
def test_small_content_reads_as_the_streaming_reader_reads_it(data: bytes) -> None:
    """The Python path for small content infers what pyarrow's streaming path does."""
    r = TestRunner("ConvertRecord")
    r.add_service("reader", "JsonTreeReader", {})
    r.add_service("writer", "JsonRecordSetWriter", {})
    r.set_property("record_reader", "reader")
    r.set_property("record_writer", "writer")
    r.run(0)
    reader = r.service("reader") if hasattr(r, "service") else None
    factory = reader if isinstance(reader, jf.JsonTreeReader) else _factory()
    small = factory.create_reader(io.BytesIO(data))
    assert small._reader is None  # (the small path)
    saved = jf._SMALL
    try:
        jf._SMALL = 0
        streamed = factory.create_reader(io.BytesIO(data))
    finally:
        jf._SMALL = saved
    assert streamed._reader is not None
    a = pa.Table.from_batches(list(small), small.schema)
    b = pa.Table.from_batches(list(streamed), streamed.schema)
    assert a.schema == b.schema
    assert a.to_pylist() == b.to_pylist()
    assert json.dumps(a.to_pylist()) == json.dumps(b.to_pylist())


def _factory() -> jf.JsonTreeReader:
    import gc

    return next(o for o in gc.get_objects() if isinstance(o, jf.JsonTreeReader))


def test_small_batches_group_as_acero_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """PartitionRecord's Python grouping of a few records gives Acero's groups, in
    order of first appearance, nulls as their own group."""
    from flowengine.controller_services.records.record_path import compile_path
    from flowengine.processors.records import partition

    batch = pa.RecordBatch.from_pylist(
        [
            {"k": "b", "n": 1, "i": 0},
            {"k": None, "n": 1, "i": 1},
            {"k": "a", "n": 2, "i": 2},
            {"k": "b", "n": 1, "i": 3},
            {"k": "a", "n": 2, "i": 4},
            {"k": None, "n": None, "i": 5},
        ]
    )
    paths = [compile_path("/k"), compile_path("/n")]
    small = partition.group_rows(batch, paths)
    monkeypatch.setattr(partition, "_SMALL_BATCH", 0)
    large = partition.group_rows(batch, paths)
    assert [(k, b.to_pylist()) for k, b in small] == [
        (k, b.to_pylist()) for k, b in large
    ]
    assert [k for k, _ in small] == [("b", "1"), (None, "1"), ("a", "2"), (None, None)]
    one = batch.slice(0, 1)
    assert partition.group_rows(one, paths) == [(("b", "1"), one)]
