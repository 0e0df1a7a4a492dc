"""MergeContent in a real durable run: kill -9 while FlowFiles wait in bins, restart,
drain — every input is merged at least once and none is lost; and merging ~200 MB does
not hold the contents in memory."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from flowengine.processors.content._flowfile_stream import iter_packages

from .conftest import content_files, referenced

pytestmark = pytest.mark.faults

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = 300
KILL_FLOW = """\
flow: merge-kill
processors:
  get:
    type: GetFile
    properties: {{input_directory: "{inbox}", batch_size: 20, polling_interval: 0 sec}}
    schedule: {{period: 50 millis}}
  merge:
    type: MergeContent
    properties:
      merge_format: "FlowFile Stream, v3"
      minimum_number_of_entries: {bin}
      maximum_number_of_entries: {bin}
    auto_terminate: [original, failure]
  put:
    type: PutFile
    properties: {{directory: "{outbox}", conflict_resolution_strategy: replace}}
    auto_terminate: [success, failure]
connections:
  - get -> merge
  - merge:merged -> put
"""


def _run(flow: Path, state: Path, stderr: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "flowengine", "run", str(flow), "--state-dir",
           str(state), "--until-drained", "--timeout", "300"]  # fmt: skip
    with open(stderr, "wb") as err:
        return subprocess.Popen(
            cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=err,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip


def test_kill_with_flowfiles_in_bins_loses_nothing(tmp_path: Path) -> None:
    """3,050 inputs arrive over ~8 s into bins of 300; three kill -9s land while bins
    hold FlowFiles; the drained run flushes the last 50 and says so in its summary."""
    rng = random.Random(14)
    inbox, outbox, state = tmp_path / "inbox", tmp_path / "outbox", tmp_path / "state"
    inbox.mkdir()
    digests = {}
    for i in range(3_050):
        data = rng.randbytes(rng.randint(50, 2_000))
        (inbox / f"in-{i:05d}").write_bytes(data)
        digests[f"in-{i:05d}"] = hashlib.sha256(data).hexdigest()
    flow = tmp_path / "flow.yaml"
    flow.write_text(KILL_FLOW.format(inbox=inbox, outbox=outbox, bin=BIN))
    kills = runs = 0
    while True:
        runs += 1
        err = tmp_path / f"run-{runs}.log"
        proc = _run(flow, state, err)
        try:
            if kills < 3:
                try:
                    proc.wait(timeout=rng.uniform(1.2, 2.5))
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    continue
            code = proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert code == 0, err.read_text()[-3000:]
        break
    assert kills == 3
    seen: Counter[str] = Counter()
    for out in outbox.iterdir():
        if out.name.startswith("."):
            continue  # PutFile's temporary file of a write cut short by a kill
        with open(out, "rb") as f:
            for entry in iter_packages(f):
                name = entry.attributes["filename"]
                data = entry.read()
                assert hashlib.sha256(data).hexdigest() == digests[name], name
                seen[name] += 1
    missing = set(digests) - set(seen)
    assert not missing, f"{len(missing)} inputs never merged"
    # a kill can only redo a merged package PutFile had not committed yet
    assert sum(seen.values()) - len(digests) <= kills * BIN
    summary = err.read_text()
    assert (
        "merge: 1 bin of 50 FlowFiles flushed below Minimum Number of Entries 300 at drain"
        in summary
    ), summary[-3000:]
    assert referenced(state) == (0, set())
    assert content_files(state) == set()


MEMORY_FLOW = """\
flow: merge-memory
processors:
  get:
    type: GetFile
    properties: {{input_directory: "{inbox}", batch_size: 50, polling_interval: 0 sec}}
  merge:
    type: MergeContent
    properties:
      minimum_number_of_entries: {n}
      maximum_number_of_entries: {n}
      max_bin_age: 5 min
    auto_terminate: [original, failure]
  put:
    type: PutFile
    properties: {{directory: "{outbox}"}}
    auto_terminate: [success, failure]
connections:
  - get -> merge
  - merge:merged -> put
"""


def _peak_rss_mb(tmp: Path, n: int) -> tuple[float, int]:
    """Run the merge of ``n`` x 1 MB files; the child's peak RSS (MB) and output size."""
    inbox, outbox = tmp / "inbox", tmp / "outbox"
    inbox.mkdir(parents=True)
    block = os.urandom(1 << 20)
    for i in range(n):
        (inbox / f"f{i:04d}").write_bytes(block[i:] + block[:i])
    flow = tmp / "flow.yaml"
    flow.write_text(MEMORY_FLOW.format(inbox=inbox, outbox=outbox, n=n))
    proc = _run(flow, tmp / "state", tmp / "run.log")
    started = time.monotonic()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, (tmp / "run.log").read_text()[-3000:]
    assert time.monotonic() - started < 300
    (out,) = list(outbox.iterdir())
    return usage.ru_maxrss / 1024, out.stat().st_size


def test_merging_200_mb_does_not_hold_the_contents_in_memory(tmp_path: Path) -> None:
    small, small_size = _peak_rss_mb(tmp_path / "small", 2)
    big, big_size = _peak_rss_mb(tmp_path / "big", 200)
    assert (small_size, big_size) == (2 << 20, 200 << 20)
    print(f"peak RSS: 2 MB merge {small:.0f} MB, 200 MB merge {big:.0f} MB")
    assert big - small < 60, (small, big)
