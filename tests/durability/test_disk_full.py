"""Disk full on the content repository: processors yield with a bulletin and resume."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flowengine
from flowengine._cli._live import status_fields

from .conftest import Collect, Gate, Source, content_files, content_of, run_flow

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


# -- the whole state directory fills mid-run (issue 23.6) -------------------------------
def _fill(path: Path) -> None:
    """Append to ``path`` until the filesystem has not one byte left (unbuffered writes,
    smaller and smaller, so nothing is left for a close to fail on)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        chunk = 1 << 20
        while chunk:
            try:
                os.write(fd, b"\0" * chunk)
            except OSError:
                chunk //= 2
    finally:
        os.close(fd)


def test_whole_state_directory_full_mid_run_recovers(
    tmp_path: Path, mounts: list[Path], gate: threading.Event, records: dict
) -> None:
    """The whole state directory (FlowFile repository, content, provenance) on an 8 MiB
    tmpfs, kept full by another writer: the provenance writer and the FlowFile
    repository's checkpoint fail, the threads survive with retries, and the status
    shows their errors; the cleaner still deletes released content (the checkpoint
    falls back to an fsync of the WAL, which needs no space: in the issue the disk
    refilled with content nobody referenced and the flow stalled until a restart).
    Once the filler is deleted the errors clear and the flow drains, nothing lost."""
    state = tmp_path / "state"
    _mount(state, "8m")
    mounts.append(state)
    total, size = 200, 20_000
    f = flowengine.Flow("fill")
    f.add_processor(
        "src",
        Source,
        {"total": str(total), "per_trigger": "2", "size": str(size)},
        schedule={"yield_duration": "0.1 sec"},
    )
    f.add_processor("sink", Collect, {"key": "out"})
    f.connect("src", "sink")
    # FlowFiles without content, with 3 KB of attributes each, pile up at a closed
    # gate: the FlowFile repository keeps growing, so a checkpoint has to extend the
    # database file, which a full disk refuses (as in the run). The gate also
    # keeps the run from draining until the test has seen every thread recover.
    f.add_processor(
        "hold",
        "GenerateFlowFile",
        {"file_size": "0 B", "batch_size": "5", "padding": "p" * 3000},
        schedule={"period": "20 ms", "max_triggers": 100},
    )
    f.add_processor("gate", Gate, {"key": "g"})
    f.add_processor("held", Collect, {"key": "held"})
    f.connect("hold", "gate")
    f.connect("gate", "held")
    f.settings.update({"claim_max_appendable_size": "1 KB"})
    seen: dict[str, Any] = {}
    stop = threading.Event()
    tasks = {"content-cleanup", "flowfile-checkpoint", "provenance-writer"}

    def until(check: Any, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stop.is_set():
            if check():
                return True
            time.sleep(0.02)
        return False

    def watch(rt: Any) -> None:
        try:
            until(lambda: len(records.get("out", ())) >= 40, 30)
            seen["deleted_before"] = rt.content.deleted

            def failing() -> bool:
                # another program keeps the disk full: what the cleaner frees is
                # taken again at once
                _fill(state / "filler")
                st = rt.status()
                now = {t.name for t in st.background if t.failing}
                if {"flowfile-checkpoint", "provenance-writer"} <= now:
                    seen["while_full"] = st
                    return True
                return False

            until(failing, 30)
            seen["deleted_while_full"] = rt.content.deleted
            (state / "filler").unlink()

            def recovered() -> bool:
                st = rt.status()
                return not any(t.failing for t in st.background)

            until(recovered, 75)  # the provenance writer backs off to at most 60 s
            seen["after_free"] = rt.status()
        finally:
            gate.set()

    def on_start(rt: Any) -> None:
        threading.Thread(target=watch, args=(rt,), daemon=True).start()

    try:
        result = run_flow(f, state, timeout=150, on_start=on_start)
    finally:
        stop.set()
    final = result.status
    result.close()

    full = seen.get("while_full")
    assert full is not None, "the disk was kept full, yet no background task failed"
    assert {t.name for t in full.background} == tasks
    checkpoint = full.background_task("flowfile-checkpoint")
    assert checkpoint.last_error and "disk is full" in checkpoint.last_error
    assert checkpoint.last_error_ms
    writer = full.background_task("provenance-writer")
    assert writer.last_error and "No space left" in writer.last_error
    assert any(
        b.component == "provenance-writer" and "failing" in b.message
        for b in full.bulletins
    )
    assert {"flowfile-checkpoint", "provenance-writer"} <= set(
        status_fields(full)["background_errors"]
    )
    # released content was still deleted on the full disk (no deadlock)
    assert seen["deleted_while_full"] > seen["deleted_before"]

    after = seen.get("after_free")
    assert after is not None, "a background task did not recover once space was freed"
    for name in ("flowfile-checkpoint", "provenance-writer"):
        t = after.background_task(name)
        assert t.state == "ok" and t.last_error is None
        assert t.failures >= 1 and t.recovered_ms
    assert "background_errors" not in status_fields(final)  # cleared on recovery
    assert any("recovered" in b.message for b in final.bulletins)

    assert result.drained
    # at least once: a trigger whose commit met the full disk was rolled back and its
    # FlowFiles delivered again, so Collect may have seen some twice
    got = sorted({(int(a["n"]), body) for a, body in records["out"]})
    assert got == [(n, content_of(n, size)) for n in range(total)]  # nothing lost
    assert len({a["uuid"] for a, _ in records["held"]}) == 500
    assert content_files(state) == set()


def test_a_commit_refused_by_a_full_repository_leaks_no_content(
    tmp_path: Path, records: dict
) -> None:
    """The FlowFile repository refuses the first commits (disk full): the rolled-back
    sessions release the content they wrote, so nothing is left on disk once the run
    drained (the claims had already moved to the queues, and stayed counted forever)."""
    from flowengine._errors import ContentRepositoryFullError

    f = flowengine.Flow("refused")
    f.add_processor(
        "src",
        Source,
        {"total": "10", "per_trigger": "2", "size": "20000"},
        schedule={"yield_duration": "0.05 sec"},
    )
    f.add_processor("sink", Collect, {"key": "out"})
    f.connect("src", "sink")
    f.settings.update({"claim_max_appendable_size": "1 KB"})
    refusals = [3]

    def on_start(rt: Any) -> None:
        repo = rt.flowfile_repository
        commit = repo.commit

        def refusing(delta: Any) -> None:
            if refusals[0] and delta.placed:
                refusals[0] -= 1
                raise ContentRepositoryFullError("FlowFile repository: disk full")
            commit(delta)

        repo.commit = refusing

    with run_flow(f, tmp_path / "state", timeout=60, on_start=on_start) as result:
        assert result.drained
    assert refusals == [0]
    got = sorted({(int(a["n"]), body) for a, body in records["out"]})
    assert got == [(n, content_of(n, 20000)) for n in range(10)]
    assert content_files(tmp_path / "state") == set()
