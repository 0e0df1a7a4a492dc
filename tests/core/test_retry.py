"""Relationship retry (NiFi's "Automatically Retry"): back to the queue as taken, with
a counted, growing back-off, then routed normally."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

import flowengine
from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    ValidationError,
)
from flowengine._engine._retry import RetryPolicy


class Flaky(Processor):
    """Fails each FlowFile ``fail_times`` times, after changing its content and an
    attribute and making a child (all of which a retry must discard)."""

    input_requirement = InputRequirement.REQUIRED
    FAIL_TIMES = PropertyDescriptor("fail_times", default="1000")
    SUCCESS = Relationship("success")
    FAILURE = Relationship("failure")
    CHILD = Relationship("child")
    attempts: ClassVar[dict[str, list[float]]] = {}

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ff = session.get()
        if ff is None:
            return
        times = Flaky.attempts.setdefault(ff.get("uuid") or "", [])
        times.append(time.monotonic())
        child = session.create(ff)
        child = session.write(child, f"child of attempt {len(times)}")
        session.transfer(child, self.CHILD)
        ff = session.write(ff, b"changed by the trigger")
        ff = session.put_attribute(ff, "touched", "yes")
        fail = len(times) <= int(context.property(self.FAIL_TIMES).value or 0)
        session.transfer(ff, self.FAILURE if fail else self.SUCCESS)


def _run(
    retry: Any, fail_times: int = 1000, schedule: dict[str, Any] | None = None
) -> tuple[dict[str, list[tuple[bytes, dict[str, str]]]], float]:
    Flaky.attempts = {}
    f = flowengine.Flow("retry")
    f.add_input_port("in")
    for port in ("ok", "failed", "children"):
        f.add_output_port(port)
    f.add_processor(
        "flaky",
        Flaky,
        {"fail_times": str(fail_times)},
        schedule={
            "penalty_duration": "20 ms",
            "yield_duration": "20 ms",
            **(schedule or {}),
        },
        retry=retry,
    )
    f.connect("in", "flaky")
    f.connect("flaky", "ok", ["success"])
    f.connect("flaky", "failed", ["failure"])
    f.connect("flaky", "children", ["child"])
    start = time.monotonic()
    with f.run(inputs={"in": [(b"original", {"k": "v"})]}, timeout=30) as res:
        assert res.ok and res.drained
        elapsed = time.monotonic() - start
        out = {
            port: [(res.read(ff), dict(ff.attributes)) for ff in res.outputs[port]]
            for port in ("ok", "failed", "children")
        }
    return out, elapsed


def test_retries_then_routes_the_original_with_the_counter_removed() -> None:
    """count 3: four attempts; each retry starts from the FlowFile as it was taken; the
    last attempt's result is routed, without retryCount; only its child survives."""
    out, _ = _run({"relationships": ["failure"], "count": 3})
    (attempts,) = Flaky.attempts.values()
    assert len(attempts) == 4
    (failed,) = out["failed"]
    assert failed[0] == b"changed by the trigger"
    assert failed[1]["touched"] == "yes" and failed[1]["k"] == "v"
    assert not any(k.startswith("retryCount") for k in failed[1])
    assert [c[0] for c in out["children"]] == [b"child of attempt 4"]
    assert out["ok"] == []


def test_a_retry_that_succeeds_goes_on_without_the_counter() -> None:
    """Failing once then succeeding: routed to success, retryCount removed."""
    out, _ = _run(["failure"], fail_times=1)
    (ok,) = out["ok"]
    assert "retryCount.flaky" not in ok[1] and ok[1]["k"] == "v"
    assert len(next(iter(Flaky.attempts.values()))) == 2
    assert [c[0] for c in out["children"]] == [b"child of attempt 2"]


def test_penalty_back_off_doubles_up_to_the_maximum() -> None:
    """Penalize back-off: waits of about 20, 40, 80 ms, capped at max_backoff (50 ms)."""
    _run({"relationships": "failure", "count": 3, "max_backoff": "50 ms"})
    (t,) = Flaky.attempts.values()
    gaps = [b - a for a, b in itertools.pairwise(t)]
    assert gaps[0] >= 0.019 and gaps[1] >= 0.039 and gaps[2] >= 0.049


def test_back_off_grows_by_powers_of_two_up_to_the_cap() -> None:
    """base x 2^attempt, never above max_backoff (also for absurd attempt counts)."""
    policy = RetryPolicy(frozenset({"failure"}), count=50, max_backoff=1.0)
    assert [policy.delay(0.1, n) for n in range(5)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0]
    )
    assert policy.delay(0.1, 10_000) == 1.0


def test_yield_back_off_yields_the_processor() -> None:
    """Yield back-off: the FlowFile is not penalized; the processor waits instead."""
    _run({"relationships": ["failure"], "count": 2, "backoff": "yield"})
    (t,) = Flaky.attempts.values()
    gaps = [b - a for a, b in itertools.pairwise(t)]
    assert len(t) == 3 and gaps[0] >= 0.019 and gaps[1] >= 0.039


class Born(Processor):
    """A source whose FlowFiles go straight to failure."""

    input_requirement = InputRequirement.FORBIDDEN
    FAILURE = Relationship("failure")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        session.transfer(session.write(session.create(), b"new"), self.FAILURE)


def test_flowfiles_created_by_the_trigger_are_not_retried() -> None:
    """A source's own FlowFiles have nothing to go back to: routed at once."""
    f = flowengine.Flow("born")
    f.add_output_port("out")
    f.add_processor("src", Born, schedule={"max_triggers": 3}, retry=["failure"])
    f.connect("src", "out", ["failure"])
    with f.run(timeout=30) as res:
        assert [res.read(ff) for ff in res.outputs["out"]] == [b"new"] * 3


FLOW = """\
flow: retry
processors:
  gen:
    type: GenerateFlowFile
    schedule: {{max_triggers: 1}}
    retry: {retry}
    auto_terminate: [success]
"""


@pytest.mark.parametrize(
    ("retry", "message"),
    [
        (
            "[sucess]",
            "flow.yaml:6:13: processor 'gen': cannot retry unknown relationship 'sucess' (did you mean 'success'?)",
        ),
        (
            "{relationships: [success], count: 0}",
            "processor 'gen': retry count: 0 is not a positive integer",
        ),
        (
            "{relationships: [success], backoff: wait}",
            "retry backoff: 'wait' is not one of penalize, yield",
        ),
        ("{relationships: [success], max_backof: 1 min}", "unknown key 'max_backof'"),
        ("{count: 2}", "processor 'gen': retry needs the relationships to retry"),
    ],
)
def test_invalid_retry_settings_are_located(
    tmp_path: Path, retry: str, message: str
) -> None:
    """Each mistake in a processor's retry block is reported with file:line:col."""
    path = tmp_path / "flow.yaml"
    path.write_text(FLOW.format(retry=retry))
    with pytest.raises(ValidationError) as err:
        flowengine.load(path).validate(raise_on_error=True)
    assert message in str(err.value)
    assert f"{path}:" in str(err.value)


def test_retry_in_yaml_is_accepted(tmp_path: Path) -> None:
    """Both forms load and validate: a list, and a mapping with every setting."""
    for retry in (
        "[success]",
        "{relationships: success, count: 2, backoff: yield, max_backoff: 5 sec}",
    ):
        path = tmp_path / "flow.yaml"
        path.write_text(FLOW.format(retry=retry))
        assert flowengine.load(path).validate() == []
