"""MergeContent's Bin Termination Check and FlowFile Insertion Strategy, with the cases
NiFi's own MergeContent tests state: 3 x (5 FlowFiles + 1 that terminates its bin),
Minimum Number of Entries 10 so that only the check can end a bin."""

from __future__ import annotations

import pytest

from flowengine.testing import TestRunner


def runner(strategy: str | None, **props: str) -> TestRunner:
    r = TestRunner("MergeContent")
    r.set_property("Minimum Number of Entries", "10")
    r.set_property("Maximum Number of Entries", "25")
    r.set_property("Maximum number of Bins", "3")
    r.set_property("Bin Termination Check", "${termination:equals('true')}")
    if strategy is not None:
        r.set_property("FlowFile Insertion Strategy", strategy)
    for k, v in props.items():
        r.set_property(k, v)
    return r


def enqueue_three_groups(r: TestRunner) -> None:
    index = 0
    for _ in range(3):
        for i in range(6):
            attrs = {"termination": "true"} if i == 5 else {}
            r.enqueue(f"{index}\n".encode(), attrs)
            index += 1


def contents(r: TestRunner) -> list[str]:
    return [ff.content.decode() for ff in r.flowfiles_for("merged")]


@pytest.mark.parametrize("strategy", [None, "Last in Bin", "LAST_IN_BIN"])
def test_last_in_bin_ends_the_bin_with_the_flowfile(strategy: str | None) -> None:
    r = runner(strategy)
    enqueue_three_groups(r)
    r.run(1)
    assert contents(r) == [
        "0\n1\n2\n3\n4\n5\n",
        "6\n7\n8\n9\n10\n11\n",
        "12\n13\n14\n15\n16\n17\n",
    ]
    assert len(r.flowfiles_for("original")) == 18
    assert {ff.attributes["merge.reason"] for ff in r.flowfiles_for("merged")} == {
        "BIN_TERMINATION_SIGNAL"
    }


def test_first_in_new_bin_starts_the_next_bin_with_the_flowfile() -> None:
    r = runner("First in New Bin")
    enqueue_three_groups(r)
    r.run(1, stop_on_finish=False)
    assert contents(r) == [
        "0\n1\n2\n3\n4\n",
        "5\n6\n7\n8\n9\n10\n",
        "11\n12\n13\n14\n15\n16\n",
    ]
    # The last terminating FlowFile (17) waits in a new bin, below the minimum.
    assert len(r.flowfiles_for("original")) == 17


def test_isolated_merges_the_flowfile_alone() -> None:
    r = runner("Isolated")
    enqueue_three_groups(r)
    r.run(1)
    assert contents(r) == [
        "0\n1\n2\n3\n4\n",
        "5\n",
        "6\n7\n8\n9\n10\n",
        "11\n",
        "12\n13\n14\n15\n16\n",
        "17\n",
    ]
    assert len(r.flowfiles_for("original")) == 18


def test_termination_applies_to_the_flowfiles_own_correlation_bin() -> None:
    """NiFi's case: bins per `correlation`; FlowFiles 3 and 4 (correlation 1) each end
    the bin before them; bin 2 fills to the minimum without any signal."""
    r = runner("First in New Bin", **{"Correlation Attribute Name": "correlation"})
    one, two = {"correlation": "1"}, {"correlation": "2"}
    stop = {"termination": "true", "correlation": "1"}
    for content, attrs in [
        ("0", one),
        ("1", one),
        ("2", two),
        ("3", stop),
        ("4", stop),
    ]:
        r.enqueue(f"{content}\n".encode(), attrs)
    for i in range(10):
        r.enqueue(f"{i}\n".encode(), two)
    r.run(2, stop_on_finish=False)
    assert contents(r) == ["0\n1\n", "3\n", "2\n0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n"]
    assert len(r.flowfiles_for("original")) == 14


def test_an_expression_that_is_not_true_never_terminates() -> None:
    r = runner(None)
    for i in range(4):
        r.enqueue(f"{i}\n".encode(), {"termination": "yes"})
    r.run(1, stop_on_finish=False)
    assert r.flowfiles_for("merged") == []


def test_the_strategy_is_validated() -> None:
    r = runner("Somewhere")
    r.assert_not_valid()
