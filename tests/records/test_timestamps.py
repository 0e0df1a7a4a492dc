"""Inferred types round-trip the text they did not change (issue 23, item 8)."""

from __future__ import annotations

from flowengine.testing import TestRunner


def convert(data: bytes, reader: dict[str, str] | None = None) -> TestRunner:
    r = TestRunner("ConvertRecord")
    r.add_service("reader", "JsonTreeReader", reader or {})
    r.add_service(
        "writer", "JsonRecordSetWriter", {"output_grouping": "output-oneline"}
    )
    r.set_property("record_reader", "reader")
    r.set_property("record_writer", "writer")
    r.enqueue(data)
    r.run()
    return r


DATA = (
    b'{"ts": "2024-01-01T00:00:00Z", "d": "2024-01-01", "n": {"t": "2024-01-01 10:00:00"},'
    b' "l": ["2024-01-01T00:00:00+02:00"], "x": 1}'
)
EXPECTED = (
    b'{"ts":"2024-01-01T00:00:00Z","d":"2024-01-01","n":{"t":"2024-01-01 10:00:00"},'
    b'"l":["2024-01-01T00:00:00+02:00"],"x":1}\n'
)


def test_inferred_timestamp_like_strings_stay_the_same_strings() -> None:
    """NiFi's inference makes a string a timestamp only with a Timestamp Format
    configured; without one the text is passed through unchanged, at any depth."""
    for data in (DATA + b"\n", b"[" + DATA + b"]"):
        (f,) = convert(data).flowfiles_for("success")
        assert f.content == EXPECTED


def test_lenient_reading_keeps_timestamp_like_strings() -> None:
    r = TestRunner("ValidateRecord")
    r.add_service("reader", "JsonTreeReader", {})
    r.add_service(
        "writer", "JsonRecordSetWriter", {"output_grouping": "output-oneline"}
    )
    r.set_property("record_reader", "reader")
    r.set_property("record_writer", "writer")
    r.enqueue(b"{bad\n" + DATA + b"\n")
    r.run()
    (f,) = r.flowfiles_for("valid")
    assert f.content == EXPECTED


def test_a_declared_timestamp_is_written_as_iso_8601_with_its_offset() -> None:
    r = convert(
        b'{"ts": "2024-01-01T02:00:00+02:00"}\n{"ts": "2024-06-01T00:00:00.5Z"}\n',
        {
            "schema_access_strategy": "schema-text-property",
            "schema_text": "ts: timestamp(ms, UTC)",
        },
    )
    (f,) = r.flowfiles_for("success")
    assert f.content == (
        b'{"ts":"2024-01-01T00:00:00.000Z"}\n{"ts":"2024-06-01T00:00:00.500Z"}\n'
    )
