"""LookupRecord with the key-value and CSV-file lookup services."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from flowengine.testing import TestRunner

JSON = ("JsonTreeReader", {})
JSONL = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})
DATA = b'{"id": 1, "cc": "NO"}\n{"id": 2, "cc": "XX"}\n{"id": 3, "cc": "FR"}\n'


def rows(content: bytes) -> list[dict[str, object]]:
    return [json.loads(x) for x in content.decode().splitlines()]


def test_key_value_lookup_to_success(runner: Callable[..., TestRunner]) -> None:
    """Each record gets the value for its key (null when absent) at Result RecordPath."""
    r = runner(
        "LookupRecord",
        JSON,
        JSONL,
        lookup_service="countries",
        key="/cc",
        result_recordpath="/country",
    )
    r.add_service(
        "countries", "SimpleKeyValueLookupService", {"NO": "Norway", "FR": "France"}
    )
    r.enqueue(DATA)
    r.run()
    out = rows(r.flowfiles_for("success")[0].content)
    assert [x["country"] for x in out] == ["Norway", None, "France"]


def test_csv_record_lookup_fields_and_matched_unmatched(
    runner: Callable[..., TestRunner], tmp_path: Path
) -> None:
    """A whole CSV row comes back as fields; records split into matched and unmatched."""
    csv = tmp_path / "countries.csv"
    csv.write_text("code,name,population\nNO,Norway,5\nFR,France,68\n")
    r = runner(
        "LookupRecord",
        JSON,
        JSONL,
        lookup_service="lk",
        key="/cc",
        result_recordpath="/",
        record_result_contents="Insert Record Fields",
        routing_strategy="Route to 'matched' or 'unmatched'",
    )
    r.add_service(
        "lk",
        "SimpleCsvFileLookupService",
        {"csv_file": str(csv), "lookup_key_column": "code"},
    )
    r.enqueue(DATA)
    r.run()
    matched = rows(r.flowfiles_for("matched")[0].content)
    assert matched == [
        {"id": 1, "cc": "NO", "name": "Norway", "population": 5},
        {"id": 3, "cc": "FR", "name": "France", "population": 68},
    ]
    assert [x["id"] for x in rows(r.flowfiles_for("unmatched")[0].content)] == [2]
    r.flowfiles_for("unmatched")[0].assert_attribute_equals("record.count", "1")


def test_entire_record_and_numeric_keys(
    runner: Callable[..., TestRunner], tmp_path: Path
) -> None:
    """An integer field finds a CSV key written as text; the whole row lands in one field."""
    csv = tmp_path / "ids.csv"
    csv.write_text("id,label\n1,one\n3,three\n")
    r = runner(
        "LookupRecord",
        JSON,
        JSONL,
        lookup_service="lk",
        key="/id",
        result_recordpath="/info",
    )
    r.add_service(
        "lk",
        "SimpleCsvFileLookupService",
        {"csv_file": str(csv), "lookup_key_column": "id"},
    )
    r.enqueue(DATA)
    r.run()
    assert [x["info"] for x in rows(r.flowfiles_for("success")[0].content)] == [
        {"label": "one"},
        None,
        {"label": "three"},
    ]


def test_needs_a_key() -> None:
    """Without a coordinate the processor is invalid."""
    r = TestRunner("LookupRecord")
    r.add_service("in", "JsonTreeReader", {})
    r.add_service("out", "JsonRecordSetWriter", {})
    r.add_service("lk", "SimpleKeyValueLookupService", {})
    for k, v in {
        "record_reader": "in",
        "record_writer": "out",
        "lookup_service": "lk",
    }.items():
        r.set_property(k, v)
    assert any("at least one lookup coordinate" in p for p in r.validate())


def test_csv_lookup_with_a_missing_column_does_not_enable(
    runner: Callable[..., TestRunner], tmp_path: Path
) -> None:
    """A key column the CSV lacks keeps the service from enabling, naming the columns."""
    import pytest

    csv = tmp_path / "c.csv"
    csv.write_text("code,name\nNO,Norway\n")
    r = runner(
        "LookupRecord",
        JSON,
        JSONL,
        lookup_service="lk",
        key="/cc",
        result_recordpath="/x",
    )
    r.add_service(
        "lk",
        "SimpleCsvFileLookupService",
        {"csv_file": str(csv), "lookup_key_column": "iso"},
    )
    r.enqueue(DATA)
    with pytest.raises(Exception, match="no column 'iso' \\(columns: code, name\\)"):
        r.run()
