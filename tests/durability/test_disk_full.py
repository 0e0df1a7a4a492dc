"""Disk full on the content repository: processors yield with a bulletin and resume."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flowengine

from .conftest import Collect, Gate, Source, content_of, run_flow

pytestmark = pytest.mark.faults


def _flow(total: int, size: int, settings: dict[str, Any]) -> flowengine.Flow:
    f = flowengine.Flow("full")
    f.add_processor(
        "src",
        Source,
        {"total": str(total), "per_trigger": "1", "size": str(size)},
        schedule={"yield_duration": "0.2 sec"},
    )
    f.add_processor("gate", Gate, {"key": "g"})
    f.add_processor("sink", Collect, {"key": "out"})
    f.connect("src", "gate")
    f.connect("gate", "sink")
    f.settings.update(settings)
    return f


def _open_gate_on_full(
    gate: threading.Event,
) -> tuple[Any, threading.Thread, threading.Event]:
    """Watch the source's bulletins; open the gate once it reported a full repository."""
    holder: dict[str, Any] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.02):
            rt = holder.get("rt")
            if rt is not None and any(
                "content repository full" in b.message
                for b in rt.nodes["src"].bulletins
            ):
                gate.set()
                return

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return (lambda rt: holder.update(rt=rt)), t, stop


def _check(
    tmp_path: Path,
    total: int,
    size: int,
    settings: dict[str, Any],
    gate: threading.Event,
    records: dict,
) -> None:
    on_start, watcher, stop = _open_gate_on_full(gate)
    try:
        result = run_flow(
            _flow(total, size, settings), tmp_path, timeout=60, on_start=on_start
        )
    finally:
        stop.set()
        watcher.join()
    src = result.status.processor("src")
    result.close()
    assert result.drained
    assert any(
        b.level == "warning" and "content repository full" in b.message
        for b in src.bulletins
    )
    got = sorted((int(a["n"]), body) for a, body in records["out"])
    assert got == [
        (n, content_of(n, size)) for n in range(total)
    ]  # nothing lost or corrupted


def test_size_limited_repository_yields_and_resumes(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """With content_max_size reached the source yields with a bulletin, then finishes."""
    _check(
        tmp_path,
        40,
        4_000,
        {"content_max_size": "64 KB", "claim_max_appendable_size": "8 KB"},
        gate,
        records,
    )


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root and mount); skipped where it cannot be mounted."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
        capture_output=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_filesystem_yields_and_resumes(
    tmp_path: Path, tmpfs: Path, gate: threading.Event, records: dict
) -> None:
    """A real ENOSPC (1 MiB tmpfs) makes the source yield; it resumes as space frees."""
    state = tmp_path / "state"
    _check(
        state, 100, 30_000, {"content_directory": str(tmpfs / "content")}, gate, records
    )


# -- the CLI on small real filesystems (issue 23.6) -------------------------------------
def _mount(path: Path, size: str) -> None:
    path.mkdir(parents=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[list[Path]]:
    """Mount points created by the test (unmounted afterwards)."""
    made: list[Path] = []
    yield made
    for m in made:
        subprocess.run(["umount", "-l", str(m)], check=False)


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run(
        [sys.executable, "-m", "flowengine", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


GEN_PUT = """\
flow: diskfull
settings: {content_directory: "CONTENT"}
processors:
  gen:
    type: GenerateFlowFile
    properties: {file_size: 1 MB, batch_size: 10, unique_flowfiles: "true"}
    schedule: {max_triggers: 10, period: 0 sec, yield_duration: 0.1 sec}
  put:
    type: PutFile
    properties: {directory: "OUT", conflict_resolution_strategy: replace}
    auto_terminate: [success, failure]
connections:
  - gen -> put
"""


def test_full_content_disk_does_not_count_failed_triggers(
    tmp_path: Path, mounts: list[Path]
) -> None:
    """16 MB for content, 100 MB generated: triggers that hit ENOSPC are retried, not
    counted; all 100 FlowFiles arrive; no partial content file is left."""
    mnt = tmp_path / "small"
    _mount(mnt, "16m")
    mounts.append(mnt)
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        GEN_PUT.replace("CONTENT", str(mnt / "content")).replace(
            "OUT", str(tmp_path / "out")
        )
    )
    run = _cli("run", str(flow), "--state-dir", str(tmp_path / "state"),
               "--until-drained", "--timeout", "90", "--no-provenance")  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert len(list((tmp_path / "out").iterdir())) == 100
    left = [p for p in (mnt / "content").rglob("*") if p.is_file()]
    assert left == [], [(p.name, p.stat().st_size) for p in left]


def test_no_space_at_start_is_a_clear_error(tmp_path: Path, mounts: list[Path]) -> None:
    mnt = tmp_path / "full"
    _mount(mnt, "1m")
    mounts.append(mnt)
    with open(mnt / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        GEN_PUT.replace("CONTENT", str(mnt / "state" / "content")).replace(
            "OUT", str(tmp_path / "out")
        )
    )
    run = _cli("run", str(flow), "--state-dir", str(mnt / "state"), "--until-drained",
               "--timeout", "30")  # fmt: skip
    assert run.returncode == 6, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert "no space left" in run.stderr


def test_putfile_target_full_logs_a_warning_with_the_reason(
    tmp_path: Path, mounts: list[Path]
) -> None:
    mnt = tmp_path / "target"
    _mount(mnt, "1m")
    mounts.append(mnt)
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        GEN_PUT.replace("CONTENT", str(tmp_path / "content"))
        .replace("OUT", str(mnt))
        .replace("file_size: 1 MB", "file_size: 300 KB")
        .replace("max_triggers: 10", "max_triggers: 1")
    )  # fmt: skip
    run = _cli("run", str(flow), "--state-dir", str(tmp_path / "state"),
               "--until-drained", "--timeout", "60", "--no-provenance")  # fmt: skip
    assert run.returncode == 3, run.stderr[-3000:]  # failures reached auto-terminate
    assert "flowfiles_routed_to_failure" in run.stderr
    assert "No space left on device" in run.stderr
    assert not [p for p in mnt.iterdir() if p.name.endswith(".tmp")]
