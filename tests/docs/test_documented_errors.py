"""A failing trigger's bulletin and log line name the processor and the FlowFile."""

from __future__ import annotations

import structlog

from flowengine import ProcessContext, Processor, ProcessSession, Relationship
from flowengine.testing import TestRunner


class Boom(Processor):
    """Takes a batch and fails."""

    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        if session.get(context.batch_size):
            raise ValueError("bad bytes")


def test_failure_with_one_flowfile_names_it() -> None:
    """One FlowFile in the failed session: its uuid is in the bulletin and the log."""
    runner = TestRunner(Boom)
    runner.enqueue(b"x")
    with structlog.testing.capture_logs() as logs:
        runner.run()
    [bulletin] = runner.bulletins
    assert bulletin.message == "ValueError: bad bytes"
    assert bulletin.flowfile_uuid is not None
    [line] = [e for e in logs if e["event"] == "flowfile_isolated_penalized"]
    assert line["flowfile"] == bulletin.flowfile_uuid
    assert "traceback" not in line
    assert runner.queue_size() == 1 and runner.penalized_count() == 1


def test_failure_with_a_batch_counts_it() -> None:
    """A failed batch is counted in one log line, no single FlowFile blamed; then each
    FlowFile, retried alone, is named once (isolation rule), not once per retry."""
    runner = TestRunner(Boom)
    for i in range(3):
        runner.enqueue(str(i))
    with structlog.testing.capture_logs() as logs:
        runner.run()
    [line] = [e for e in logs if e["event"] == "batch_failed_isolating"]
    assert line["flowfiles"] == 3 and "traceback" not in line
    assert runner.bulletins[0].flowfile_uuid is None
    alone = [e["flowfile"] for e in logs if e["event"] == "flowfile_isolated_penalized"]
    assert len(alone) == len(set(alone)) == 3
    assert runner.queue_size() == 3 and runner.penalized_count() == 3
