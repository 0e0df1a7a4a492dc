"""Schedule semantics docs/flow-format.md states: when the first trigger happens."""

from __future__ import annotations

import flowengine
from flowengine.testing import VirtualClock


def first_trigger_after(schedule: dict[str, object]) -> tuple[int, float]:
    """(triggers, virtual seconds) for a one-shot generator with ``schedule``."""
    flow = flowengine.Flow("first")
    flow.add_processor(
        "gen",
        "GenerateFlowFile",
        {"custom_text": "x"},
        schedule={**schedule, "max_triggers": 1},
        auto_terminate=["success"],
    )
    clock = VirtualClock()
    start = clock.time_ms()
    with flow.run(until_drained=True, timeout=60, clock=clock) as result:
        assert result.drained
        triggers = result.status.processor("gen").triggers
    return triggers, (clock.time_ms() - start) / 1000


def test_timer_processor_first_fires_at_start() -> None:
    """A timer-driven processor triggers as the flow starts, then every period."""
    assert first_trigger_after({"period": "1 hour"}) == (1, 0.0)


def test_cron_processor_first_fires_at_the_next_matching_time() -> None:
    """A cron processor waits for its expression (midnight, January 1st) as NiFi does."""
    triggers, seconds = first_trigger_after({"cron": "0 0 0 1 1 ?"})
    assert triggers == 1
    assert 0 < seconds <= 366 * 86400
