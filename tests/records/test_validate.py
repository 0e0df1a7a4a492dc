"""ValidateRecord: good and bad records of one FlowFile are split apart, with reasons."""

from __future__ import annotations

import json
from collections.abc import Callable

import pyarrow as pa
from flowengine.processors.records.validate import bad_indices

from flowengine.testing import TestRunner

from .conftest import read_parquet

CSV = ("CSVReader", {})
JSONL = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})
SCHEMA = "id: int64 not null, name: string, age: int32"


def test_splits_valid_and_invalid_records_of_one_file(
    runner: Callable[..., TestRunner],
) -> None:
    """Type errors and nulls in required fields are invalid, the rest is valid; a row
    the reader cannot read goes to failure as it was written."""
    r = runner(
        "ValidateRecord",
        CSV,
        ("ParquetRecordSetWriter", {}),
        schema_access_strategy="schema-text-property",
        schema_text=SCHEMA,
        record_writer_for_invalid_records="invalid_out",
    )
    r.add_service("invalid_out", "CSVRecordSetWriter", {})
    data = b"id,name,age\n1,ann,30\n2,bob,old\n,carl,40\n4,dee,50\n5,eve\n6,fay,60\n"
    r.enqueue(data, {"filename": "people.csv"})
    r.run()
    assert r.transfer_counts() == {"valid": 1, "invalid": 1, "failure": 1}
    valid = r.flowfiles_for("valid")[0]
    table = read_parquet(valid.content)
    assert table.column("id").to_pylist() == [1, 4, 6]
    assert table.schema.field("age").type == pa.int32()
    valid.assert_attribute_equals("record.count", "3")
    invalid = r.flowfiles_for("invalid")[0]
    assert invalid.text.splitlines()[1:] == [
        '2,"bob","old"',
        ',"carl","40"',
    ]  # as read: age is text
    details = invalid["validation.details"]
    assert "record 2: field 'age' value 'old' is not a valid int32" in details
    assert "record 3: field 'id' is null but required" in details
    assert "malformed line 6: expected 3 columns, got 2" in details
    unreadable = r.flowfiles_for("failure")[0]
    assert unreadable.content == b"5,eve\n"
    assert unreadable["record.error.message"] == (
        "1 row(s) could not be read: line 6: expected 3 columns, got 2: '5,eve'"
    )
    events = sorted(e.event_type.value for e in r.provenance_events())
    assert events == ["DROP", "FORK"]


def test_all_valid_goes_to_valid_only(runner: Callable[..., TestRunner]) -> None:
    """With the reader's schema every readable record is valid."""
    r = runner("ValidateRecord", CSV, JSONL)
    r.enqueue(b"a,b\n1,x\n")
    r.run()
    r.assert_all_transferred("valid", 1)


def test_extra_fields_and_strictness(runner: Callable[..., TestRunner]) -> None:
    """Without Allow Extra Fields, extra values are invalid; without strictness lossy casts pass."""
    r = runner(
        "ValidateRecord",
        ("JsonTreeReader", {}),
        JSONL,
        schema_access_strategy="schema-text-property",
        schema_text="id: int64",
        allow_extra_fields="false",
    )
    r.enqueue(b'{"id": 1}\n{"id": 2, "x": 1}\n')
    r.run()
    assert json.loads(r.flowfiles_for("valid")[0].content) == {"id": 1}
    assert (
        "field 'x' is not in the schema"
        in r.flowfiles_for("invalid")[0]["validation.details"]
    )
    for strict, counts in (("true", {"invalid": 1}), ("false", {"valid": 1})):
        r = runner(
            "ValidateRecord",
            ("JsonTreeReader", {}),
            JSONL,
            schema_access_strategy="schema-text-property",
            schema_text="id: int64",
            strict_type_checking=strict,
        )
        r.enqueue(b'{"id": 1.5}\n')
        r.run()
        assert r.transfer_counts() == counts, strict


def test_unreadable_input_fails(runner: Callable[..., TestRunner]) -> None:
    """Input the reader cannot parse at all goes to failure."""
    r = runner("ValidateRecord", ("ParquetReader", {}), JSONL)
    r.enqueue(b"PAR1 truncated")
    r.run()
    r.assert_all_transferred("failure", 1)


def test_bad_indices_finds_every_bad_value() -> None:
    """The halving search finds exactly the values that do not convert."""
    values = pa.array(["1", "x", "3", None, "y", "6", "7", "zz"])
    assert bad_indices(values, pa.int64()) == [1, 4, 7]


