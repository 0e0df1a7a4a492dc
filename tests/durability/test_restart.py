"""Restart recovery: queued FlowFiles, their order and content, state, orphans, sync modes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import flowengine
from flowengine._errors import StateDirectoryError

from .conftest import (
    Collect,
    Gate,
    Source,
    content_files,
    content_of,
    referenced,
    run_flow,
    run_until_queued,
)

Q = "src:success->gate"


def _gated_flow(
    total: int, per_trigger: int = 100, size: int = 0, sink: str = "sink"
) -> flowengine.Flow:
    f = flowengine.Flow("restart")
    f.add_processor(
        "src",
        Source,
        {"total": str(total), "per_trigger": str(per_trigger), "size": str(size)},
    )
    f.add_processor("gate", Gate, {"key": "g"}, schedule={"batch_size": 100})
    f.add_processor(sink, Collect, {"key": "out"}, schedule={"batch_size": 100})
    f.connect("src", "gate")
    f.connect("gate", sink)
    return f


def test_restart_restores_every_committed_flowfile_in_order(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """FlowFiles queued when a run stops come back in the same queue, same order, same content."""
    first = run_until_queued(_gated_flow(2_500, size=300), tmp_path, Q, 2_500)
    queued = {c.id: c.queued_count for c in first.status.connections}
    first.close()
    assert queued["src:success->gate"] == 2_500
    assert referenced(tmp_path)[0] == 2_500
    gate.set()
    second = run_flow(_gated_flow(2_500, size=300), tmp_path)
    assert second.drained
    got = records["out"]
    assert [int(a["n"]) for a, _ in got] == list(range(2_500))
    assert all(body == content_of(int(a["n"]), 300) for a, body in got)
    second.close()
    assert referenced(tmp_path) == (0, set())
    assert content_files(tmp_path) == set()


def test_component_state_is_committed_with_the_flowfiles(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """A source's state survives a restart with its FlowFiles: nothing is emitted twice."""
    run_until_queued(_gated_flow(300, per_trigger=50), tmp_path, Q, 300).close()
    gate.set()
    run_flow(_gated_flow(300, per_trigger=50), tmp_path).close()
    assert sorted(int(a["n"]) for a, _ in records["out"]) == list(range(300))


def test_orphaned_flowfiles_refuse_the_run_and_come_back_with_their_queue(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """FlowFiles whose queue left the flow make the run refuse to start (NiFi refuses to
    remove a connection holding FlowFiles); they stay and come back with the queue."""
    run_until_queued(_gated_flow(200), tmp_path, Q, 200).close()
    edited = flowengine.Flow("restart")
    edited.add_processor("other", Source, {"total": "1"})
    edited.add_processor("sink2", Collect, {"key": "other"})
    edited.connect("other", "sink2")
    with pytest.raises(StateDirectoryError, match=r"\(200 FlowFiles\)"):
        run_flow(edited, tmp_path)
    assert referenced(tmp_path)[0] == 200
    gate.set()
    run_flow(_gated_flow(200), tmp_path).close()
    assert len(records["out"]) == 200


def test_sync_always_round_trip(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """With sync: always every commit is fsynced (content too) and restarts restore it."""
    flow = _gated_flow(400, size=2_000)
    flow.settings["sync"] = "always"
    run_until_queued(flow, tmp_path, Q, 400).close()
    gate.set()
    run_flow(flow, tmp_path).close()
    assert sorted(int(a["n"]) for a, _ in records["out"]) == list(range(400))
    assert content_files(tmp_path) == set()


def test_second_run_on_a_busy_state_dir_is_refused(tmp_path: Path) -> None:
    """Two runs cannot share a state directory (the lock file is held)."""
    from flowengine._repository._durable import open_durable_repositories

    repos = open_durable_repositories(tmp_path, flow="x", provenance=False, settings={})
    try:
        with pytest.raises(flowengine.FlowEngineError, match="in use"):
            open_durable_repositories(tmp_path, flow="x", provenance=False, settings={})
    finally:
        repos.flowfiles.close()
        repos.content.close()


def test_unknown_sync_mode_is_refused(tmp_path: Path) -> None:
    """``sync`` accepts only normal or always, and says so."""
    from flowengine._repository._durable import open_durable_repositories

    with pytest.raises(flowengine.FlowEngineError, match="'normal' or 'always'"):
        open_durable_repositories(
            tmp_path, flow="x", provenance=False, settings={"sync": "sometimes"}
        )
    repos = open_durable_repositories(
        tmp_path, flow="x", provenance=False, settings={}
    )  # lock released
    repos.flowfiles.close()
    repos.content.close()
