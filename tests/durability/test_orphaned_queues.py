"""FlowFiles queued for a connection the flow no longer has: refuse, migrate or drop
(issue 23.9). The CLI is run as a subprocess; the state comes from a real earlier run."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

FLOW = """\
flow: rename
processors:
  gen:
    type: GenerateFlowFile
    properties: {file_size: 10 B, batch_size: 25}
    schedule: {max_triggers: 2, period: 0 sec}
  SINK:
    type: PutFile
    properties: {directory: "OUT"}
    schedule: {cron: "CRON"}
    auto_terminate: [success, failure]
connections:
  - gen -> SINK
"""
NEVER = "0 0 0 1 1 ?"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowengine", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _flow(tmp: Path, sink: str, cron: str = NEVER) -> Path:
    f = tmp / f"flow-{sink}.yaml"
    f.write_text(
        FLOW.replace("SINK", sink)
        .replace("OUT", str(tmp / "out"))
        .replace("CRON", cron)
    )
    return f


def _queues(state: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{state}/flowfiles.db?mode=ro", uri=True)
    try:
        return dict(
            con.execute(
                "SELECT q.name, count(f.seq) FROM queues q JOIN flowfiles f"
                " ON f.queue = q.id GROUP BY q.name"
            )
        )
    finally:
        con.close()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """50 FlowFiles queued for ``slow`` (whose cron never fires during the run)."""
    state = tmp_path / "state"
    run = _cli("run", str(_flow(tmp_path, "slow")), "--state-dir", str(state),
               "--timeout", "3")  # fmt: skip
    assert run.returncode == 4, run.stderr
    (queue,) = _queues(state)
    assert _queues(state)[queue] == 50
    return state


def _old_queue(state: Path) -> str:
    (queue,) = _queues(state)
    return queue


def test_renamed_processor_refuses_to_start_naming_connections(
    state: Path, tmp_path: Path
) -> None:
    old = _old_queue(state)
    run = _cli("run", str(_flow(tmp_path, "slower")), "--state-dir", str(state),
               "--until-drained", "--timeout", "20")  # fmt: skip
    assert run.returncode == 6, run.stderr
    assert "Traceback" not in run.stderr
    assert f"{old} (50 FlowFiles)" in run.stderr
    assert "--migrate" in run.stderr and "--drop-orphans" in run.stderr
    assert _queues(state) == {old: 50}  # nothing changed
    # Renaming back recovers them.
    back = _cli("run", str(_flow(tmp_path, "slow", "* * * * * ?")), "--state-dir",
                str(state), "--until-drained", "--timeout", "30")  # fmt: skip
    assert back.returncode == 0, back.stderr
    assert len(list((tmp_path / "out").iterdir())) == 100  # 50 restored + 50 new


def test_migrate_moves_them_to_the_new_connection(state: Path, tmp_path: Path) -> None:
    old = _old_queue(state)
    new = old.replace("slow", "slower")
    assert new != old
    bad = _cli("run", str(_flow(tmp_path, "slower")), "--state-dir", str(state),
               "--migrate", "nothing")  # fmt: skip
    assert bad.returncode == 2 and "expected OLD=NEW" in bad.stderr
    run = _cli("run", str(_flow(tmp_path, "slower", "* * * * * ?")), "--state-dir",
               str(state), "--until-drained", "--timeout", "30",
               "--migrate", f"{old}={new}")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert len(list((tmp_path / "out").iterdir())) == 100


def test_drop_orphans_records_drop_events(state: Path, tmp_path: Path) -> None:
    old = _old_queue(state)
    run = _cli("run", str(_flow(tmp_path, "slower", "* * * * * ?")), "--state-dir",
               str(state), "--until-drained", "--timeout", "30",
               "--drop-orphans")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "orphaned_flowfiles_dropped" in run.stderr
    assert len(list((tmp_path / "out").iterdir())) == 50  # only the new ones
    prov = _cli("provenance", str(state), "--component", old, "--type", "DROP",
                "--json")  # fmt: skip
    assert prov.returncode == 0, prov.stderr
    assert len(json.loads(prov.stdout)) == 50
