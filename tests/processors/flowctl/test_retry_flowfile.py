"""RetryFlowFile: counting, maximum, penalty, non-numeric values, reuse modes."""

from __future__ import annotations

from flowengine.processors.flow.retry import RetryFlowFile

from flowengine.testing import TestRunner


def _runner(**props: str) -> TestRunner:
    runner = TestRunner(RetryFlowFile)
    for k, val in props.items():
        runner.set_property(k, val)
    return runner


def _owner(runner: TestRunner) -> str:
    """This runner's processor id, learnt from a first retry."""
    runner.enqueue(b"", {"max": "2"})
    runner.run()
    ff = runner.flowfiles_for("retry")[0]
    runner.clear_transferred()
    return ff["flowfile.retries.uuid"]


def test_first_pass_retries_with_owner_and_penalty() -> None:
    """A new FlowFile gets count 1, the owner uuid and a penalty."""
    runner = _runner()
    runner.enqueue(b"x", {})
    runner.run()
    ff = runner.flowfiles_for("retry")[0]
    ff.assert_attribute_equals("flowfile.retries", "1")
    ff.assert_attribute_exists("flowfile.retries.uuid")
    assert ff.is_penalized


def test_exceeding_the_maximum_strips_counter_and_adds_dynamic() -> None:
    """Past Maximum Retries: retries_exceeded, counter removed, dynamic attrs added."""
    runner = _runner(maximum_retries="${max}", why="gave up at ${max}")
    owner = _owner(runner)
    runner.enqueue(
        b"", {"max": "2", "flowfile.retries": "2", "flowfile.retries.uuid": owner}
    )
    runner.enqueue(
        b"", {"max": "2", "flowfile.retries": "1", "flowfile.retries.uuid": owner}
    )
    runner.run()
    done = runner.flowfiles_for("retries_exceeded")[0]
    done.assert_attribute_not_exists("flowfile.retries")
    done.assert_attribute_not_exists("flowfile.retries.uuid")
    done.assert_attribute_equals("why", "gave up at 2")
    runner.flowfiles_for("retry")[0].assert_attribute_equals("flowfile.retries", "2")


def test_no_penalty_when_disabled() -> None:
    """Penalize Retries false leaves retried FlowFiles unpenalized."""
    runner = _runner(penalize_retries="false")
    runner.enqueue(b"", {})
    runner.run()
    assert not runner.flowfiles_for("retry")[0].is_penalized


def test_non_numeric_counter_reset_or_failed() -> None:
    """A non-numeric counter restarts at 1, or fails with the reason when asked."""
    runner = _runner(retry_attribute="tries")
    runner.enqueue(b"", {"tries": "many"})
    runner.run()
    runner.flowfiles_for("retry")[0].assert_attribute_equals("tries", "1")
    runner = _runner(**{"Fail on Non-numerical Overwrite": "true"})
    runner.enqueue(b"", {"flowfile.retries": "many"})
    runner.run()
    failed = runner.flowfiles_for("failure")[0]
    assert "not a number" in failed["RetryFlowFile.error"]


def test_reuse_modes() -> None:
    """A counter owned by another processor: fail, warn (take over) or reset."""
    foreign = {"flowfile.retries": "2", "flowfile.retries.uuid": "someone-else"}
    runner = _runner()
    runner.enqueue(b"", foreign)
    runner.run()
    assert (
        "owned by another" in runner.flowfiles_for("failure")[0]["RetryFlowFile.error"]
    )
    for mode, expected in (("Warn on Reuse", "3"), ("reset", "1")):
        runner = _runner(reuse_mode=mode)
        runner.enqueue(b"", foreign)
        runner.run()
        ff = runner.flowfiles_for("retry")[0]
        ff.assert_attribute_equals("flowfile.retries", expected)
        assert ff["flowfile.retries.uuid"] != "someone-else"


def test_garbage_maximum_retries() -> None:
    """Maximum Retries EL yielding garbage fails the FlowFile; a literal is invalid."""
    runner = _runner(maximum_retries="${max}")
    runner.enqueue(b"", {"max": "x"})
    runner.run()
    assert (
        "Maximum Retries" in runner.flowfiles_for("failure")[0]["RetryFlowFile.error"]
    )
    assert _runner(maximum_retries="three").validate()
