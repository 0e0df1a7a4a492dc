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
