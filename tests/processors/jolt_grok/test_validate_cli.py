"""`flowengine validate` rejects a bad Jolt spec and an unknown Grok pattern before start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FLOW = Path(__file__).with_name("bad_flow.yaml")


def test_validate_reports_file_line_col_and_hint() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flowengine", "validate", str(FLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert (
        f"{FLOW}:5:3: processor 'grok': Grok Expression: unknown Grok pattern %{{NOPE}} at column 10; hint:"
        in err
    )
    assert (
        f"{FLOW}:10:3: processor 'jolt': Jolt Specification: line 2 column 17:" in err
    )
    assert "hint" in err.split("processor 'jolt'")[1]
