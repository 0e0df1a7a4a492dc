"""MergeRecord: bins by schema and correlation, thresholds, age, draining, defragmenting."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import flowengine
from flowengine._status import DrainFlush
from flowengine.testing import TestRunner

CSV = ("CSVReader", {})
JSONL = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})


def two_rows(i: int) -> bytes:
    return b"n,s\n%d,a\n%d,b\n" % (2 * i, 2 * i + 1)


def ns(content: bytes) -> list[int]:
    return [json.loads(x)["n"] for x in content.decode().splitlines()]


def test_max_records_fills_bins_and_min_flushes_the_rest(
    runner: Callable[..., TestRunner],
) -> None:
    """Full bins merge at once; the partial bin merges once nothing more waits (min reached)."""
    r = runner("MergeRecord", CSV, JSONL, maximum_number_of_records="4")
    for i in range(5):
        r.enqueue(two_rows(i), {"filename": f"f{i}", "common": "yes", "own": str(i)})
    r.run(1, stop_on_finish=False)
    merged = r.flowfiles_for("merged")
    assert [m["record.count"] for m in merged] == ["4", "4"]
    assert ns(merged[0].content) == [0, 1, 2, 3]
    assert merged[0]["merge.count"] == "2"
    assert merged[0]["merge.completion.reason"] == "Maximum Number of Records reached"
    assert merged[0]["common"] == "yes" and "own" not in merged[0].attributes
    r.run(1)
    merged = r.flowfiles_for("merged")
    assert [m["record.count"] for m in merged] == ["4", "4", "2"]
    assert merged[2]["merge.completion.reason"] == "Minimum thresholds reached"
    originals = r.flowfiles_for("original")
    assert len(originals) == 5
    assert {o["merge.uuid"] for o in originals[:2]} == {merged[0]["uuid"]}
    joins = [e for e in r.provenance_events() if e.event_type.value == "JOIN"]
    assert len(joins) == 2 and all(
        len(j.parent_uuids) == 2 for j in joins
    )  # (a 1-parent merge is a FORK)


def test_different_schemas_never_merge_and_correlation_separates(
    runner: Callable[..., TestRunner],
) -> None:
    """Records of different schemas, or of different correlation values, land in different bins."""
    r = runner("MergeRecord", CSV, JSONL, correlation_attribute_name="tenant")
    r.enqueue(b"a,b\n1,x\n", {"tenant": "t1"})
    r.enqueue(b"a,c\n2,y\n", {"tenant": "t1"})
    r.enqueue(b"a,b\n3,z\n", {"tenant": "t1"})
    r.enqueue(b"a,b\n4,w\n", {"tenant": "t2"})
    r.run(2)
    merged = r.flowfiles_for("merged")
    contents = sorted(m.text for m in merged)
    assert contents == sorted(
        [
            '{"a":1,"b":"x"}\n{"a":3,"b":"z"}\n',
            '{"a":2,"c":"y"}\n',
            '{"a":4,"b":"w"}\n',
        ]
    )
    assert {m["tenant"] for m in merged} == {"t1", "t2"}


def test_max_bin_age_merges_an_underfilled_bin(
    runner: Callable[..., TestRunner],
) -> None:
    """A bin below its minimum merges once it is older than Max Bin Age."""
    r = runner(
        "MergeRecord",
        CSV,
        JSONL,
        minimum_number_of_records="100",
        maximum_number_of_records="1000",
        max_bin_age="10 sec",
    )
    r.enqueue(two_rows(0))
    r.run(1, stop_on_finish=False)
    r.run(1, stop_on_finish=False)
    assert r.transfer_counts() == {}
    r.clock.advance(11)
    r.run(1)
    merged = r.flowfiles_for("merged")
    assert (
        len(merged) == 1
        and merged[0]["merge.completion.reason"] == "Max Bin Age reached"
    )
    assert int(merged[0]["merge.bin.age"]) >= 11_000


def test_stopping_returns_held_flowfiles_to_the_queue(
    runner: Callable[..., TestRunner],
) -> None:
    """Binned FlowFiles are held in sessions: stopping rolls them back, nothing is lost."""
    r = runner("MergeRecord", CSV, JSONL, minimum_number_of_records="100")
    for i in range(3):
        r.enqueue(two_rows(i))
    r.run(1)
    assert r.transfer_counts() == {}
    assert r.queue_size() == 3


def test_bad_input_fails_alone_and_max_bins_evicts_oldest(
    runner: Callable[..., TestRunner],
) -> None:
    """An unreadable FlowFile goes to failure; a new bin beyond the maximum merges the oldest."""
    r = runner(
        "MergeRecord",
        CSV,
        JSONL,
        correlation_attribute_name="k",
        maximum_number_of_bins="1",
        minimum_number_of_records="10",
    )
    r.enqueue(b"n\n1\n", {"k": "a"})
    r.enqueue(b"n,m\n1\n2,3,4\n", {"k": "a"})
    r.enqueue(b"n\n2\n", {"k": "b"})
    r.run(1, stop_on_finish=False)
    assert r.transfer_counts() == {"failure": 1, "merged": 1, "original": 1}
    assert r.flowfiles_for("merged")[0]["merge.completion.reason"].startswith(
        "Maximum Number of Bins"
    )


def test_defragment_rebuilds_split_order(runner: Callable[..., TestRunner]) -> None:
    """Defragment waits for fragment.count pieces and merges them in fragment.index order."""
    r = runner("MergeRecord", CSV, JSONL, merge_strategy="Defragment")
    for idx in (2, 0, 1):
        r.enqueue(
            b"n\n%d\n" % idx,
            {
                "fragment.identifier": "f",
                "fragment.index": str(idx),
                "fragment.count": "3",
            },
        )
    r.run(1)
    merged = r.flowfiles_for("merged")
    assert len(merged) == 1 and ns(merged[0].content) == [0, 1, 2]


def test_a_bin_never_waits_forever_when_the_flow_drains() -> None:
    """Run until drained: bins below every threshold are merged when nothing more can arrive."""
    f = flowengine.Flow("merge-drain")
    f.add_service("csv", "CSVReader", {})
    f.add_service("json", "JsonRecordSetWriter", {"output_grouping": "output-oneline"})
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_processor(
        "merge",
        "MergeRecord",
        {
            "record_reader": "csv",
            "record_writer": "json",
            "minimum_number_of_records": "1000000",
            "maximum_number_of_records": "1000000",
            "minimum_bin_size": "1 GB",
        },
        auto_terminate=["original", "failure"],
    )
    f.connect("in", "merge")
    f.connect("merge", "out", ["merged"])
    with f.run(
        until_drained=True, timeout=30, inputs={"in": [two_rows(i) for i in range(4)]}
    ) as result:
        assert result.drained and not result.timed_out
        out = result.outputs["out"]
        assert len(out) == 1
        assert sorted(ns(result.read(out[0]))) == list(range(8))
        assert (
            out[0]
            .attributes["merge.completion.reason"]
            .startswith("Upstream exhausted")
        )
        assert result.drain_flushes == {
            "merge": (DrainFlush(1, 8, "records", "Minimum Number of Records 1000000"),)
        }


def test_a_bin_the_writer_rejects_sends_its_inputs_to_failure(
    runner: Callable[..., TestRunner],
) -> None:
    """If the merged records do not fit the writer, every input of the bin goes to failure."""
    writer = (
        "CSVRecordSetWriter",
        {"schema_access_strategy": "schema-text-property", "schema_text": "n: int8"},
    )
    r = runner("MergeRecord", CSV, writer, maximum_number_of_records="2")
    r.enqueue(b"n\n1\n")
    r.enqueue(b"n\n300\n")
    r.run(1)
    assert r.transfer_counts() == {"failure": 2}
    assert (
        "record 2: field 'n' value 300"
        in r.flowfiles_for("failure")[0]["record.error.message"]
    )


@pytest.mark.parametrize("merges", [1, 2, 3])
def test_bins_behind_one_router_flush_when_the_flow_drains(merges: int) -> None:
    """RouteOnAttribute into 1, 2 or 3 MergeRecords, bins below their minimums: all are
    flushed when the flow drains (issue 23.7: two merges waited for each other's bins,
    re-triggering ~90 times a second until the timeout)."""
    f = flowengine.Flow("merge-router")
    f.add_service("csv", "CSVReader", {})
    f.add_service("json", "JsonRecordSetWriter", {"output_grouping": "output-oneline"})
    f.add_input_port("in")
    f.add_output_port("out")
    routes = {f"r{k}": f"${{k:equals('{k}')}}" for k in range(merges)}
    f.add_processor("route", "RouteOnAttribute", routes, auto_terminate=["unmatched"])
    f.connect("in", "route")
    for k in range(merges):
        f.add_processor(
            f"merge_{k}",
            "MergeRecord",
            {
                "record_reader": "csv",
                "record_writer": "json",
                "minimum_number_of_records": "500",
                "maximum_number_of_records": "500",
            },
            auto_terminate=["original", "failure"],
        )
        f.connect("route", f"merge_{k}", [f"r{k}"])
        f.connect(f"merge_{k}", "out", ["merged"])
    inputs = [(two_rows(i), {"k": str(i % merges)}) for i in range(3 * merges)]
    with f.run(until_drained=True, timeout=20, inputs={"in": inputs}) as result:
        assert result.drained and not result.timed_out
        out = result.outputs["out"]
        assert len(out) == merges
        assert sorted(n for o in out for n in ns(result.read(o))) == list(
            range(6 * merges)
        )
        assert result.drain_flushes == {
            f"merge_{k}": (
                DrainFlush(1, 6, "records", "Minimum Number of Records 500"),
            )
            for k in range(merges)
        }
        assert (
            str(result.drain_flushes["merge_0"][0])
            == "1 bin of 6 records flushed below Minimum Number of Records 500 at drain"
        )


def test_full_bins_are_not_reported_as_flushed_at_drain() -> None:
    """A bin that met its minimums and merges at drain is an ordinary merge: nothing is
    reported as flushed below a minimum."""
    f = flowengine.Flow("merge-full")
    f.add_service("csv", "CSVReader", {})
    f.add_service("json", "JsonRecordSetWriter", {"output_grouping": "output-oneline"})
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_processor(
        "merge",
        "MergeRecord",
        {
            "record_reader": "csv",
            "record_writer": "json",
            "minimum_number_of_records": "2",
            "maximum_number_of_records": "100",
        },
        auto_terminate=["original", "failure"],
    )
    f.connect("in", "merge")
    f.connect("merge", "out", ["merged"])
    inputs = {"in": [two_rows(i) for i in range(3)]}
    with f.run(until_drained=True, timeout=20, inputs=inputs) as result:
        assert result.drained
        assert sum(len(ns(result.read(o))) for o in result.outputs["out"]) == 6
        assert result.drain_flushes == {}
        assert result.status.drain_flushes == ()


TWO_MERGES = """\
flow: two-merges
services:
  csv: {type: CSVReader}
  json: {type: JsonRecordSetWriter}
