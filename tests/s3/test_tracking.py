"""ListS3's listing state as pure bookkeeping: checkpoints, restarts, windows."""

from __future__ import annotations

from flowengine.processors.aws._tracking import (
    EntityTracker,
    ListingEntry,
    TimestampTracker,
)

CFG = {"listing.config": "c"}


def entry(key: str, ts: int, etag: str = "e") -> ListingEntry:
    return ListingEntry(key, ts, 1, etag)


def new_keys(tracker: TimestampTracker, entries: list[ListingEntry]) -> list[str]:
    out = []
    for e in entries:
        if tracker.is_new(e):
            tracker.emitted(e)
            out.append(e.key)
    return out


def test_timestamp_tracking_keeps_keys_at_the_newest_timestamp() -> None:
    """Objects at the newest timestamp are remembered by key; older ones by time."""
    t = TimestampTracker.load({})
    assert new_keys(t, [entry("a", 100), entry("b", 200), entry("c", 200)]) == [
        "a",
        "b",
        "c",
    ]
    state = t.finish(CFG)
    assert state["currentTimestamp"] == "200"
    assert sorted(v for k, v in state.items() if k.startswith("key-")) == ["b", "c"]
    t2 = TimestampTracker.load(state)
    listing = [
        entry("a", 100),
        entry("b", 200),
        entry("c", 200),
        entry("d", 200),
        entry("e", 150),
    ]
    assert new_keys(t2, listing) == [
        "d"
    ]  # e (150) is older than the watermark: NiFi skips it
    state2 = t2.finish(CFG)
    assert sorted(v for k, v in state2.items() if k.startswith("key-")) == [
        "b",
        "c",
        "d",
    ]


def test_crash_after_a_checkpoint_neither_re_emits_nor_skips() -> None:
    """A pass committed a batch with a checkpoint and then died: the next pass emits
    only the rest, and its final state covers both."""
    t = TimestampTracker.load({"currentTimestamp": "50", "key-0": "old"})
    listing = [entry("k1", 300), entry("k2", 100), entry("k3", 200), entry("k4", 250)]
    first_batch = new_keys(t, listing[:2])
    checkpoint = t.checkpoint(CFG)  # committed with the first batch; then a crash
    assert checkpoint["currentTimestamp"] == "50"
    resumed = TimestampTracker.load(checkpoint)
    rest = new_keys(resumed, listing)
    assert first_batch == ["k1", "k2"]
    assert rest == ["k3", "k4"]
    final = resumed.finish(CFG)
    assert final["currentTimestamp"] == "300"
    assert "listing.pending" not in final
    assert new_keys(TimestampTracker.load(final), listing) == []


def test_entity_tracking_window_and_changes() -> None:
    """Entities within the window are remembered; changed ones come back; old ones go."""
    t = EntityTracker.load({}, window_ms=1000, initial_all=True)
    assert t.is_new(entry("ancient", 0), now_ms=5000)  # initial listing: all
    for e in (entry("ancient", 0), entry("x", 4500)):
        t.emitted(e)
    state = t.finish(CFG, now_ms=5000)
    t2 = EntityTracker.load(state, window_ms=1000, initial_all=True)
    assert not t2.is_new(entry("ancient", 0), now_ms=5100)
    assert not t2.is_new(entry("x", 4500), now_ms=5100)
    assert t2.is_new(entry("x", 4500, etag="changed"), now_ms=5100)
    assert t2.is_new(
        entry("late", 4200), now_ms=5100
    )  # older than x, but within the window


def test_entity_tracking_initial_window_target_skips_old_objects() -> None:
    """With the window initial target the first listing ignores older objects."""
    t = EntityTracker.load({}, window_ms=1000, initial_all=False)
    assert not t.is_new(entry("old", 0), now_ms=5000)
    assert t.is_new(entry("recent", 4500), now_ms=5000)


def test_interrupted_initial_entity_listing_still_emits_old_objects() -> None:
    """A crash during the first entity-tracking pass (initial target all) must not make
    the next pass skip the old objects the first one had not reached."""
    t = EntityTracker.load({}, window_ms=1000, initial_all=True)
    t.emitted(entry("old-a", 0))
    checkpoint = t.checkpoint(CFG)
    resumed = EntityTracker.load(checkpoint, window_ms=1000, initial_all=True)
    assert not resumed.is_new(entry("old-a", 0), now_ms=5000)
    assert resumed.is_new(entry("old-b", 0), now_ms=5000)
    resumed.emitted(entry("old-b", 0))
    done = EntityTracker.load(resumed.finish(CFG, now_ms=5000), 1000, True)
    assert not done.is_new(entry("old-c", 0), now_ms=5000)
    assert "entities.initialized" in done.checkpoint(CFG)
