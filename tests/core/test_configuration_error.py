"""ConfigurationError: a processor that cannot work as configured stops a drained run
(exit code 5, FlowFiles kept) and, as a service, backs off with a rate-limited log."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import structlog

import flowengine
from flowengine import (
    ConfigurationError,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    Relationship,
)
from flowengine.testing import VirtualClock


class Misconfigured(Processor):
    """Takes a batch and raises ConfigurationError for the first ``fail_times``
    triggers (then passes FlowFiles to success); records when it was triggered and
    can stop the run after ``stop_after`` virtual seconds."""

    input_requirement = InputRequirement.REQUIRED
    SUCCESS = Relationship("success")
    FAILURE = Relationship("failure")
    fail_times: ClassVar[int] = 1_000_000
    stop_after: ClassVar[float] = 0.0
    calls: ClassVar[list[float]] = []
    runtime: ClassVar[Any] = None

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(context.batch_size)
        if not flowfiles:
            return
        cls = type(self)
        cls.calls.append(context.monotonic())
        if cls.stop_after and cls.calls[-1] - cls.calls[0] > cls.stop_after:
            cls.runtime.request_stop()
        if len(cls.calls) <= cls.fail_times:
            raise ConfigurationError(
                "bucket 'raw' does not exist",
                code="NoSuchBucket",
                resource="s3://raw/in/",
                hint="the Bucket property",
            )
        session.transfer(flowfiles, self.SUCCESS)


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """The engine's log events, captured; structlog left unconfigured afterwards if
    it was (capture_logs configures it, which would change the engine's logger for
    the tests that follow)."""
    was_configured = structlog.is_configured()
    with structlog.testing.capture_logs() as captured:
        yield captured
    if not was_configured:
        structlog.reset_defaults()


def _flow(types: Any, **schedule: Any) -> flowengine.Flow:
    Misconfigured.calls = []
    Misconfigured.fail_times = 1_000_000
    Misconfigured.stop_after = 0.0
    f = flowengine.Flow("cfg")
    f.add_processor("src", types.Source, {"count": 4}, schedule={"max_triggers": 1})
    f.add_processor(
        "put", Misconfigured, schedule=schedule, auto_terminate=["success", "failure"]
    )
    f.connect("src", "put")
    return f


def test_drained_run_halts_with_exit_5_and_keeps_flowfiles(types: Any) -> None:
    """Three failed attempts in a row end a drained run: exit code 5, the reason in
    ``halted``, nothing routed to failure and every FlowFile still queued."""
    f = _flow(types, yield_duration="50 ms")
    started = time.monotonic()
    with f.run(until_drained=True, timeout=30) as res:
        assert time.monotonic() - started < 10
        assert res.exit_code == 5
        assert not res.ok and not res.drained and not res.timed_out
        [halt] = res.halted
        assert (halt.processor, halt.code, halt.resource, halt.hint) == (
            "put",
            "NoSuchBucket",
            "s3://raw/in/",
            "the Bucket property",
        )
        assert "bucket 'raw' does not exist" in str(halt)
        assert len(Misconfigured.calls) == 3
        # waits of 1x and 2x the yield duration between the attempts
        gaps = [b - a for a, b in itertools.pairwise(Misconfigured.calls)]
        assert gaps[0] >= 0.05 and gaps[1] >= 0.1
        put = res.status.processor("put")
        assert put.relationship_counts.get("failure", 0) == 0
        assert res.failures == []
        [conn] = res.status.connections
        assert conn.queued_count == 4


def test_service_backs_off_exponentially_and_rate_limits_the_log(
    types: Any, logs: list[dict[str, Any]]
) -> None:
    """As a service: waits of 1, 2, 4... s capped at 5 min; one log line per minute
    (virtual time) with the count of repeats it stands for."""
    f = _flow(types)
    Misconfigured.stop_after = 1000.0

    def on_start(runtime: Any) -> None:
        Misconfigured.runtime = runtime

    res = f.run(
        until_drained=False, timeout=30, clock=VirtualClock(), on_start=on_start
    )
    res.close()
    calls = Misconfigured.calls
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(calls)]
    assert gaps[:9] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert gaps[9:] and all(g == 300 for g in gaps[9:])
    lines = [e for e in logs if e["event"] == "processor_configuration_error"]
    # attempts at 0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 811, 1111: the first is
    # logged, the next five within the minute only counted
    assert [e["attempts"] for e in lines][:3] == [1, 7, 8]
    assert [e["repeats"] for e in lines][:3] == [0, 5, 0]
    assert lines[0]["code"] == "NoSuchBucket"
    assert lines[0]["resource"] == "s3://raw/in/"
    assert lines[1]["retry_in"] == 64
    assert res.status.processor("put").relationship_counts.get("failure", 0) == 0


def test_backoff_never_retries_sooner_than_the_timer_period(types: Any) -> None:
    """A 10 s timer period: the backoff waits at least the period (a yield must not
    make a slow schedule faster)."""
    f = _flow(types, period="10 sec")
    Misconfigured.stop_after = 60.0

    def on_start(runtime: Any) -> None:
        Misconfigured.runtime = runtime

    f.run(until_drained=False, timeout=30, clock=VirtualClock(), on_start=on_start)
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(Misconfigured.calls)]
    assert gaps[:4] == [10, 10, 10, 10]


def test_a_success_after_errors_resets_the_backoff_and_is_logged(
    types: Any, logs: list[dict[str, Any]]
) -> None:
    """Two failures, then it works: ``processor_recovered`` with the count, and the
    FlowFiles go on (drained, exit 0)."""
    f = _flow(types, yield_duration="10 ms")
    Misconfigured.fail_times = 2
    res = f.run(until_drained=True, timeout=30)
    with res:
        assert res.exit_code == 0 and res.drained and res.halted == []
        assert res.status.processor("put").flowfiles_in == 4
    [rec] = [e for e in logs if e["event"] == "processor_recovered"]
    assert rec["failed_attempts"] == 2 and rec["processor"] == "put"
