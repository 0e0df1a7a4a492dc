"""GrokReader through ConvertRecord: fields, stack traces, no-match behaviours."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowengine.processors.records.convert import ConvertRecord

from flowengine.testing import TestRunner

LOG = """\
2024-01-02 03:04:05,123 INFO [main] starting up
2024-01-02 03:04:06,000 ERROR [worker-1] request failed
java.lang.IllegalStateException: boom
\tat com.example.Foo.bar(Foo.java:10)
\tat com.example.Main.main(Main.java:5)
Caused by: java.io.IOException: disk
\t... 2 more
continued message text
garbage before nothing
2024-01-02 03:04:07,000 WARN [main] done
"""
EXPR = "%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} \\[%{DATA:thread}\\] %{GREEDYDATA:message}"


def _records(content: str, **reader: str) -> tuple[TestRunner, list[dict[str, Any]]]:
    runner = TestRunner(ConvertRecord)
    runner.add_service("grok", "GrokReader", {"Grok Expressions": EXPR, **reader})
    runner.add_service("json", "JsonRecordSetWriter", {})
    runner.set_property("record_reader", "grok")
    runner.set_property("record_writer", "json")
    runner.enqueue(content.encode())
    runner.run()
    out = runner.flowfiles_for("success")
    return runner, (json.loads(out[0].content) if out else [])


def test_fields_stack_trace_and_append_to_previous() -> None:
    _, recs = _records(LOG)
    assert [r["level"] for r in recs] == ["INFO", "ERROR", "WARN"]
    assert list(recs[0]) == [
        "timestamp",
        "level",
        "thread",
        "message",
        "stackTrace",
        "_raw",
    ]
    err = recs[1]
    assert err["stackTrace"].splitlines() == [
        "java.lang.IllegalStateException: boom",
        "\tat com.example.Foo.bar(Foo.java:10)",
        "\tat com.example.Main.main(Main.java:5)",
        "Caused by: java.io.IOException: disk",
        "\t... 2 more",
    ]
    assert (
        err["message"]
        == "request failed\ncontinued message text\ngarbage before nothing"
    )
    assert err["_raw"].count("\n") == 7
    assert recs[0]["stackTrace"] is None and recs[0]["_raw"].endswith("starting up")


def test_skip_line_and_raw_line() -> None:
    _, recs = _records(LOG, **{"No Match Behavior": "Skip Line"})
    assert (
        len(recs) == 3
        and recs[1]["message"] == "request failed"
        and recs[1]["stackTrace"] is None
    )
    _, recs = _records(LOG, **{"No Match Behavior": "Raw Line"})
    assert len(recs) == 10
    assert recs[2] == {k: None for k in recs[2] if k != "_raw"} | {
        "_raw": "java.lang.IllegalStateException: boom"
    }


def test_declared_schema_casts() -> None:
    _, recs = _records(
        "7 x\n8 y\n",
        **{
            "Grok Expressions": "%{INT:n} %{WORD:w}",
            "Schema Access Strategy": "schema-text-property",
            "Schema Text": "n: int64, w: string",
        },
    )
    assert recs == [{"n": 7, "w": "x"}, {"n": 8, "w": "y"}]


def test_many_batches_keep_order() -> None:
    lines = "".join(f"2024-01-02 03:04:05,000 INFO [t] m{i}\n" for i in range(20_000))
    _, recs = _records(lines)
    assert [r["message"] for r in recs] == [f"m{i}" for i in range(20_000)]


def test_unknown_pattern_stops_the_service_from_enabling() -> None:
    """Services have no cross-property validation hook yet (custom Grok Patterns decide
    which names exist), so the check runs when the service is enabled, before any
    FlowFile is read."""
    runner = TestRunner(ConvertRecord)
    runner.add_service("grok", "GrokReader", {"Grok Expressions": "%{NOPE:x}"})
    runner.add_service("json", "JsonRecordSetWriter", {})
    runner.set_property("record_reader", "grok")
    runner.set_property("record_writer", "json")
    runner.enqueue(b"x")
    with pytest.raises(
        Exception, match=r"unknown Grok pattern %\{NOPE\} at column 1; hint"
    ):
        runner.run()
