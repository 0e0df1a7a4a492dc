"""PartitionRecord: groups by record-path values, values as attributes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pyarrow as pa
from flowengine.processors.records._spool import Spool

from flowengine.testing import TestRunner

JSON = ("JsonTreeReader", {})
JSONL = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})
DATA = (
    b"\n".join(
        json.dumps(r).encode()
        for r in [
            {"id": 1, "c": {"region": "eu"}, "y": 2024},
            {"id": 2, "c": {"region": "us"}, "y": 2024},
            {"id": 3, "c": {"region": "eu"}, "y": 2023},
            {"id": 4, "c": {"region": "eu"}, "y": 2024},
            {"id": 5, "c": None, "y": 2024},
        ]
    )
    + b"\n"
)


def ids(content: bytes) -> list[int]:
    return [json.loads(x)["id"] for x in content.decode().splitlines()]


def test_partitions_by_nested_paths_with_attributes(
    runner: Callable[..., TestRunner],
) -> None:
    """Records with equal values share a FlowFile carrying each value as an attribute; null values add none."""
    r = runner("PartitionRecord", JSON, JSONL, region="/c/region", year="/y")
    r.enqueue(DATA, {"filename": "orders.json"})
    r.run()
    parts = r.flowfiles_for("success")
    got = {(p.get("region"), p.get("year")): ids(p.content) for p in parts}
    assert got == {
        ("eu", "2024"): [1, 4],
        ("us", "2024"): [2],
        ("eu", "2023"): [3],
        (None, "2024"): [5],
    }
    assert [p["fragment.index"] for p in parts] == ["0", "1", "2", "3"]
    assert {p["fragment.count"] for p in parts} == {"4"}
    assert all(p["record.count"] == str(len(ids(p.content))) for p in parts)
    assert r.flowfiles_for("original")[0].content == DATA


def test_partitions_span_batches(runner: Callable[..., TestRunner]) -> None:
    """Records of one partition in different reader batches end in the same FlowFile, in order."""
    rows = b"".join(b"%d,%s\n" % (i, b"ab"[i % 2 : i % 2 + 1]) for i in range(2000))
    r = runner(
        "PartitionRecord",
        ("CSVReader", {"block_size": "1 KB"}),
        ("CSVRecordSetWriter", {}),
        k="/k",
    )
    r.enqueue(b"n,k\n" + rows)
    r.run()
    parts = {p["k"]: p for p in r.flowfiles_for("success")}
    assert sorted(parts) == ["a", "b"]
    assert parts["a"]["record.count"] == "1000"
    nums = [int(x.split(",")[0]) for x in parts["b"].text.splitlines()[1:]]
    assert nums == list(range(1, 2000, 2))


def test_nested_value_is_rejected_and_config_validated(
    runner: Callable[..., TestRunner],
) -> None:
    """Partitioning by a struct fails the FlowFile; a bad record path makes the processor invalid."""
    r = runner("PartitionRecord", JSON, JSONL, c="/c")
    r.enqueue(DATA)
    r.run()
    r.assert_all_transferred("failure", 1)
    bad = runner("PartitionRecord", JSON, JSONL, c="c/")
    assert any("must start with '/'" in p for p in bad.validate())


def test_spool_spills_to_disk_and_reads_back_in_order() -> None:
    """Past its memory limit the spool writes Arrow IPC files and returns batches in order."""
    with Spool(memory_limit=1000) as spool:
        for i in range(50):
            spool.add(
                i % 3,
                pa.RecordBatch.from_pydict({"v": list(range(i * 10, i * 10 + 10))}),
            )
        assert spool.groups() == [0, 1, 2]
        assert spool.rows(1) == 170
        values = [v for b in spool.batches(1) for v in b.column(0).to_pylist()]
        assert values == [
            v for i in range(1, 50, 3) for v in range(i * 10, i * 10 + 10)
        ]
