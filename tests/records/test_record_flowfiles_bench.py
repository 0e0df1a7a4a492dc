"""CI runs the quick record-flowfiles benchmark (issue 23, item 11): it runs, its outputs
match the baseline (the workload checks line count and checksum) and it emits rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_record_flowfiles_runs(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ, FLOWENGINE_BENCH_NO_PEERS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH")) if p
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--only",
            "record_flowfiles",
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())["results"]
    assert {r["variant"] for r in rows} == {
        "baseline: reader + writer in a loop",
        "in-memory: ConvertRecord",
        "in-memory: PartitionRecord",
    }
    for r in rows:
        assert r["unit"] == "FlowFiles/s"
        assert r["value"] > 0
