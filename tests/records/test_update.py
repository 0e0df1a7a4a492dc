"""UpdateRecord: literal, Expression Language and record-path values."""

from __future__ import annotations

import json
from collections.abc import Callable

from flowengine.testing import TestRunner

JSON = ("JsonTreeReader", {})
JSONL = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})
DATA = b'{"id": 1, "name": "ann", "c": {"city": "Oslo"}, "n": 5}\n{"id": 2, "name": null, "c": null, "n": 7}\n'


def rows(content: bytes) -> list[dict[str, object]]:
    return [json.loads(x) for x in content.decode().splitlines()]


def test_literal_and_attribute_values(runner: Callable[..., TestRunner]) -> None:
    """Literal values (with EL on attributes) set existing, nested and new fields, typed like the field."""
    r = runner(
        "UpdateRecord",
        JSON,
        JSONL,
        **{"/source": "${filename}", "/c/city": "Bergen", "/n": "42"},
    )
    r.enqueue(DATA, {"filename": "f.json"})
    r.run()
    out = r.flowfiles_for("success")[0]
    assert rows(out.content) == [
        {"id": 1, "name": "ann", "c": {"city": "Bergen"}, "n": 42, "source": "f.json"},
        {"id": 2, "name": None, "c": None, "n": 42, "source": "f.json"},
    ]
    out.assert_attribute_equals("record.count", "2")


def test_per_record_field_value(runner: Callable[..., TestRunner]) -> None:
    """field.value and record.index make the expression per record, as in NiFi."""
    r = runner(
        "UpdateRecord",
        JSON,
        JSONL,
        **{"/name": "${field.value:toUpper()}-${record.index}"},
    )
    r.enqueue(DATA)
    r.run()
    assert [x["name"] for x in rows(r.flowfiles_for("success")[0].content)] == [
        "ANN-0",
        "-1",
    ]


def test_record_path_values(runner: Callable[..., TestRunner]) -> None:
    """With Record Path Value the value is copied from another field."""
    r = runner(
        "UpdateRecord",
        JSON,
        JSONL,
        replacement_value_strategy="Record Path Value",
        **{"/city": "/c/city", "/n": "/id"},
    )
    r.enqueue(DATA)
    r.run()
    out = rows(r.flowfiles_for("success")[0].content)
    assert [(x["city"], x["n"]) for x in out] == [("Oslo", 1), (None, 2)]


def test_value_not_fitting_the_field_fails(runner: Callable[..., TestRunner]) -> None:
    """A value that cannot become the field's type sends the FlowFile to failure with the reason."""
    r = runner("UpdateRecord", JSON, JSONL, **{"/n": "not-a-number"})
    r.enqueue(DATA)
    r.run()
    r.assert_all_transferred("failure", 1)
    assert "/n" in r.flowfiles_for("failure")[0]["record.error.message"]


def test_configuration_checks(runner: Callable[..., TestRunner]) -> None:
    """No update, or a path that cannot be set, makes the processor invalid."""
    assert any(
        "at least one" in p for p in runner("UpdateRecord", JSON, JSONL).validate()
    )
    assert any(
        "only /field/field" in p
        for p in runner("UpdateRecord", JSON, JSONL, **{"/a[0]": "x"}).validate()
    )
