"""A damaged provenance segment is skipped with a warning; queries and the flow go on."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowengine._api._provenance import ProvenanceEvent, ProvenanceEventType
from flowengine._repository._durable import ParquetProvenanceRepository

pytestmark = pytest.mark.faults


def _event(uuid: str, component: str) -> ProvenanceEvent:
    now = int(time.time() * 1000)
    return ProvenanceEvent(
        event_type=ProvenanceEventType.CREATE,
        flowfile_uuid=uuid,
        component_id=component,
        component_type="GenerateFlowFile",
        timestamp_ms=now,
        attributes={"uuid": uuid},
        size=1,
        lineage_start_date=now,
        entry_date=now,
    )


def _three_segments(directory: Path) -> list[Path]:
    repo = ParquetProvenanceRepository(directory, flush_events=1_000_000)
    for i in range(3):
        repo.register([_event(f"u{i}-{j}", "fetch") for j in range(50)])
        repo.flush()
    repo.close()
    segs = repo.segments()
    assert len(segs) == 3
    return segs


def _garble(p: Path) -> None:
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    for i in range(8, mid):  # keep the magic, wreck the compressed pages
        data[i] ^= 0x5A
    p.write_bytes(bytes(data))


def _truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [_garble, _truncate], ids=["garbled", "truncated"])
def test_query_skips_a_damaged_segment_and_answers_from_the_others(
    tmp_path: Path, damage: object
) -> None:
    segs = _three_segments(tmp_path / "provenance")
    damage(segs[1])  # type: ignore[operator]
    repo = ParquetProvenanceRepository(tmp_path / "provenance", read_only=True)
    found = repo.query(component="fetch")
    assert {e.flowfile_uuid[:2] for e in found} == {"u0", "u2"}
    assert len(found) == 100
    assert repo.unreadable_segments == [segs[1]]
    assert repo.lineage("u0-1")[0].flowfile_uuid == "u0-1"
    # The CLI: no traceback, a warning naming the segment, the other events printed.
    proc = subprocess.run(
        [sys.executable, "-m", "flowengine", "provenance", str(tmp_path),
         "--component", "fetch", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "provenance_segment_unreadable" in proc.stderr
    assert segs[1].name in proc.stderr
    assert proc.stdout.count('"flowfile_uuid"') == 100


def test_a_writable_repository_with_a_damaged_segment_keeps_recording(
    tmp_path: Path,
) -> None:
    """The run's repository opens over a damaged segment and keeps writing new ones."""
    segs = _three_segments(tmp_path)
    _truncate(segs[0])
    repo = ParquetProvenanceRepository(tmp_path, flush_events=1_000_000)
    repo.register([_event("new", "fetch")])
    repo.flush()
    assert [e.flowfile_uuid for e in repo.query(uuid="new")] == ["new"]
    assert len(repo.query(component="fetch")) == 101
    repo.close()


def test_the_writer_thread_survives_write_errors(tmp_path: Path) -> None:
    """A failing write (here: the directory vanished) is logged and retried, not fatal."""
    repo = ParquetProvenanceRepository(tmp_path / "p", flush_interval=0.05)
    (tmp_path / "p").rmdir()
    repo.register([_event("a", "fetch")])
    deadline = time.monotonic() + 10
    while repo.last_error is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert repo.last_error is not None
    assert repo._thread is not None and repo._thread.is_alive()
    (tmp_path / "p").mkdir()
    deadline = time.monotonic() + 10
    while repo.last_error is not None and time.monotonic() < deadline:
        repo._wake.set()
        time.sleep(0.05)
    assert repo.last_error is None
    assert [e.flowfile_uuid for e in repo.query(uuid="a")] == ["a"]
    repo.close()
