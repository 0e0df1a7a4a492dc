"""Record processors in whole flows: built in Python, and the example YAML flow."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

import flowengine

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def test_python_flow_csv_to_partitioned_json_with_a_bad_file() -> None:
    """input → ConvertRecord → QueryRecord → PartitionRecord → output; a bad file fails alone."""
    f = flowengine.Flow("records-e2e")
    f.add_service("csv", "CSVReader", {})
    f.add_service("parquet_in", "ParquetReader", {})
    f.add_service("parquet", "ParquetRecordSetWriter", {})
    f.add_service("json", "JsonRecordSetWriter", {"output_grouping": "output-oneline"})
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_output_port("errors")
    f.add_processor(
        "convert", "ConvertRecord", {"record_reader": "csv", "record_writer": "parquet"}
    )
    f.add_processor(
        "query",
        "QueryRecord",
        {
            "record_reader": "parquet_in",
            "record_writer": "parquet",
            "paid": "SELECT id, region, amount FROM FLOWFILE WHERE amount > 0",
        },
        auto_terminate=["original"],
    )
    f.add_processor(
        "partition",
        "PartitionRecord",
        {"record_reader": "parquet_in", "record_writer": "json", "region": "/region"},
        auto_terminate=["original"],
    )
    f.connect("in", "convert")
    f.connect("convert", "query", ["success"])
    f.connect("query", "partition", ["paid"])
    f.connect("partition", "out", ["success"])
    for name in ("convert", "query", "partition"):
        f.connect(name, "errors", ["failure"])
    good = b"id,region,amount\n1,eu,10\n2,us,0\n3,eu,5\n4,us,7\n"
    bad = b"id,region,amount\n1,eu,10\n2,us\n"
    with f.run(
        until_drained=True,
        timeout=60,
        inputs={
            "in": [(good, {"filename": "good.csv"}), (bad, {"filename": "bad.csv"})]
        },
    ) as r:
        assert r.drained
        parts = {ff.attributes["region"]: r.read(ff) for ff in r.outputs["out"]}
        assert {
            k: [json.loads(x)["id"] for x in v.decode().splitlines()]
            for k, v in parts.items()
        } == {"eu": [1, 3], "us": [4]}
        errors = r.outputs["errors"]
        assert [e.attributes["filename"] for e in errors] == ["bad.csv"]
        assert (
            "line 3: expected 3 columns, got 2"
            in errors[0].attributes["record.error.message"]
        )
        assert r.status.processor("convert").flowfiles_in == 2


def test_example_flow_csv_to_parquet(tmp_path: Path) -> None:
    """flows/csv_to_parquet.yaml turns CSV drops into Hive-style partitioned Parquet files."""
    inbox, lake = tmp_path / "inbox", tmp_path / "lake"
    inbox.mkdir()
    (inbox / "orders.csv").write_text(
        "id,region,amount\n1,eu,10.5\n2,us,3\n3,eu,7\n4,,1\n"
    )
    (inbox / "broken.csv").write_text("id,region,amount\n1,eu\n")
    (inbox / "notes.txt").write_text("ignored")
    flow = flowengine.load(
        FLOWS / "csv_to_parquet.yaml",
        parameters={"in_dir": str(inbox), "out_dir": str(lake)},
    )
    with flow.run(until_drained=True, timeout=60) as result:
        assert result.drained and not result.timed_out
        assert result.status.processor("convert").flowfiles_in == 2
    files = sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*.parquet"))
    assert files == [
        "region=__HIVE_DEFAULT_PARTITION__/orders-2.parquet",
        "region=eu/orders-0.parquet",
        "region=us/orders-1.parquet",
    ]
    eu = pq.read_table(lake / "region=eu" / "orders-0.parquet")
    assert eu.column("id").to_pylist() == [1, 3]
    assert eu.column("amount").to_pylist() == [10.5, 7.0]


def test_example_flow_from_the_cli_logs_a_bad_file(tmp_path: Path) -> None:
    """`flowengine run` converts the good CSV; a malformed one is logged, not a crash (exit 0)."""
    import subprocess
    import sys

    inbox, lake = tmp_path / "inbox", tmp_path / "lake"
    inbox.mkdir()
    (inbox / "a.csv").write_text("id,region\n1,eu\n2,us\n")
    (inbox / "bad.csv").write_text("id,region\n1\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowengine",
            "run",
            str(FLOWS / "csv_to_parquet.yaml"),
            "--until-drained",
            "--in-memory",
            "--timeout",
            "60",
            "--param",
            f"in_dir={inbox}",
            "--param",
            f"out_dir={lake}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.parent.name for p in lake.rglob("*.parquet")) == [
        "region=eu",
        "region=us",
    ]
    assert "line 2: expected 2 columns, got 1" in proc.stderr


def test_errors_are_located_with_durable_content(tmp_path: Path) -> None:
    """With file-backed content (durable repositories) the error path re-reads the content
    stream and still names the line; good files pass."""
    f = flowengine.Flow("records-durable")
    f.add_service(
        "csv",
        "CSVReader",
        {
            "schema_access_strategy": "schema-text-property",
            "schema_text": "id: int64, v: string",
            "block_size": "4 KB",
        },
    )
    f.add_service("json", "JsonRecordSetWriter", {"output_grouping": "output-oneline"})
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_output_port("errors")
    f.add_processor(
        "convert", "ConvertRecord", {"record_reader": "csv", "record_writer": "json"}
    )
    f.connect("in", "convert")
    f.connect("convert", "out", ["success"])
    f.connect("convert", "errors", ["failure"])
    body = b"id,v\n" + b"".join(b"%d,value\n" % i for i in range(1, 5000))
    inputs = [
        (body, {"filename": "ok.csv"}),
        (body + b"x,bad\n", {"filename": "typed.csv"}),
        (body + b"1,2,3\n", {"filename": "columns.csv"}),
    ]
    with f.run(
        until_drained=True,
        timeout=60,
        inputs={"in": inputs},
        durable=True,
        state_dir=str(tmp_path / "s"),
    ) as r:
        assert [ff.attributes["filename"] for ff in r.outputs["out"]] == ["ok.csv"]
        errors = {
            ff.attributes["filename"]: ff.attributes["record.error.message"]
            for ff in r.outputs["errors"]
        }
        assert errors["typed.csv"].startswith(
            "line 5001 (record 5000): field 'id' value 'x'"
        )
        assert errors["columns.csv"].startswith(
            "malformed CSV line 5001: expected 2 columns, got 3"
        )


def test_concurrent_tasks_share_services_safely() -> None:
    """Two concurrent tasks of ConvertRecord and QueryRecord (DuckDB) over shared services."""
    f = flowengine.Flow("records-concurrent")
    f.add_service("csv", "CSVReader", {})
    f.add_service("json", "JsonRecordSetWriter", {"output_grouping": "output-oneline"})
    f.add_service("parquet", "ParquetRecordSetWriter", {})
    f.add_service("parquet_in", "ParquetReader", {})
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_processor(
        "convert",
        "ConvertRecord",
        {"record_reader": "csv", "record_writer": "parquet"},
        schedule={"concurrent_tasks": 2, "batch_size": 1},
        auto_terminate=["failure"],
    )
    f.add_processor(
        "query",
        "QueryRecord",
        {
            "record_reader": "parquet_in",
            "record_writer": "json",
            "even": "SELECT n FROM FLOWFILE WHERE n % 2 = 0",
        },
        schedule={"concurrent_tasks": 2, "batch_size": 1},
        auto_terminate=["original", "failure"],
    )
    f.connect("in", "convert")
    f.connect("convert", "query", ["success"])
    f.connect("query", "out", ["even"])
    inputs = [
        (b"n\n" + b"".join(b"%d\n" % (i * 100 + j) for j in range(100)), {"i": str(i)})
        for i in range(24)
    ]
    with f.run(until_drained=True, timeout=120, inputs={"in": inputs}) as r:
        assert r.ok and len(r.outputs["out"]) == 24
        for ff in r.outputs["out"]:
            i = int(ff.attributes["i"])
            assert r.read(ff).decode().splitlines()[0] == f'{{"n":{i * 100}}}'
            assert ff.attributes["record.count"] == "50"
