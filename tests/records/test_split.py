"""SplitRecord: fixed-size splits with fragment attributes, streamed from one reader."""

from __future__ import annotations

import json
from collections.abc import Callable

from flowengine.testing import TestRunner

CSV = ("CSVReader", {"block_size": "64 B"})
JSONL = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})
DATA = b"n\n" + b"".join(b"%d\n" % i for i in range(1, 26))


def test_splits_have_fragments_and_counts(runner: Callable[..., TestRunner]) -> None:
    """25 records by 10 make splits of 10, 10 and 5 with fragment.* and segment.original.filename."""
    r = runner("SplitRecord", CSV, JSONL, records_per_split="10")
    r.enqueue(DATA, {"filename": "nums.csv"})
    r.run()
    splits = r.flowfiles_for("splits")
    assert [s["record.count"] for s in splits] == ["10", "10", "5"]
    assert [s["fragment.index"] for s in splits] == ["0", "1", "2"]
    assert {s["fragment.count"] for s in splits} == {"3"}
    assert len({s["fragment.identifier"] for s in splits}) == 1
    assert {s["segment.original.filename"] for s in splits} == {"nums.csv"}
    values = [
        json.loads(x)["n"] for s in splits for x in s.content.decode().splitlines()
    ]
    assert values == list(range(1, 26))
    assert r.flowfiles_for("original")[0].content == DATA
    fork = [e for e in r.provenance_events() if e.event_type.value == "FORK"]
    assert len(fork) == 1 and len(fork[0].child_uuids) == 3


def test_records_per_split_from_an_attribute(runner: Callable[..., TestRunner]) -> None:
    """Records Per Split supports Expression Language; a bad value fails the FlowFile."""
    r = runner("SplitRecord", CSV, JSONL, records_per_split="${size}")
    r.enqueue(DATA, {"size": "25"})
    r.enqueue(DATA, {"size": "zero"})
    r.run()
    assert r.transfer_counts() == {"splits": 1, "original": 1, "failure": 1}
    assert "positive integer" in r.flowfiles_for("failure")[0]["record.error.message"]


def test_no_records_no_splits_and_bad_data_leaves_no_partial_splits(
    runner: Callable[..., TestRunner],
) -> None:
    """An empty input yields only the original; a malformed row mid-file yields no splits."""
    r = runner("SplitRecord", ("CSVReader", {}), JSONL, records_per_split="2")
    r.enqueue(b"n\n")
    r.enqueue(b"a,b\n1,2\n3,4\n5,6\n7\n")
    r.run()
    assert r.transfer_counts() == {"original": 1, "failure": 1}


def test_literal_records_per_split_is_validated() -> None:
    """A literal Records Per Split must be a positive integer."""
    r = TestRunner("SplitRecord")
    r.add_service("csv", "CSVReader", {})
    r.add_service("out", "CSVRecordSetWriter", {})
    r.set_property("record_reader", "csv").set_property(
        "record_writer", "out"
    ).set_property("records_per_split", "0")
    assert any("records_per_split" in p for p in r.validate())
