"""Benchmark: EvaluateJsonPath and ValidateJson vs the libraries called directly.

Issue 16's targets: EvaluateJsonPath with three paths to attributes on many small JSON
FlowFiles reaches >= 0.5x of ``json.loads`` + three dict lookups in a plain loop, and
ValidateJson >= 0.8x of ``json.loads`` + jsonschema-rs ``is_valid`` in a plain loop.
The flows (GenerateFlowFile -> processor -> auto-terminated) run in-memory in fresh
processes; the floors run in the same child processes of the same run. The engine's
per-FlowFile cost (session, queues, attributes) is included in the flow numbers and
is what caps the ratio.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._harness import main_single, measure, median_of, row

DOC = '{"id": 12345, "customer": {"name": "Ann", "tier": "gold"}, "items": [1, 2, 3]}'
SCHEMA = (
    '{"type": "object", "required": ["id", "customer"], "properties": {"id": '
    '{"type": "integer"}, "customer": {"type": "object"}, "items": {"type": "array"}}}'
)


def _flow_run(count: int, processor: str) -> dict[str, Any]:
    import flowengine

    f = flowengine.Flow("json-" + processor)
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {"custom_text": DOC, "batch_size": 1000},
        schedule={"period": "0 sec", "max_triggers": count // 1000},
    )
    if processor == "EvaluateJsonPath":
        props = {
            "Destination": "flowfile-attribute",
            "id": "$.id",
            "name": "$.customer.name",
            "tier": "$.customer.tier",
        }
        rels = ["matched", "unmatched", "failure"]
    else:
        props = {"JSON Schema": SCHEMA}
        rels = ["valid", "invalid", "failure"]
    f.add_processor("p", processor, props, auto_terminate=rels)
    f.connect("gen", "p")
    started = time.perf_counter()
    with f.run(provenance=False, timeout=600) as res:
        seconds = time.perf_counter() - started
        assert res.drained, "the flow did not drain"
        n = res.counts["p"].flowfiles_in
    return {"count": n, "seconds": seconds}


def _floor_run(count: int, processor: str) -> dict[str, Any]:
    import json

    import jsonschema_rs

    data = [DOC.encode() for _ in range(1000)]
    validator = jsonschema_rs.Draft202012Validator(json.loads(SCHEMA))
    started = time.perf_counter()
    for _ in range(count // 1000):
        for d in data:
            doc = json.loads(d)
            if processor == "EvaluateJsonPath":
                _ = (str(doc["id"]), doc["customer"]["name"], doc["customer"]["tier"])
            else:
                validator.is_valid(doc)
    return {"count": count, "seconds": time.perf_counter() - started}


def run(quick: bool) -> list[dict[str, Any]]:
    count = 20_000 if quick else 1_000_000
    reps = 1 if quick else 3
    rows: list[dict[str, Any]] = []
    for processor, target, floor_name in (
        ("EvaluateJsonPath", "ratio >= 0.5", "json.loads + dict lookups"),
        ("ValidateJson", "ratio >= 0.8", "json.loads + jsonschema-rs"),
    ):
        out = {}
        for kind in ("_floor_run", "_flow_run"):
            res, rss, _ = median_of(
                reps,
                lambda k=kind, p=processor: measure(
                    f"benchmarks.json:{k}", {"count": count, "processor": p}
                ),
            )
            out[kind] = (res["count"] / res["seconds"], rss)
        base, base_rss = out["_floor_run"]
        rows.append(row("json", floor_name, base, "docs/s", floor_name, base, base_rss))
        rows.append(
            row(
                "json",
                processor,
                out["_flow_run"][0],
                "FlowFiles/s",
                floor_name,
                base,
                out["_flow_run"][1],
                target=target,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main_single(run))
