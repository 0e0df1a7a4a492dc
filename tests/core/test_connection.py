"""Connections: ordering, penalties, expiration and back-pressure accounting."""

from __future__ import annotations

from typing import Any

import pytest

from flowengine._api._flowfile import FlowFile, new_uuid
from flowengine._clock import VirtualClock
from flowengine._engine._connection import Connection


class _Node:
    """Stands in for the scheduler's node: counts wake-ups."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.wakes = 0

    def notify(self) -> None:
        self.wakes += 1


def ff(
    attrs: dict[str, str] | None = None,
    *,
    lineage: int = 0,
    size: int = 0,
    entry: int | None = None,
) -> FlowFile:
    from flowengine._api._content import ContentClaim

    base = {"uuid": new_uuid(), "filename": "f", "path": "./"}
    base.update(attrs or {})
    claim = ContentClaim("r", 0, size) if size else None
    return FlowFile(base, claim, lineage_start_date=lineage or None, entry_date=entry)


def conn(clock: VirtualClock | None = None, **kw: Any) -> Connection:
    return Connection(
        "c",
        _Node("src"),
        ["success"],
        _Node("dst"),
        clock=clock or VirtualClock(),
        **kw,
    )  # type: ignore[arg-type]


def test_fifo_by_default() -> None:
    """Without prioritizers FlowFiles come out in the order they went in."""
    c = conn()
    items = [ff({"i": str(i)}) for i in range(5)]
    c.offer(items)
    assert [f.get("i") for f in c.poll(10)] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("prioritizer", "expected"),
    [
        ("OldestFlowFileFirst", ["b", "c", "a"]),
        ("NewestFlowFileFirst", ["a", "c", "b"]),
        ("org.apache.nifi.prioritizer.OldestFlowFileFirstPrioritizer", ["b", "c", "a"]),
        ("FirstInFirstOut", ["a", "b", "c"]),
    ],
)
def test_lineage_prioritizers(prioritizer: str, expected: list[str]) -> None:
    """Oldest/Newest order by lineage start date; FIFO by queue order."""
    c = conn(prioritizers=[prioritizer])
    c.offer(
        [
            ff({"k": "a"}, lineage=300),
            ff({"k": "b"}, lineage=100),
            ff({"k": "c"}, lineage=200),
        ]
    )
    assert [f.get("k") for f in c.poll(10)] == expected


def test_priority_attribute_numbers_first_then_text_then_missing() -> None:
    """PriorityAttribute: numeric ascending, then lexicographic, then no attribute."""
    c = conn(prioritizers=["PriorityAttribute"])
    c.offer(
        [
            ff({"k": "none"}),
            ff({"k": "z", "priority": "zz"}),
            ff({"k": "ten", "priority": "10"}),
            ff({"k": "two", "priority": "2"}),
            ff({"k": "a", "priority": "aa"}),
        ]
    )
    assert [f.get("k") for f in c.poll(10)] == ["two", "ten", "a", "z", "none"]


def test_penalized_flowfiles_wait_until_due() -> None:
    """A penalized FlowFile is not polled before its penalty expires; others are."""
    clock = VirtualClock()
    c = conn(clock)
    late = ff({"k": "late"})._evolve(penalty_until=clock.monotonic() + 30)
    c.offer([late, ff({"k": "now"})])
    assert [f.get("k") for f in c.poll(10)] == ["now"]
    assert c.poll(10) == []
    assert c.next_available() == pytest.approx(clock.monotonic() + 30)
    clock.advance(30)
    assert [f.get("k") for f in c.poll(10)] == ["late"]


def test_expiration_drops_with_a_callback() -> None:
    """FlowFiles older than the expiration are dropped when met, and reported."""
    clock = VirtualClock()
    c = conn(clock, expiration=60)
    dropped: list[FlowFile] = []
    c.on_expired = lambda _c, ffs: dropped.extend(ffs)
    c.offer(
        [
            ff({"k": "old"}, entry=clock.time_ms() - 120_000),
            ff({"k": "young"}, entry=clock.time_ms()),
        ]
    )
    assert [f.get("k") for f in c.poll(10)] == ["young"]
    assert [f.get("k") for f in dropped] == ["old"]
    assert c.statistics().expired == 1


def test_sweep_expires_without_polling() -> None:
    """The periodic sweep drops expired FlowFiles nobody polls."""
    clock = VirtualClock()
    c = conn(clock, expiration=1)
    c.offer([ff(entry=clock.time_ms())])
    clock.advance(5)
    assert c.sweep_expired() == 1
    assert c.is_empty()


def test_back_pressure_counts_queued_and_in_flight() -> None:
    """is_full uses queued plus in-flight; acknowledge frees space and wakes the source."""
    c = conn(back_pressure_objects=3)
    c.offer([ff(), ff(), ff()])
    assert c.is_full()
    got = c.poll(2)
    assert c.is_full()  # still in flight
    c.acknowledge(len(got), 0)
    assert not c.is_full()
    assert c.source.wakes >= 1  # type: ignore[attr-defined]


def test_size_threshold_and_zero_disables() -> None:
    """The data-size threshold applies; 0 disables a dimension."""
    c = conn(back_pressure_objects=0, back_pressure_size=100)
    c.offer([ff(size=60)])
    assert not c.is_full()
    c.offer([ff(size=60)])
    assert c.is_full()
    c2 = conn(back_pressure_objects=0, back_pressure_size=0)
    c2.offer([ff(size=10**9) for _ in range(3)])
    assert not c2.is_full()


def test_requeue_puts_flowfiles_back_in_front() -> None:
    """Rolled-back FlowFiles return ahead of later arrivals, in order."""
    c = conn()
    c.offer([ff({"k": "a"}), ff({"k": "b"})])
    got = c.poll(2)
    c.offer([ff({"k": "c"})])
    c.requeue(got)
    assert [f.get("k") for f in c.poll(10)] == ["a", "b", "c"]


def test_statistics_snapshot_is_frozen() -> None:
    """statistics() returns an immutable snapshot with totals and fill ratio."""
    c = conn(back_pressure_objects=10)
    c.offer([ff(size=5), ff(size=5)])
    st = c.statistics()
    assert (st.queued_count, st.queued_bytes, st.flowfiles_in, st.bytes_in) == (
        2,
        10,
        2,
        10,
    )
    assert st.fill_ratio == pytest.approx(0.2)
    with pytest.raises(AttributeError):
        st.queued_count = 5  # type: ignore[misc]