def test_json_lines_bad_lines_are_invalid_not_failure(
    runner: Callable[..., TestRunner],
) -> None:
    """With JSON lines, unparsable lines become invalid (with their line) and the rest stays valid."""
    r = runner(
        "ValidateRecord",
        ("JsonTreeReader", {}),
        JSONL,
        schema_access_strategy="schema-text-property",
        schema_text="id: int64",
    )
    r.enqueue(b'{"id": 1}\n{"id": \n{"id": 3}\n[4]\n{"id": "x"}\n{"id": 6}\n')
    r.run()
    assert [
        json.loads(x)["id"]
        for x in r.flowfiles_for("valid")[0].content.decode().splitlines()
    ] == [1, 3, 6]
    details = r.flowfiles_for("invalid")[0]["validation.details"]
    assert (
        "line 2: invalid JSON" in details
        and "line 4: invalid JSON: not a JSON object" in details
    )
    assert "field 'id' value 'x' is not a valid int64" in details


def test_json_lines_not_fitting_the_reader_schema_go_to_failure_as_text(
    runner: Callable[..., TestRunner],
) -> None:
    """A line that parses but does not fit the reader's declared schema cannot be read
    as a record: its text goes to failure, named by line; the other lines are valid."""
    reader = (
        "JsonTreeReader",
        {"schema_access_strategy": "schema-text-property", "schema_text": "id: int64"},
    )
    r = runner("ValidateRecord", reader, JSONL)
    r.enqueue(b'{"id": 1}\n{"id": "x"}\n{"id": 3}\n')
    r.run()
    assert [
        json.loads(x)["id"]
        for x in r.flowfiles_for("valid")[0].content.decode().splitlines()
    ] == [1, 3]
    assert r.transfer_counts() == {"valid": 1, "failure": 1}
    unreadable = r.flowfiles_for("failure")[0]
    assert unreadable.content == b'{"id": "x"}\n'
    assert "line 2: does not fit the schema" in unreadable["record.error.message"]


def test_zero_records_are_valid(runner: Callable[..., TestRunner]) -> None:
    """A FlowFile without records is not lost: it goes to valid with record.count 0."""
    r = runner("ValidateRecord", CSV, JSONL)
    r.enqueue(b"")
    r.run()
    r.assert_all_transferred("valid", 1)
    r.flowfiles_for("valid")[0].assert_attribute_equals("record.count", "0")


def test_broken_json_array_elements_are_invalid_not_failure(
    runner: Callable[..., TestRunner],
) -> None:
    """In a JSON array, elements that are not valid JSON (or not objects, or do not fit)
    are invalid, each named by its line; the elements around them stay valid, also
    after an element whose brackets never close on its line."""
    r = runner(
        "ValidateRecord",
        ("JsonTreeReader", {}),
        JSONL,
        schema_access_strategy="schema-text-property",
        schema_text="id: int64",
    )
    r.enqueue(
        b'[{"id": 1},\n'
        b' {"id": },\n'
        b' {"id": 3, "tags": ["a", "b"]},\n'
        b' {"id": "x"},\n'
        b" 7,\n"
        b' {"id": [1, {"deep": "va,l]ue"}], "oops"},\n'
        b' {"id": 8}\n'
        b"]\n"
    )
    r.run()
    assert r.transfer_counts() == {"valid": 1, "invalid": 1, "failure": 1}
    valid = r.flowfiles_for("valid")[0]
    assert [json.loads(x)["id"] for x in valid.content.decode().splitlines()] == [
        1,
        3,
        8,
    ]
    assert r.flowfiles_for("failure")[0].content == (
        b'{"id": }\n7\n{"id": [1, {"deep": "va,l]ue"}], "oops"}\n'
    )
    details = r.flowfiles_for("invalid")[0]["validation.details"]
    assert "line 2: invalid JSON: Expecting value" in details
    assert "field 'id' value 'x' is not a valid int64" in details
    assert "line 5: invalid JSON: not a JSON object" in details
    assert "line 6: invalid JSON: Expecting ':' delimiter" in details


def test_truncated_json_array_keeps_the_complete_elements(
    runner: Callable[..., TestRunner],
) -> None:
    """A JSON array cut off mid-element: the complete elements are valid, the cut one
    is invalid (the input ends inside it)."""
    r = runner("ValidateRecord", ("JsonTreeReader", {}), JSONL)
    r.enqueue(b'[{"id": 1}, {"id": 2}, {"id": 3, "na')
    r.run()
    valid = r.flowfiles_for("valid")[0]
    assert [json.loads(x)["id"] for x in valid.content.decode().splitlines()] == [1, 2]
    unreadable = r.flowfiles_for("failure")[0]
    assert unreadable.content == b'{"id": 3, "na\n'
    assert (
        "line 1: invalid JSON: Unterminated string"
        in unreadable["record.error.message"]
    )
