"""Benchmark: UpdateAttribute with three EL expressions vs the same flow with literals.

Issue 4's target: evaluating ``${filename:substringBeforeLast('.'):toUpper():append('-x')}``
three times per FlowFile in UpdateAttribute costs at most 20% of the throughput of the
same flow whose three values are literals. Both variants run the same flow shape
(GenerateFlowFile → UpdateAttribute → auto-terminated), in-memory, in fresh processes
of the same run; the literal flow is the baseline.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._harness import main_single, measure, median_of, row

EXPR = "${filename:substringBeforeLast('.'):toUpper():append('-x')}"


def _flow_run(count: int, expressions: bool) -> dict[str, Any]:
    """Child side: build and run the flow, return FlowFiles/s."""
    import flowengine

    value = EXPR if expressions else "REPORT-x"
    f = flowengine.Flow("update-attribute-el")
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {
            "custom_text": "x" * 100,
            "batch_size": 1000,
            "filename": "report.${literal('csv')}",
        },
        schedule={"period": "0 sec", "max_triggers": count // 1000},
    )
    f.add_processor(
        "update",
        "UpdateAttribute",
        {"a": value, "b": value, "c": value},
        auto_terminate=["success"],
    )
    f.connect("gen", "update")
    started = time.perf_counter()
    with f.run(provenance=False, timeout=600) as res:
        seconds = time.perf_counter() - started
        assert res.drained, "the flow did not drain"
        n = res.counts["update"].flowfiles_in
    return {"count": n, "seconds": seconds}


def run(quick: bool) -> list[dict[str, Any]]:
    count = 50_000 if quick else 500_000
    reps = 1 if quick else 3
    results = {}
    for variant, expressions in (("literals", False), ("3 expressions", True)):
        res, rss, _ = median_of(
            reps,
            lambda e=expressions: measure(
                "benchmarks.update_attribute_el:_flow_run",
                {"count": count, "expressions": e},
            ),
        )
        results[variant] = (res["count"] / res["seconds"], rss)
    base, base_rss = results["literals"]
    return [
        row(
            "update_attribute_el",
            "literals",
            base,
            "FlowFiles/s",
            "literals",
            base,
            base_rss,
        ),
        row(
            "update_attribute_el",
            "3 expressions",
            results["3 expressions"][0],
            "FlowFiles/s",
            "literals",
            base,
            results["3 expressions"][1],
            target="ratio >= 0.8",
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(main_single(run))
