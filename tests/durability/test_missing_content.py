"""A FlowFile whose content file is gone is taken out of its batch alone (issue 23.3).

PutFile, durable run: one content file of the queued FlowFiles deleted between runs.
The FlowFiles that referenced it go to ``failure`` with ``error.message``; every other
FlowFile of the batch is written exactly once (PutFile's default conflict resolution
'fail' would send a re-written file to failure) and the run drains.
"""

from __future__ import annotations

import threading
from pathlib import Path

import flowengine
from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
)

from .conftest import Collect, Gate, Source, referenced, run_flow, run_until_queued

FAILED: list[dict[str, str]] = []


class AttributesOnly(Processor):
    """Records the attributes of what it gets (its content may be gone), drops it."""

    input_requirement = InputRequirement.REQUIRED

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            FAILED.append(dict(ff.attributes))
            session.remove(ff)


Q = "src:success->gate"
TOTAL = 60


def _flow(out: Path) -> flowengine.Flow:
    f = flowengine.Flow("missing")
    f.add_processor(
        "src", Source, {"total": str(TOTAL), "per_trigger": "60", "size": "200000"}
    )
    f.add_processor("gate", Gate, {"key": "g"}, schedule={"batch_size": 100})
    f.add_processor(
        "put",
        "PutFile",
        {"directory": str(out)},
        schedule={"penalty_duration": "0.1 sec"},
    )
    f.add_processor("ok", Collect, {"key": "ok"}, schedule={"batch_size": 100})
    f.add_processor("bad", AttributesOnly)
    f.connect("src", "gate")
    f.connect("gate", "put")
    f.connect("put", "ok", ["success"])
    f.connect("put", "bad", ["failure"])
    return f


def test_missing_content_fails_one_flowfile_and_the_batch_commits_once(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    FAILED.clear()
    state, out = tmp_path / "state", tmp_path / "out"
    run_until_queued(_flow(out), state, Q, TOTAL).close()
    rows, resources = referenced(state)
    assert rows == TOTAL and len(resources) >= 2
    victim = sorted(resources)[len(resources) // 2]
    (state / "content" / victim).unlink()
    gate.set()
    res = run_flow(_flow(out), state, timeout=30)
    assert res.drained
    res.close()
    bad = FAILED
    ok = [a for a, _ in records["ok"]]
    assert bad and len(ok) + len(bad) == TOTAL
    assert all("missing" in a["error.message"] for a in bad)
    assert not any("exists" in a.get("putfile.failure.reason", "") for a in bad)
    assert sorted(p.name for p in out.iterdir()) == sorted(a["filename"] for a in ok)
