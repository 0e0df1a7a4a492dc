"""Smoke tests of the benchmark suite: it runs and emits the documented JSON shape.

No timing assertions: numbers on shared CI machines mean nothing; the suite is measured
by hand (``benchmarks/README.md``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROW_KEYS = {
    "workload",
    "variant",
    "value",
    "unit",
    "baseline",
    "baseline_value",
    "ratio",
    "peak_rss_mb",
}


def _run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["FLOWENGINE_BENCH_NO_PEERS"] = "1"  # peers take minutes; the shape is ours
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH")) if p
    )
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_quick_small_flowfiles_json_shape(tmp_path: Path) -> None:
    """--quick --only small_flowfiles --json writes {machine, commit, results} rows."""
    out = tmp_path / "bench.json"
    proc = _run("--quick", "--only", "small_flowfiles", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert set(doc) == {"machine", "commit", "results"}
    assert isinstance(doc["machine"], dict)
    assert doc["machine"]["cpus"] == os.cpu_count()
    assert isinstance(doc["commit"], str)
    assert doc["commit"]
    variants = {r["variant"] for r in doc["results"]}
    assert {"baseline: python loop", "in-memory"} <= variants
    for r in doc["results"]:
        assert set(r) >= ROW_KEYS, r
        assert r["workload"] == "small_flowfiles"
        assert r["value"] > 0
        assert r["peak_rss_mb"] > 0
        assert math.isclose(r["ratio"], r["value"] / r["baseline_value"], rel_tol=1e-3)
    assert "| small_flowfiles" in proc.stdout  # the table


def test_unknown_workload_is_a_usage_error() -> None:
    """--only with a name that is not a workload exits 2 and lists the workloads."""
    proc = _run("--only", "no_such_workload", timeout=30)
    assert proc.returncode == 2
    assert "small_flowfiles" in proc.stderr


def test_discovery_lists_workload_modules() -> None:
    """--list names every benchmarks/<name>.py workload, not private/peer modules."""
    proc = _run("--list", timeout=30)
    assert proc.returncode == 0, proc.stderr
    names = proc.stdout.split()
    assert "small_flowfiles" in names
    assert not any(n.startswith("_") for n in names)
    assert "peers" not in names


@pytest.mark.parametrize("value", [0.0, 2.5])
def test_row_ratio_is_value_over_baseline(value: float) -> None:
    """harness.row computes ratio = value / baseline_value."""
    sys.path.insert(0, str(REPO))
    try:
        from benchmarks._harness import row
    finally:
        sys.path.remove(str(REPO))
    r = row("w", "v", value, "u", "b", 2.0, 10.0)
    assert set(r) == ROW_KEYS
    assert r["ratio"] == pytest.approx(value / 2.0)


def test_auto_terminated_flowfiles_release_their_content() -> None:
    """Content of FlowFiles auto-terminated unchanged is released (soak stays flat)."""
    import flowengine

    flow = flowengine.Flow("leak")
    flow.add_processor(
        "gen",
        "GenerateFlowFile",
        {"custom_text": "x" * 100, "batch_size": "50"},
        schedule={"period": "0 sec", "max_triggers": 4},
    )
    flow.add_processor("tag", "UpdateAttribute", {"k": "v"}, auto_terminate=["success"])
    flow.connect("gen", "tag")
    box: dict[str, object] = {}
    result = flow.run(
        until_drained=True,
        timeout=30,
        provenance=False,
        on_start=lambda rt: box.update(rt=rt),
    )
    assert result.drained
    assert result.counts["tag"].flowfiles_in == 200
    assert box["rt"].content.resource_count() == 0  # type: ignore[attr-defined]
