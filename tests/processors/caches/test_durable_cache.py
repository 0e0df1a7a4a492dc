"""DetectDuplicate in a real durable ``flowengine run``: ids seen before a ``kill -9`` are
still duplicates after the restart (the embedded cache persists in the state directory),
and no FlowFile is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

REPO_ROOT = Path(__file__).resolve().parents[3]
FLOW = """\
flow: dedupe-kill
services:
  seen:
    type: EmbeddedDistributedMapCacheService
    properties: {{persistence_directory: "{state}/map-cache", maximum_cache_entries: 100000}}
processors:
  get:
    type: GetFile
    properties: {{input_directory: "{inbox}", batch_size: 50, polling_interval: 0 sec}}
    schedule: {{period: 20 millis}}
  dedupe:
    type: DetectDuplicate
    properties:
      distributed_cache_service: seen
      cache_entry_identifier: "${{filename}}"
      flowfile_description: "first seen in run ${{run}}"
    auto_terminate: [failure]
  new:
    type: PutFile
    properties: {{directory: "{fresh}", conflict_resolution_strategy: fail}}
    auto_terminate: [success, failure]
  dup:
    type: PutFile
    properties: {{directory: "{dups}", conflict_resolution_strategy: fail}}
    auto_terminate: [success, failure]
connections:
  - get -> dedupe
  - dedupe:non-duplicate -> new
  - dedupe:duplicate -> dup
"""


def _run(
    flow: Path, state: Path, log: Path, *, drained: bool
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "flowengine",
        "run",
        str(flow),
        "--state-dir",
        str(state),
    ]
    if drained:
        cmd += ["--until-drained", "--timeout", "120"]
    with open(log, "wb") as err:
        return subprocess.Popen(
            cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=err,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip


def _wait_for(directory: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if directory.exists() and len(list(directory.iterdir())) >= count:
            return
        assert proc.poll() is None, "the run ended early"
        time.sleep(0.05)
    raise AssertionError(f"{directory} did not reach {count} files")


def test_duplicates_detected_after_kill_9(tmp_path: Path) -> None:
    inbox, fresh, dups, state = (tmp_path / n for n in ("in", "new", "dup", "state"))
    inbox.mkdir()
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW.format(inbox=inbox, fresh=fresh, dups=dups, state=state))
    for i in range(300):
        (inbox / f"id-{i:04d}").write_bytes(b"first")
    proc = _run(flow, state, tmp_path / "run1.log", drained=False)
    try:
        _wait_for(fresh, 300, proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the same 300 ids again, and 100 new ones; the restarted run must know the old ones
    for i in range(400):
        (inbox / f"id-{i:04d}").write_bytes(b"second")
    proc = _run(flow, state, tmp_path / "run2.log", drained=True)
    assert proc.wait(timeout=120) == 0, (tmp_path / "run2.log").read_text()[-2000:]
    assert sorted(p.name for p in dups.iterdir()) == [f"id-{i:04d}" for i in range(300)]
    assert sorted(p.name for p in fresh.iterdir()) == [
        f"id-{i:04d}" for i in range(400)
    ]
    assert {p.read_bytes() for p in dups.iterdir()} == {b"second"}
    assert not list(inbox.iterdir())


ORDER_FLOW = """\
flow: order-kill
processors:
  get:
    type: GetFile
    properties: {{input_directory: "{inbox}", batch_size: 100, polling_interval: 0 sec}}
    schedule: {{period: 20 millis}}
  seq:
    type: UpdateAttribute
    properties: {{seq: "${{filename:substringAfter('-')}}"}}
  order:
    type: EnforceOrder
    properties: {{group_identifier: g, order_attribute: seq, wait_timeout: 1 hour}}
    auto_terminate: [failure, overtook]
  ok:
    type: PutFile
    properties: {{directory: "{ok}"}}
    auto_terminate: [success, failure]
  skipped:
    type: PutFile
    properties: {{directory: "{skipped}"}}
    auto_terminate: [success, failure]
connections:
  - get -> seq
  - seq -> order
  - order:wait -> order
  - order:success -> ok
  - order:skipped -> skipped
"""


def test_enforce_order_state_survives_kill_9(tmp_path: Path) -> None:
    inbox, ok, skipped, state = (tmp_path / n for n in ("in", "ok", "skip", "state"))
    inbox.mkdir()
    flow = tmp_path / "flow.yaml"
    flow.write_text(ORDER_FLOW.format(inbox=inbox, ok=ok, skipped=skipped))
    for i in range(10):
        (inbox / f"o-{i}").write_bytes(b"")
    proc = _run(flow, state, tmp_path / "run1.log", drained=False)
    try:
        _wait_for(ok, 10, proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # 10 comes next: the restarted run must still expect it; 4 has passed
    (inbox / "o-11").write_bytes(b"")
    (inbox / "o-10").write_bytes(b"")
    (inbox / "o-4").write_bytes(b"")
    proc = _run(flow, state, tmp_path / "run2.log", drained=True)
    assert proc.wait(timeout=120) == 0, (tmp_path / "run2.log").read_text()[-2000:]
    assert sorted(int(p.name[2:]) for p in ok.iterdir()) == list(range(12))
    assert [p.name for p in skipped.iterdir()] == ["o-4"]
