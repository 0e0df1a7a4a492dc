"""Benchmark: AttributesToJSON and DuplicateFlowFile beside hand-written floors.

Flows (in-memory, GenerateFlowFile → processor → auto-terminated) measure FlowFiles/s
through the processor. The floors do the processor's essential work in a plain Python
loop in a child process of the same run: ``json.dumps`` of the same attribute map for
AttributesToJSON; a dict copy with a fresh uuid and ``copy.index`` per copy for
DuplicateFlowFile. The ratio says how much the engine (sessions, queues, provenance off)
costs over the bare work.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from benchmarks._harness import main_single, measure, median_of, row

ATTRS = {f"attr.{i}": f"value-{i}" for i in range(10)}
COPIES = 9


def _flow_run(count: int, processor: str) -> dict[str, Any]:
    """Child side: run the flow, return FlowFiles through the processor and seconds."""
    import flowengine

    f = flowengine.Flow(f"flowctl-{processor}")
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {"custom_text": "x" * 100, "batch_size": 1000, **ATTRS},
        schedule={"period": "0 sec", "max_triggers": count // 1000},
    )
    props: dict[str, Any] = (
        {"number_of_copies": str(COPIES)} if processor == "DuplicateFlowFile" else {}
    )
    f.add_processor("p", processor, props, auto_terminate=["success", "failure"])
    f.connect("gen", "p")
    started = time.perf_counter()
    with f.run(provenance=False, timeout=600) as res:
        seconds = time.perf_counter() - started
        assert res.drained, "the flow did not drain"
        n = sum(res.counts["p"].relationship_counts.values())
    return {"count": n, "seconds": seconds}


def _floor_run(count: int, processor: str) -> dict[str, Any]:
    """Child side: the bare work of the processor, no engine."""
    base = {"uuid": str(uuid.uuid4()), "filename": "f", "path": "./", **ATTRS}
    started = time.perf_counter()
    n = 0
    if processor == "AttributesToJSON":
        for _ in range(count):
            out = dict(base)
            out["JSONAttributes"] = json.dumps(base, separators=(",", ":"))
            n += 1
    else:
        for _ in range(count):
            for i in range(COPIES + 1):
                out = dict(base)
                out["uuid"] = str(uuid.uuid4())
                out["copy.index"] = str(i)
                n += 1
    return {"count": n, "seconds": time.perf_counter() - started}


def run(quick: bool) -> list[dict[str, Any]]:
    count = 20_000 if quick else 200_000
    reps = 1 if quick else 3
    rows = []
    for workload, processor, n in (
        ("attributes_to_json", "AttributesToJSON", count),
        ("duplicate_flowfile", "DuplicateFlowFile", count // (COPIES + 1)),
    ):
        measured = {}
        for variant, target in (("floor", "_floor_run"), ("flow", "_flow_run")):
            res, rss, _ = median_of(
                reps,
                lambda t=target, p=processor, c=n: measure(
                    f"benchmarks.flowctl:{t}", {"count": c, "processor": p}
                ),
            )
            measured[variant] = (res["count"] / res["seconds"], rss)
        base, base_rss = measured["floor"]
        rows.append(
            row(
                workload,
                "hand-written floor",
                base,
                "FlowFiles/s",
                "floor",
                base,
                base_rss,
            )
        )
        rows.append(
            row(
                workload,
                processor,
                measured["flow"][0],
                "FlowFiles/s",
                "floor",
                base,
                measured["flow"][1],
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main_single(run))
