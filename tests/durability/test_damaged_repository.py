"""A damaged FlowFile repository is detected: the run refuses to start (exit 6), content is
never reclaimed, and ``flowengine repair`` salvages what SQLite can read (issue 23.2).

The state directory comes from a real ``flowengine run`` SIGKILLed with 200 FlowFiles
queued (so the write-ahead log still holds the commits), then each damage is applied.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

FLOW = """\
flow: damage
processors:
  gen:
    type: GenerateFlowFile
    properties: {file_size: 3 KB, batch_size: 20, unique_flowfiles: "true"}
    schedule: {max_triggers: 10, period: 0 sec}
  put:
    type: PutFile
    properties: {directory: "OUT"}
    schedule: {cron: "0 0 0 1 1 ?"}
    auto_terminate: [success, failure]
connections:
  - gen -> put
"""
QUEUED = 200


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowengine", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _queued(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM flowfiles").fetchone()[0])
    finally:
        con.close()


@pytest.fixture(scope="module")
def killed_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state directory of a run killed (-9) with 200 FlowFiles queued for ``put``."""
    base = tmp_path_factory.mktemp("killed")
    flow = base / "flow.yaml"
    flow.write_text(FLOW.replace("OUT", str(base / "out")))
    state = base / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine", "run", str(flow), "--state-dir",
         str(state), "--no-provenance"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                if _queued(state / "flowfiles.db") >= QUEUED:
                    break
            except sqlite3.Error:
                continue
        time.sleep(0.3)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (state / "flowfiles.db-wal").stat().st_size > 0
    assert _queued(state / "flowfiles.db") == QUEUED
    return state


def _content(state: Path) -> set[str]:
    return {
        str(p.relative_to(state / "content"))
        for p in (state / "content").rglob("*")
        if p.is_file()
    }


def _copy(src: Path, dst: Path) -> Path:
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    return dst


def _truncate_zero(s: Path) -> None:
    os.truncate(s / "flowfiles.db", 0)


def _delete(s: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (s / f"flowfiles.db{suffix}").unlink(missing_ok=True)


def _garble_wal_early(s: Path) -> None:
    wal = s / "flowfiles.db-wal"
    data = bytearray(wal.read_bytes())
    for i in range(40, 4096):  # the header's checksum area and the first frame
        data[i] ^= 0xFF
    wal.write_bytes(bytes(data))


def _checkpoint(s: Path) -> None:
    con = sqlite3.connect(s / "flowfiles.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _truncate_half(s: Path) -> None:
    _checkpoint(s)
    db = s / "flowfiles.db"
    os.truncate(db, db.stat().st_size // 2)


def _garble_middle(s: Path) -> None:
    _checkpoint(s)
    db = s / "flowfiles.db"
    data = bytearray(db.read_bytes())
    page = 4096
    for i in range(page * 2, len(data) - page):
        data[i] ^= 0xA5
    db.write_bytes(bytes(data))


def _garble_header(s: Path) -> None:
    _checkpoint(s)
    db = s / "flowfiles.db"
    data = bytearray(db.read_bytes())
    data[:16] = b"not a database!!"
    db.write_bytes(bytes(data))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated-to-zero": _truncate_zero,
    "deleted-with-wal-and-shm": _delete,
    "wal-garbled-early": _garble_wal_early,
    "truncated-to-half": _truncate_half,
    "garbled-middle": _garble_middle,
    "garbled-header": _garble_header,
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_repository_refuses_to_start_and_repair_quarantines(
    killed_state: Path, tmp_path: Path, damage: str
) -> None:
    state = _copy(killed_state, tmp_path / "state")
    before = _content(state)
    assert before
    DAMAGES[damage](state)
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW.replace("OUT", str(tmp_path / "out")))
    run = _cli("run", str(flow), "--state-dir", str(state), "--until-drained",
               "--timeout", "20", "--no-provenance")  # fmt: skip
    assert run.returncode == 6, run.stderr
    assert "Traceback" not in run.stderr
    assert "flowfiles.db" in run.stderr and "flowengine repair" in run.stderr
    assert _content(state) == before  # orphan reclaim touched nothing
    # Repair: salvage, quarantine (never delete), then the run starts.
    rep = _cli("repair", str(state))
    assert rep.returncode == 0, rep.stderr
    assert "Traceback" not in rep.stderr
    (quarantine,) = (state / "quarantine").iterdir()
    kept = _content(state)
    moved = {
        str(p.relative_to(quarantine / "content"))
        for p in (quarantine / "content").rglob("*")
        if p.is_file()
    }
    assert kept | moved == before and not kept & moved
    salvaged = _queued(state / "flowfiles.db")
    if damage in ("truncated-to-zero", "deleted-with-wal-and-shm", "garbled-header"):
        assert salvaged == 0 and not kept
    elif damage == "wal-garbled-early":
        assert salvaged < QUEUED
    else:
        assert salvaged <= QUEUED
    args = ["run", str(flow), "--state-dir", str(state), "--timeout", "3",
            "--no-provenance"]  # fmt: skip
    after = _cli(*args)
    lost_names = re.findall(r"(salvaged-queue-\d+) \(\d+ FlowFiles\)", after.stderr)
    if after.returncode == 6 and lost_names:
        # The queues table was damaged: the rows survive under a placeholder queue name,
        # which the user moves back into the flow with --migrate.
        for name in sorted(set(lost_names)):
            args += ["--migrate", f"{name}=gen:success->put"]
        after = _cli(*args)
    assert after.returncode in (0, 4), after.stderr
    assert "Traceback" not in after.stderr


def test_undamaged_killed_state_restarts(killed_state: Path, tmp_path: Path) -> None:
    """The check does not refuse a state directory merely left by a kill -9."""
    state = _copy(killed_state, tmp_path / "state")
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW.replace("OUT", str(tmp_path / "out")))
    run = _cli("run", str(flow), "--state-dir", str(state), "--timeout", "3",
               "--no-provenance")  # fmt: skip
    assert run.returncode == 4, run.stderr
    assert _queued(state / "flowfiles.db") >= QUEUED  # nothing lost; put waits for cron


def test_content_without_any_repository_is_not_reclaimed(tmp_path: Path) -> None:
    """No manifest, no database, but content: refuse (a pre-manifest directory's loss)."""
    state = tmp_path / "state"
    (state / "content" / "01").mkdir(parents=True)
    (state / "content" / "01" / "123-1").write_bytes(b"precious")
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW.replace("OUT", str(tmp_path / "out")))
    run = _cli("run", str(flow), "--state-dir", str(state), "--timeout", "3")
    assert run.returncode == 6, run.stderr
    assert (state / "content" / "01" / "123-1").read_bytes() == b"precious"
