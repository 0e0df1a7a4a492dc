"""ConvertRecord: attributes, zero-record FlowFiles, provenance, streaming, row groups."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import flowengine
from flowengine.testing import TestRunner

CSV = ("CSVReader", {})
PARQUET = ("ParquetRecordSetWriter", {})


def test_attributes_and_content_modified_provenance(
    runner: Callable[..., TestRunner],
) -> None:
    """success gets record.count and mime.type; provenance records CONTENT_MODIFIED."""
    r = runner("ConvertRecord", CSV, PARQUET)
    r.enqueue(b"a,b\n1,x\n2,y\n3,z\n", {"filename": "f.csv"})
    r.run()
    out = r.flowfiles_for("success")[0]
    out.assert_attribute_equals("record.count", "3")
    out.assert_attribute_equals("mime.type", "application/parquet")
    out.assert_attribute_equals("filename", "f.csv")
    assert [e.event_type.value for e in r.provenance_events()] == ["CONTENT_MODIFIED"]


def test_zero_record_flowfiles_included_or_dropped(
    runner: Callable[..., TestRunner],
) -> None:
    """A header-only CSV converts to zero records; Include Zero Record FlowFiles decides its fate."""
    r = runner("ConvertRecord", CSV, ("CSVRecordSetWriter", {}))
    r.enqueue(b"a,b\n")
    r.run()
    r.flowfiles_for("success")[0].assert_attribute_equals("record.count", "0")
    assert r.flowfiles_for("success")[0].content == b'"a","b"\n'
    r = runner(
        "ConvertRecord",
        CSV,
        ("CSVRecordSetWriter", {}),
        include_zero_record_flowfiles="false",
    )
    r.enqueue(b"a,b\n")
    r.run()
    assert r.transfer_counts() == {}
    assert [e.event_type.value for e in r.provenance_events()] == ["DROP"]


def test_many_small_batches_become_few_row_groups(
    runner: Callable[..., TestRunner],
) -> None:
    """Reader batches (64 KB blocks here) are accumulated into row groups of Row Group Size records."""
    data = b"id,v\n" + b"".join(b"%d,value-%d\n" % (i, i) for i in range(50_000))
    r = runner(
        "ConvertRecord",
        ("CSVReader", {"block_size": "64 KB"}),
        ("ParquetRecordSetWriter", {"row_group_size": "20000"}),
    )
    r.enqueue(data)
    r.run()
    meta = pq.ParquetFile(io.BytesIO(r.flowfiles_for("success")[0].content)).metadata
    assert meta.num_rows == 50_000
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [
        20_000,
        20_000,
        10_000,
    ]


def test_row_group_size_as_data_size(runner: Callable[..., TestRunner]) -> None:
    """A data-size Row Group Size cuts row groups by Arrow bytes."""
    data = b"id,v\n" + b"".join(b"%d,value-%d\n" % (i, i) for i in range(50_000))
    r = runner(
        "ConvertRecord",
        ("CSVReader", {"block_size": "64 KB"}),
        ("ParquetRecordSetWriter", {"row_group_size": "256 KB"}),
    )
    r.enqueue(data)
    r.run()
    meta = pq.ParquetFile(io.BytesIO(r.flowfiles_for("success")[0].content)).metadata
    assert 2 < meta.num_row_groups < 20


def test_compression_codec_is_applied(runner: Callable[..., TestRunner]) -> None:
    """Compression Type reaches the Parquet column chunks."""
    r = runner(
        "ConvertRecord", CSV, ("ParquetRecordSetWriter", {"compression_type": "ZSTD"})
    )
    r.enqueue(b"a\n1\n")
    r.run()
    meta = pq.ParquetFile(io.BytesIO(r.flowfiles_for("success")[0].content)).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_invalid_configuration_is_rejected() -> None:
    """A missing reader, or a reader service used as the writer, makes the processor invalid."""
    r = TestRunner("ConvertRecord")
    r.add_service("csv", "CSVReader", {})
    r.set_property("record_reader", "csv")
    r.assert_not_valid()
    r.set_property("record_writer", "csv")
    assert any("does not implement RecordSetWriterFactory" in p for p in r.validate())


@pytest.mark.parametrize(
    ("reader", "data"),
    [
        ("CSVReader", b""),
        ("CSVReader", b"\n\n"),
        ("JsonTreeReader", b""),
        ("JsonTreeReader", b" [ ] "),
    ],
)
def test_empty_content_is_zero_records(
    runner: Callable[..., TestRunner], reader: str, data: bytes
) -> None:
    """Empty content (or an empty JSON array) is a FlowFile of zero records, not a failure."""
    r = runner("ConvertRecord", (reader, {}), ("JsonRecordSetWriter", {}))
    r.enqueue(data)
    r.run()
    r.assert_all_transferred("success", 1)
    out = r.flowfiles_for("success")[0]
    out.assert_attribute_equals("record.count", "0")
    assert out.content == b"[]"


def test_row_groups_written_in_the_background_stay_in_order(
    runner: Callable[..., TestRunner],
) -> None:
    """Full row groups are encoded on a background thread while reading goes on; the
    file still holds every record once, in input order, in groups of the set size."""
    n = 60_000
    data = b"id,v\n" + b"".join(b"%d,value-%d\n" % (i, i) for i in range(n))
    r = runner(
        "ConvertRecord",
        ("CSVReader", {"block_size": "16 KB"}),
        ("ParquetRecordSetWriter", {"row_group_size": "2500"}),
    )
    r.enqueue(data)
    r.enqueue(data)
    r.run()
    for ff in r.flowfiles_for("success"):
        f = pq.ParquetFile(io.BytesIO(ff.content))
        assert f.metadata.num_row_groups == 24
        assert f.read().column("id").to_pylist() == list(range(n))
        assert ff.get("record.count") == str(n)


def test_bad_row_after_background_groups_goes_to_failure_and_leaks_nothing(
    tmp_path: Path,
) -> None:
    """A malformed row after several row groups went to the background encoder: the
    FlowFile goes to failure naming the line, the next FlowFile converts, and the
    durable content repository keeps no file of the abandoned output."""
    good = b"id,v\n" + b"".join(b"%d,v%d\n" % (i, i) for i in range(40_000))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a_bad.csv").write_bytes(good + b"1,2,3\n")
    (tmp_path / "in" / "b_good.csv").write_bytes(good)
    f = flowengine.Flow("bg")
    f.add_service("csv", "CSVReader", {"block_size": "16 KB"})
    f.add_service("pq", "ParquetRecordSetWriter", {"row_group_size": "2000"})
    f.add_processor("list", "ListFile", {"input_directory": str(tmp_path / "in")})
    f.add_processor(
        "fetch",
        "FetchFile",
        auto_terminate=["not.found", "permission.denied", "failure"],
    )
    f.add_processor(
        "convert", "ConvertRecord", {"record_reader": "csv", "record_writer": "pq"}
    )
    f.add_processor(
        "put_ok",
        "PutFile",
        {"directory": str(tmp_path / "ok")},
        auto_terminate=["success", "failure"],
    )
    f.add_processor(
        "put_failed",
        "PutFile",
        {
            "directory": str(tmp_path / "failed"),
            "conflict_resolution_strategy": "replace",
        },
        auto_terminate=["success", "failure"],
    )
    f.add_processor(
        "keep_error",
        "UpdateAttribute",
        {"filename": "${filename}-${record.error.message:urlEncode()}"},
    )
    f.connect("list", "fetch")
    f.connect("fetch", "convert")
    f.connect("convert", "put_ok", ["success"])
    f.connect("convert", "keep_error", ["failure"])
    f.connect("keep_error", "put_failed")
    with f.run(timeout=60, durable=True, state_dir=tmp_path / "state") as res:
        assert res.drained and res.ok
    assert [p.name for p in (tmp_path / "ok").iterdir()] == ["b_good.csv"]
    assert pq.read_table(tmp_path / "ok" / "b_good.csv").num_rows == 40_000
    (failed,) = (tmp_path / "failed").iterdir()
    assert failed.name.startswith("a_bad.csv-") and "40002" in failed.name
    assert failed.read_bytes() == good + b"1,2,3\n"  # the original content, untouched
    content = tmp_path / "state" / "content"
    assert [p for p in content.rglob("*") if p.is_file()] == []
