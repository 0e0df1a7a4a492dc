"""DistributeLoad: relationships 1..N, round robin with weights, overflow."""

from __future__ import annotations

from collections import Counter

from flowengine.processors.flow.distribute import DistributeLoad

from flowengine.testing import TestRunner


def _route(n: int, count: int, **props: str) -> list[str]:
    runner = TestRunner(DistributeLoad).set_property("number_of_relationships", str(n))
    for k, val in props.items():
        runner.set_property(k, val)
    for i in range(count):
        runner.enqueue(str(i).encode(), {})
    runner.run()
    out = []
    for rel in map(str, range(1, n + 1)):
        for ff in runner.flowfiles_for(rel):
            ff.assert_attribute_equals("distribute.load.relationship", rel)
            out.append(rel)
    return out


def test_round_robin_even() -> None:
    """Round robin sends the same number to each relationship."""
    assert Counter(_route(3, 9)) == {"1": 3, "2": 3, "3": 3}


def test_weighted_round_robin() -> None:
    """A dynamic property N = weight gives relationship N that many per round."""
    assert Counter(_route(2, 8, **{"1": "3"})) == {"1": 6, "2": 2}


def test_overflow_prefers_the_first() -> None:
    """Overflow sends to the first relationship while it is available."""
    assert Counter(_route(3, 4, distribution_strategy="overflow")) == {"1": 4}


def test_invalid_weights_rejected() -> None:
    """A weight for an unknown relationship or a non-positive weight is invalid."""
    runner = TestRunner(DistributeLoad).set_property("number_of_relationships", "2")
    runner.set_property("5", "1")
    runner.set_property("1", "0")
    errors = runner.validate()
    assert len(errors) == 2, errors
