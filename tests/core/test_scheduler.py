"""Scheduler: back pressure, run-until-drained, concurrency, errors, timers."""

from __future__ import annotations

import time
from typing import Any

import pytest

import flowengine
from flowengine.testing import VirtualClock


def run(flow: flowengine.Flow, **kw: Any) -> flowengine.RunResult:
    kw.setdefault("timeout", 30)
    return flow.run(**kw)


def test_back_pressure_bounds_the_queue_and_the_source_resumes(types) -> None:
    """Threshold 100, batch 10: a fast source never pushes the queue past 110."""
    f = flowengine.Flow("bp")
    f.add_processor("src", types.Source, {"count": 10}, schedule={"max_triggers": 60})
    f.add_processor("sink", types.Sink, {"delay": "5 ms"}, schedule={"batch_size": 7})
    f.connect("src", "sink", back_pressure_objects=100)
    peak = {"n": 0}

    def instrument(runtime: Any) -> None:
        conn = runtime.connections[0]
        original = conn.offer

        def offer(ffs: Any) -> None:
            original(ffs)
            st = conn.statistics()
            peak["n"] = max(peak["n"], st.queued_count + st.in_flight_count)

        conn.offer = offer

    res = run(f, on_start=instrument)
    assert res.drained
    assert res.counts["sink"].flowfiles_in == 600  # the source resumed every time
    assert 100 <= peak["n"] <= 110


@pytest.mark.parametrize("shape", ["linear", "fan-out", "fan-in", "funnel"])
def test_run_until_drained_terminates(types, shape: str) -> None:
    """Drain mode ends once sources finish and queues empty, for common shapes."""
    f = flowengine.Flow(shape)
    f.add_processor("a", types.Source, {"count": 5}, schedule={"max_triggers": 3})
    f.add_processor("p", types.Pass)
    f.add_processor("s", types.Sink)
    if shape == "linear":
        f.connect("a", "p")
        f.connect("p", "s")
        expected = 15
    elif shape == "fan-out":
        f.add_processor("s2", types.Sink)
        f.connect("a", "p")
        f.connect("p", "s")
        f.connect("p", "s2")
        expected = 15
    elif shape == "fan-in":
        f.add_processor("b", types.Source, {"count": 2}, schedule={"max_triggers": 2})
        f.connect("a", "p")
        f.connect("b", "p")
        f.connect("p", "s")
        expected = 19
    else:
        f.add_funnel("fun")
        f.add_processor("b", types.Source, {"count": 1}, schedule={"max_triggers": 1})
        f.connect("a", "fun")
        f.connect("b", "fun")
        f.connect("fun", "p")
        f.connect("p", "s")
        expected = 16
    res = run(f)
    assert res.drained and not res.timed_out
    assert res.counts["s"].flowfiles_in == expected


def test_drain_with_self_loop_and_penalties(types) -> None:
    """A self-loop that penalizes each FlowFile twice still drains (virtual time)."""
    f = flowengine.Flow("loop")
    f.add_processor("a", types.Source, {"count": 4}, schedule={"max_triggers": 1})
    f.add_processor("retry", types.RetryUntil, {"times": 3})
    f.add_processor("s", types.Sink)
    f.connect("a", "retry")
    f.connect("retry", "retry", ["retry"])
    f.connect("retry", "s")
    started = time.monotonic()
    res = run(f, clock=VirtualClock())
    assert res.drained
    assert res.counts["s"].flowfiles_in == 4
    assert res.counts["retry"].relationship_counts["retry"] == 8
    assert time.monotonic() - started < 10  # 2 x 30 s penalties, virtually


def test_nested_groups_drain(types) -> None:
    """FlowFiles cross three group levels through ports and the run drains."""
    f = flowengine.Flow("nested")
    f.add_processor("a", types.Source, {"count": 3}, schedule={"max_triggers": 2})
    g1 = f.add_group("g1")
    g1.add_input_port("in")
    g1.add_output_port("out")
    g2 = g1.add_group("g2")
    g2.add_input_port("in")
    g2.add_output_port("out")
    g3 = g2.add_group("g3")
    g3.add_input_port("in")
    g3.add_output_port("out")
    g3.add_processor("deep", types.Pass)
    g3.connect("in", "deep")
    g3.connect("deep", "out")
    g2.connect("in", "g3.in")
    g2.connect("g3.out", "out")
    g1.connect("in", "g2.in")
    g1.connect("g2.out", "out")
    f.add_processor("s", types.Sink)
    f.connect("a", "g1.in")
    f.connect("g1.out", "s")
    res = run(f)
    assert res.drained
    assert res.counts["g1.g2.g3.deep"].flowfiles_in == 6
    assert res.counts["s"].flowfiles_in == 6


