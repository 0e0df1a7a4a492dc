"""PutFile removes the temporaries of killed processes when it runs again (issue 23.4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

FLOW = """\
flow: temps
processors:
  gen:
    type: GenerateFlowFile
    properties: {file_size: SIZE, batch_size: 1, data_format: Binary}
    schedule: {max_triggers: TRIGGERS, period: 0 sec}
  put:
    type: PutFile
    properties: {directory: "OUT", conflict_resolution_strategy: replace}
    auto_terminate: [success, failure]
connections:
  - gen -> put
"""


def _flow(tmp: Path, out: Path, size: str, triggers: int) -> Path:
    f = tmp / "flow.yaml"
    f.write_text(
        FLOW.replace("OUT", str(out)).replace("SIZE", size)
        .replace("TRIGGERS", str(triggers))
    )  # fmt: skip
    return f


def _dead_pid() -> int:
    proc = subprocess.Popen(["sleep", "60"])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.pid


def test_temporaries_of_killed_runs_are_removed_live_ones_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # A real flowengine run SIGKILLed while PutFile writes 20 MB files: try to catch a
    # partial temporary (timing-dependent), and always plant one of a killed process.
    flow = _flow(tmp_path, out, "20 MB", 200)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine", "run", str(flow), "--in-memory",
         "--no-live"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if any(p.name.endswith(f".{proc.pid}.tmp") for p in out.iterdir()):
                break
            time.sleep(0.001)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    stale = out / f".partial.{_dead_pid()}.tmp"
    stale.write_bytes(b"x" * 1000)
    live = out / f".other-writer.{os.getpid()}.tmp"  # this test process is alive
    live.write_bytes(b"y")
    lookalike = out / ".notes.tmp"
    lookalike.write_bytes(b"z")
    leftovers = {p.name for p in out.iterdir() if p.name.endswith(".tmp")}
    assert stale.name in leftovers
    run = subprocess.run(
        [sys.executable, "-m", "flowengine", "run",
         str(_flow(tmp_path, out, "1 KB", 1)), "--in-memory", "--until-drained",
         "--timeout", "60"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "putfile_stale_temporaries_removed" in run.stderr
    remaining = {p.name for p in out.iterdir() if p.name.endswith(".tmp")}
    assert remaining == {live.name, lookalike.name}
