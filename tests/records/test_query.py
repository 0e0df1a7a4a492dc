"""QueryRecord: SQL over the FlowFile's records, one relationship per query."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest
from flowengine.controller_services.records import RecordError
from flowengine.processors.records.query import QueryRecord

from flowengine.testing import TestRunner

from .conftest import read_parquet

CSV = ("CSVReader", {})
JSONL = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})
DATA = b"id,region,amount\n1,eu,10\n2,us,2000\n3,eu,1500\n4,apac,5\n"


def lines(content: bytes) -> list[dict[str, object]]:
    return [json.loads(x) for x in content.decode().splitlines()]


def test_one_relationship_per_query() -> None:
    """Dynamic properties become relationships next to original and failure."""
    names = [r.name for r in QueryRecord.relationships_for({}, {"big": "x", "eu": "y"})]
    assert names == ["original", "failure", "big", "eu"]


def test_queries_route_results_and_keep_the_original(
    runner: Callable[..., TestRunner],
) -> None:
    """Each query's result goes to its relationship with record.count and QueryRecord.Route."""
    r = runner(
        "QueryRecord",
        CSV,
        JSONL,
        big="SELECT id, amount FROM FLOWFILE WHERE amount > 1000 ORDER BY id",
        per_region="SELECT region, SUM(amount) AS total FROM FLOWFILE GROUP BY region ORDER BY region",
    )
    r.enqueue(DATA, {"filename": "orders.csv"})
    r.run()
    assert r.transfer_counts() == {"big": 1, "per_region": 1, "original": 1}
    big = r.flowfiles_for("big")[0]
    assert lines(big.content) == [{"id": 2, "amount": 2000}, {"id": 3, "amount": 1500}]
    big.assert_attribute_equals("record.count", "2")
    big.assert_attribute_equals("QueryRecord.Route", "big")
    big.assert_attribute_equals("filename", "orders.csv")
    assert lines(r.flowfiles_for("per_region")[0].content) == [
        {"region": "apac", "total": 5},
        {"region": "eu", "total": 1510},
        {"region": "us", "total": 2000},
    ]
    assert r.flowfiles_for("original")[0].content == DATA
    kinds = sorted(e.event_type.value for e in r.provenance_events())
    assert "FORK" in kinds


def test_expression_language_in_sql(runner: Callable[..., TestRunner]) -> None:
    """The SQL may use FlowFile attributes through Expression Language."""
    r = runner(
        "QueryRecord",
        CSV,
        JSONL,
        pick="SELECT id FROM FLOWFILE WHERE region = '${want}'",
    )
    r.enqueue(DATA, {"want": "us"})
    r.run()
    assert lines(r.flowfiles_for("pick")[0].content) == [{"id": 2}]


def test_zero_records_and_include_zero(runner: Callable[..., TestRunner]) -> None:
    """An empty result is emitted by default and dropped when Include Zero Record FlowFiles is false."""
    r = runner(
        "QueryRecord", CSV, JSONL, none="SELECT * FROM FLOWFILE WHERE amount < 0"
    )
    r.enqueue(DATA)
    r.run()
    r.flowfiles_for("none")[0].assert_attribute_equals("record.count", "0")
    r = runner(
        "QueryRecord",
        CSV,
        JSONL,
        none="SELECT * FROM FLOWFILE WHERE amount < 0",
        include_zero_record_flowfiles="false",
    )
    r.enqueue(DATA)
    r.run()
    assert r.transfer_counts() == {"original": 1}


def test_bad_sql_and_bad_data_fail_the_original(
    runner: Callable[..., TestRunner],
) -> None:
    """A failing query or unreadable records send the original to failure and emit no result."""
    r = runner(
        "QueryRecord",
        CSV,
        JSONL,
        ok="SELECT * FROM FLOWFILE",
        bad="SELECT nope FROM FLOWFILE",
    )
    r.enqueue(DATA)
    r.run()
    r.assert_all_transferred("failure", 1)
    assert "query failed" in r.flowfiles_for("failure")[0]["record.error.message"]
    r = runner("QueryRecord", CSV, JSONL, ok="SELECT * FROM FLOWFILE")
    r.enqueue(b"a,b\n1,2\n3\n")
    r.enqueue(DATA)
    r.run()
    assert r.transfer_counts() == {"failure": 1, "ok": 1, "original": 1}
    assert (
        "line 3: expected 2 columns"
        in r.flowfiles_for("failure")[0]["record.error.message"]
    )


def test_types_and_time_zones_survive_a_query(
    runner: Callable[..., TestRunner],
) -> None:
    """Decimal and zoned timestamp columns keep their Arrow types through DuckDB."""
    reader = (
        "CSVReader",
        {
            "schema_access_strategy": "schema-text-property",
            "schema_text": "p: decimal(8, 2), t: timestamp(us, UTC)",
        },
    )
    r = runner(
        "QueryRecord",
        reader,
        ("ParquetRecordSetWriter", {}),
        q="SELECT * FROM FLOWFILE WHERE p > 1",
    )
    r.enqueue(b"p,t\n1.00,2024-01-01T00:00:00Z\n2.50,2024-01-02T00:00:00Z\n")
    r.run()
    table = read_parquet(r.flowfiles_for("q")[0].content)
    assert str(table.schema.field("t").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("p").type) == "decimal128(8, 2)"
    assert table.num_rows == 1


def test_needs_a_query() -> None:
    """Without a query the processor is invalid."""
    r = TestRunner("QueryRecord")
    r.add_service("csv", "CSVReader", {})
    r.add_service("out", "CSVRecordSetWriter", {})
    r.set_property("record_reader", "csv").set_property("record_writer", "out")
    assert any("at least one query" in p for p in r.validate())


def test_record_error_is_a_value_error() -> None:
    """RecordError is a ValueError, so generic handlers treat it as bad data."""
    assert issubclass(RecordError, ValueError)


def test_empty_content_gives_empty_results(runner: Callable[..., TestRunner]) -> None:
    """Empty content has no columns to query: each query yields zero records, no failure."""
    r = runner("QueryRecord", CSV, JSONL, q="SELECT * FROM FLOWFILE")
    r.enqueue(b"")
    r.run()
    assert r.transfer_counts() == {"q": 1, "original": 1}
    r.flowfiles_for("q")[0].assert_attribute_equals("record.count", "0")


def test_sql_threads_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB gets half the cores unless FLOWENGINE_SQL_THREADS says otherwise;
    nonsense values fall back to the default."""
    from flowengine.controller_services.records.duck import sql_threads

    default = max(1, (os.cpu_count() or 2) // 2)
    monkeypatch.delenv("FLOWENGINE_SQL_THREADS", raising=False)
    assert sql_threads() == default
    monkeypatch.setenv("FLOWENGINE_SQL_THREADS", "3")
    assert sql_threads() == 3
    for bad in ("0", "-2", "many", ""):
        monkeypatch.setenv("FLOWENGINE_SQL_THREADS", bad)
        assert sql_threads() == default
