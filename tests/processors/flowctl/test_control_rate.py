"""ControlRate: each Rate Control Criteria, grouping, hold vs route, windows."""

from __future__ import annotations

from flowengine.processors.flow.control_rate import ControlRate

from flowengine.testing import TestRunner


def _runner(**props: str) -> TestRunner:
    runner = TestRunner(ControlRate)
    for k, val in props.items():
        runner.set_property(k, val)
    return runner


def test_flowfile_count_holds_the_rest_until_the_window_reopens() -> None:
    """Over the count, FlowFiles stay queued (Hold) and pass in the next window."""
    runner = _runner(rate_control_criteria="flowfile count", maximum_rate="2")
    for i in range(5):
        runner.enqueue(str(i).encode(), {})
    runner.run()
    assert runner.transfer_count("success") == 2
    assert runner.queue_size() == 3
    assert runner.is_yielded
    runner.clock.advance(61)
    runner.run()
    assert runner.transfer_count("success") == 4
    assert runner.queue_size() == 1


def test_data_rate_routes_excess_to_rate_exceeded() -> None:
    """Data rate counts bytes; Route to 'rate exceeded' sends the excess there."""
    runner = _runner(
        maximum_rate="10 B",
        time_duration="1 sec",
        rate_exceeded_strategy="Route to 'rate exceeded'",
    )
    for size in (4, 4, 4, 1):
        runner.enqueue(b"x" * size, {})
    runner.run()
    assert runner.transfer_count("success") == 3  # 4 + 4 + 1 bytes
    assert runner.transfer_count("rate exceeded") == 1


def test_first_flowfile_larger_than_the_limit_passes() -> None:
    """One FlowFile bigger than the limit passes in an empty window (no deadlock)."""
    runner = _runner(maximum_rate="1 B")
    runner.enqueue(b"too big", {})
    runner.run()
    assert runner.transfer_count("success") == 1


def test_attribute_value_sums_and_fails_non_numeric() -> None:
    """Attribute value accumulates the attribute; a non-integer goes to failure."""
    runner = _runner(
        rate_control_criteria="attribute value",
        rate_controlled_attribute="cost",
        maximum_rate="10",
        rate_exceeded_strategy="Route to 'rate exceeded'",
    )
    for cost in ("6", "4", "1", "many"):
        runner.enqueue(b"", {"cost": cost})
    runner.run()
    assert runner.transfer_count("success") == 2
    assert runner.transfer_count("rate exceeded") == 1
    failed = runner.flowfiles_for("failure")[0]
    assert "not an integer" in failed["ControlRate.error"]


def test_data_rate_or_flowfile_count_whichever_first() -> None:
    """Either limit stops the flow: here the count limit of 2 is reached first."""
    runner = _runner(
        rate_control_criteria="data rate or flowfile count",
        maximum_data_rate="1 KB",
        maximum_flowfile_rate="2",
        rate_exceeded_strategy="Route to 'rate exceeded'",
    )
    for _ in range(3):
        runner.enqueue(b"ab", {})
    runner.run()
    assert runner.transfer_count("success") == 2
    assert runner.transfer_count("rate exceeded") == 1


def test_grouping_attribute_throttles_each_group() -> None:
    """Each value of the Grouping Attribute has its own allowance."""
    runner = _runner(
        rate_control_criteria="flowfile count",
        maximum_rate="1",
        grouping_attribute="tenant",
        rate_exceeded_strategy="Route to 'rate exceeded'",
    )
    for tenant in ("a", "a", "b", "b", "c"):
        runner.enqueue(b"", {"tenant": tenant})
    runner.run()
    assert sorted(ff["tenant"] for ff in runner.flowfiles_for("success")) == [
        "a",
        "b",
        "c",
    ]


def test_maximum_rate_validated_for_the_criteria() -> None:
    """Maximum Rate must be a data size for data rate, an integer for counts."""
    assert _runner(maximum_rate="lots").validate()
    assert _runner(
        rate_control_criteria="flowfile count", maximum_rate="1 MB"
    ).validate()
    assert not _runner(maximum_rate="1 MB").validate()