processors:
  gen_a:
    type: GenerateFlowFile
    properties: {custom_text: "n,s\\n1,a\\n2,b\\n", k: a}
    schedule: {max_triggers: 1}
  gen_b:
    type: GenerateFlowFile
    properties: {custom_text: "n,s\\n3,c\\n", k: b}
    schedule: {max_triggers: 3, period: 0 sec}
  route:
    type: RouteOnAttribute
    properties: {to_a: "${k:equals('a')}", to_b: "${k:equals('b')}"}
    auto_terminate: [unmatched]
  merge_a: &merge
    type: MergeRecord
    properties: {record_reader: csv, record_writer: json,
                 minimum_number_of_records: 500, maximum_number_of_records: 500}
    auto_terminate: [merged, original, failure]
  merge_b: *merge
connections:
  - gen_a -> route
  - gen_b -> route
  - route:to_a -> merge_a
  - route:to_b -> merge_b
"""


def test_cli_summary_says_what_was_flushed_below_minimums_at_drain(
    tmp_path: Path,
) -> None:
    """`run --until-drained`: the summary and the flow_finished line name each merge that
    flushed a bin below its minimums, with its size and the minimum (issue 23.7)."""
    flow = tmp_path / "flow.yaml"
    flow.write_text(TWO_MERGES)
    run = subprocess.run(
        [sys.executable, "-m", "flowengine", "run", str(flow), "--until-drained",
         "--timeout", "60", "--state-dir", str(tmp_path / "state")],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    a = "merge_a: 1 bin of 2 records flushed below Minimum Number of Records 500 at drain"
    b = "merge_b: 1 bin of 3 records flushed below Minimum Number of Records 500 at drain"
    assert a in run.stderr and b in run.stderr, run.stderr[-3000:]
    finished = [
        json.loads(x)
        for x in run.stderr.splitlines()
        if x.startswith("{") and '"flow_finished"' in x
    ]
    assert sorted(finished[0]["flushed_at_drain"]) == [a, b]
