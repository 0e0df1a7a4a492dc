"""EnforceOrder: in-order release per group, wait/skipped/overtook/failure, and the
next expected order kept in processor state across runs."""

from __future__ import annotations

from flowengine.testing import TestRunner


def runner(**props: str) -> TestRunner:
    r = TestRunner("EnforceOrder")
    r.set_property("group_identifier", "${g}")
    r.set_property("order_attribute", "seq")
    for k, val in props.items():
        r.set_property(k, val)
    return r


def seqs(r: TestRunner, rel: str) -> list[tuple[str, str]]:
    return [(f["g"], f["seq"]) for f in r.flowfiles_for(rel)]


def test_orders_each_group_and_waits_for_gaps() -> None:
    r = runner()
    for g, s in [("a", "1"), ("a", "0"), ("b", "0"), ("a", "3"), ("b", "1")]:
        r.enqueue(b"", {"g": g, "seq": s})
    r.run()
    assert sorted(seqs(r, "success")) == [
        ("a", "0"),
        ("a", "1"),
        ("b", "0"),
        ("b", "1"),
    ]
    [w] = r.flowfiles_for("wait")
    w.assert_attribute_equals("EnforceOrder.expectedOrder", "2")
    assert r.state()["a.target"] == "2" and r.state()["b.target"] == "2"


def test_skipped_failure_and_maximum() -> None:
    r = runner(initial_order="5", maximum_order="9")
    for s in ["5", "4", "x", "10"]:
        r.enqueue(b"", {"g": "a", "seq": s})
    r.enqueue(b"", {"seq": "5"})  # no group
    r.run()
    assert seqs(r, "success") == [("a", "5")]
    assert seqs(r, "skipped") == [("a", "4")]
    assert len(r.flowfiles_for("failure")) == 3
    assert all(f.get("EnforceOrder.detail") for f in r.flowfiles_for("failure"))


def test_overtakes_after_wait_timeout() -> None:
    r = runner(wait_timeout="1 sec")
    # waited since 1970: its predecessors 0 and 1 never came
    r.enqueue(b"", {"g": "a", "seq": "2", "EnforceOrder.startedAt": "1000"})
    r.enqueue(b"", {"g": "a", "seq": "3"})
    r.enqueue(b"", {"g": "a", "seq": "5"})
    r.run()
    assert seqs(r, "overtook") == [("a", "2")]
    assert seqs(r, "success") == [("a", "3")]
    assert seqs(r, "wait") == [("a", "5")]
    assert r.state()["a.target"] == "4"


def test_state_carries_over_between_triggers() -> None:
    r = runner()
    r.enqueue(b"", {"g": "a", "seq": "0"})
    r.run(stop_on_finish=False)
    r.enqueue(b"", {"g": "a", "seq": "0"})
    r.enqueue(b"", {"g": "a", "seq": "1"})
    r.run()
    assert seqs(r, "skipped") == [("a", "0")]
    assert seqs(r, "success") == [("a", "0"), ("a", "1")]


def test_inactive_groups_are_forgotten() -> None:
    r = runner(inactive_timeout="1 ms")
    r.enqueue(b"", {"g": "a", "seq": "0"})
    r.run(stop_on_finish=False)
    import time

    time.sleep(0.01)
    r.enqueue(b"", {"g": "b", "seq": "0"})
    r.run()
    assert "a.target" not in r.state() and r.state()["b.target"] == "1"
