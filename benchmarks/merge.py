"""Benchmark: MergeContent of many 100-byte FlowFiles into bins of 10,000.

Issue 14's row: MergeContent (Binary Concatenation, Minimum = Maximum Number of Entries
= 10,000) of 1,000,000 x 100-byte FlowFiles from GenerateFlowFile, against a floor in
the same run: a plain Python loop that makes the same 100-byte payloads and joins them
10,000 at a time. Target: at least 0.5x the floor, memory flat in the input size. Both
run in fresh processes; the flow runs in memory (no state directory).
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._harness import main_single, measure, median_of, row

PAYLOAD = 100


def _flow_run(count: int, bin_size: int) -> dict[str, Any]:
    """Child side: GenerateFlowFile -> MergeContent, both auto-terminated."""
    import flowengine

    f = flowengine.Flow("merge-content-bench")
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {"custom_text": "x" * PAYLOAD, "batch_size": 1000},
        schedule={"period": "0 sec", "max_triggers": count // 1000},
    )
    f.add_processor(
        "merge",
        "MergeContent",
        {
            "minimum_number_of_entries": bin_size,
            "maximum_number_of_entries": bin_size,
        },
        schedule={"batch_size": 1000},
        auto_terminate=["merged", "original", "failure"],
    )
    f.connect("gen", "merge")
    started = time.perf_counter()
    with f.run(provenance=False, timeout=1800) as res:
        seconds = time.perf_counter() - started
        assert res.drained, "the flow did not drain"
        merge = res.counts["merge"]
        assert merge.flowfiles_in == count
        merged = res.status.processors
        (m,) = [p for p in merged if p.name == "merge"]
        assert m.relationship_counts["merged"] == count // bin_size
    return {"count": count, "seconds": seconds}


def _floor(count: int, bin_size: int) -> dict[str, Any]:
    """Child side: the same payloads joined bin_size at a time in plain Python."""
    started = time.perf_counter()
    merged = 0
    total = 0
    pending: list[bytes] = []
    for _ in range(count):
        pending.append(b"x" * PAYLOAD)
        if len(pending) == bin_size:
            total += len(b"".join(pending))
            pending = []
            merged += 1
    seconds = time.perf_counter() - started
    assert merged == count // bin_size
    assert total == count * PAYLOAD
    return {"count": count, "seconds": seconds}


def run(quick: bool) -> list[dict[str, Any]]:
    count, bin_size = (20_000, 1_000) if quick else (1_000_000, 10_000)
    reps = 1 if quick else 3
    results = {}
    for variant, target in (
        ("baseline: python join loop", "benchmarks.merge:_floor"),
        ("MergeContent", "benchmarks.merge:_flow_run"),
    ):
        res, rss, _ = median_of(
            reps,
            lambda t=target: measure(t, {"count": count, "bin_size": bin_size}),
        )
        results[variant] = (res["count"] / res["seconds"], rss)
    base, base_rss = results["baseline: python join loop"]
    name = f"merge_content ({count:,} x 100 B, bins of {bin_size:,})"
    return [
        row(name, "baseline: python join loop", base, "FlowFiles/s",
            "baseline: python join loop", base, base_rss),
        row(name, "MergeContent", results["MergeContent"][0], "FlowFiles/s",
            "baseline: python join loop", base, results["MergeContent"][1],
            target="ratio >= 0.5"),
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main_single(run))
