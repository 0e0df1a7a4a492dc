"""Benchmark: compiled Expression Language evaluation vs hand-written Python.

Each workload evaluates an EL property value against the same attributes as a
hand-written function doing the same string work, in the same run, and reports
evaluations per second (``ratio = value / baseline_value``). Run directly for a
table, or through ``python -m benchmarks`` via :func:`run`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from flowengine.expression import compile

ATTRS: dict[str, str] = {
    "filename": "report.2024-01-05.csv",
    "size": "2048",
    "kind": "csv",
}


def _hand_substring(a: Mapping[str, str]) -> str:
    v = a.get("filename")
    if v is None:
        return "-x"
    i = v.rfind(".")
    return (v[:i] if i >= 0 else v).upper() + "-x"


def _hand_plain(a: Mapping[str, str]) -> str:
    v = a.get("filename")
    return "" if v is None else v


def _hand_route(a: Mapping[str, str]) -> str:
    size = a.get("size")
    ok = (
        size is not None
        and size.isdigit()
        and int(size) > 1024
        and a.get("kind") == "csv"
    )
    return "true" if ok else "false"


def _hand_literal(a: Mapping[str, str]) -> str:
    return "constant/path"


WORKLOADS: list[tuple[str, str, Callable[[Mapping[str, str]], str]]] = [
    (
        "el_substring_upper_append",
        "${filename:substringBeforeLast('.'):toUpper():append('-x')}",
        _hand_substring,
    ),
    ("el_plain_attribute", "${filename}", _hand_plain),
    ("el_route_condition", "${size:gt(1024):and(${kind:equals('csv')})}", _hand_route),
    ("el_literal_value", "constant/path", _hand_literal),
]


def _rate(fn: Callable[[], object], seconds: float) -> float:
    n = 1000
    while True:  # calibrate so one timed batch takes a measurable time
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed > seconds / 5:
            break
        n *= 4
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = max(best, n / (time.perf_counter() - start))
    return best


def _peak_rss_mb() -> float | None:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    except (ImportError, OSError):  # pragma: no cover - non-Unix
        return None


def run(quick: bool) -> list[dict[str, object]]:
    """Measure every workload; ``quick`` shortens the timing windows."""
    seconds = 0.3 if quick else 2.0
    results: list[dict[str, object]] = []
    for name, text, hand in WORKLOADS:
        expr = compile(text)
        assert expr.evaluate(attributes=ATTRS) == hand(ATTRS), name
        evaluate = expr.evaluate
        value = _rate(lambda evaluate=evaluate: evaluate(attributes=ATTRS), seconds)
        baseline = _rate(lambda hand=hand: hand(ATTRS), seconds)
        results.append(
            {
                "workload": name,
                "variant": "compiled",
                "value": round(value),
                "unit": "evaluations/s",
                "baseline": "hand-written Python",
                "baseline_value": round(baseline),
                "ratio": round(value / baseline, 3),
                "peak_rss_mb": _peak_rss_mb(),
            }
        )
    return results


if __name__ == "__main__":
    import sys

    rows = run(quick="--quick" in sys.argv)
    print(f"{'workload':30} {'evals/s':>12} {'baseline/s':>12} {'ratio':>6}")
    for row in rows:
        print(
            f"{row['workload']!s:30} {row['value']:>12,} {row['baseline_value']:>12,} "
            f"{row['ratio']:>6}"
        )