def test_sync_processor_tasks_run_in_parallel_threads(types) -> None:
    """4 concurrent tasks of a sync processor overlap in different threads."""
    f = flowengine.Flow("threads")
    f.add_processor("a", types.Source, {"count": 16}, schedule={"max_triggers": 1})
    f.add_processor("c", types.Concurrency, schedule={"concurrent_tasks": 4})
    f.add_processor("s", types.Sink)
    f.connect("a", "c")
    f.connect("c", "s")
    seen: dict[str, Any] = {}
    res = run(f, on_start=lambda rt: seen.update(proc=rt.nodes["c"].processor))
    assert res.drained
    proc = seen["proc"]
    assert proc.peak >= 3
    assert len(proc.threads) >= 3


def test_async_processor_runs_many_triggers_concurrently(types) -> None:
    """An async processor with 10 tasks overlaps its triggers on the event loop."""
    f = flowengine.Flow("async")
    f.add_processor("a", types.Source, {"count": 20}, schedule={"max_triggers": 1})
    f.add_processor("c", types.AsyncConcurrency, schedule={"concurrent_tasks": 10})
    f.add_processor("s", types.Sink)
    f.connect("a", "c")
    f.connect("c", "s")
    seen: dict[str, Any] = {}
    started = time.monotonic()
    res = run(f, on_start=lambda rt: seen.update(proc=rt.nodes["c"].processor))
    assert res.drained
    assert seen["proc"].peak >= 8
    assert len(seen["proc"].threads) == 1  # all on the loop thread
    assert time.monotonic() - started < 20 * 0.05  # not serialized


def test_exception_in_on_trigger_loses_nothing(types) -> None:
    """A raising trigger rolls back (penalized), posts a bulletin, and work completes later."""
    f = flowengine.Flow("fail")
    f.add_processor("a", types.Source, {"count": 5}, schedule={"max_triggers": 1})
    f.add_processor("x", types.FailOnce)
    f.add_processor("s", types.Sink)
    f.connect("a", "x")
    f.connect("x", "s")
    res = run(f, clock=VirtualClock(), administrative_yield=1.0)
    assert res.drained
    st = res.counts["x"]
    assert st.errors == 1
    assert "RuntimeError: boom" in st.bulletins[0].message
    assert res.counts["s"].flowfiles_in == 5


def test_max_triggers_and_timer_period_in_virtual_time(types) -> None:
    """A 1-hour timer with max_triggers 3 finishes at once under a virtual clock."""
    f = flowengine.Flow("timer")
    f.add_processor(
        "a",
        types.Source,
        {"count": 1},
        schedule={"period": "1 hour", "max_triggers": 3},
    )
    f.add_processor("s", types.Sink)
    f.connect("a", "s")
    clock = VirtualClock()
    before = clock.monotonic()
    res = run(f, clock=clock)
    assert res.drained
    assert res.counts["a"].triggers == 3
    assert clock.monotonic() - before >= 7200 - 1e-6  # float sums of virtual sleeps


def test_cron_schedule_in_virtual_time(types) -> None:
    """A cron source fires on the schedule (every 10 s) in virtual time."""
    f = flowengine.Flow("cron")
    f.add_processor(
        "a",
        types.Source,
        schedule={"strategy": "cron", "cron": "*/10 * * * * ?", "max_triggers": 3},
    )
    f.add_processor("s", types.Sink)
    f.connect("a", "s")
    clock = VirtualClock()
    before = clock.time_ms()
    res = run(f, clock=clock)
    assert res.drained
    assert 10_000 <= clock.time_ms() - before <= 40_000


def test_timeout_reports_not_drained(types) -> None:
    """A source that never finishes makes a drain run time out (exit code 4)."""
    f = flowengine.Flow("forever")
    f.add_processor("a", types.Source, schedule={"period": "10 ms"})
    f.add_processor("s", types.Sink)
    f.connect("a", "s")
    res = run(f, timeout=0.3)
    assert res.timed_out and not res.drained
    assert res.exit_code == 4


def test_failures_reaching_auto_terminated_failure_are_reported(types) -> None:
    """FlowFiles auto-terminated on a failure relationship make exit code 3."""

    @flowengine.transform
    def explode(flowfile: flowengine.FlowFile, content: bytes) -> bytes:
        raise ValueError("bad record")

    f = flowengine.Flow("fails")
    f.add_processor("a", types.Source, {"count": 2}, schedule={"max_triggers": 1})
    f.add_processor("t", explode, auto_terminate=["success", "failure"])
    f.connect("a", "t")
    res = run(f)
    assert res.drained and not res.ok
    assert res.exit_code == 3
    assert [(x.processor, x.relationship, x.count) for x in res.failures] == [
        ("t", "failure", 2)
    ]


def test_process_exception_does_not_yield_the_processor(types) -> None:
    """ProcessException is reported without the administrative yield."""
    f = flowengine.Flow("pe")
    f.add_processor("a", types.Source, schedule={"max_triggers": 1})
    f.add_processor("r", types.Raises)
    f.connect("a", "r")
    f.connect("r", "r", ["success"])
    res = run(f, timeout=0.5, clock=VirtualClock())
    assert res.counts["r"].errors >= 2  # retried after the penalty, not 30 s later
