"""Wait and Notify sharing one embedded cache (two runners, one persisted SQLite cache):
counts, targets, releasable counts, counter names, attribute copying, expiry, wait
modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowengine.testing import TestRunner


def _runner(kind: str, cache_dir: Path, props: dict[str, Any]) -> TestRunner:
    r = TestRunner(kind)
    r.add_service(
        "cache",
        "EmbeddedDistributedMapCacheService",
        {"persistence_directory": str(cache_dir)},
    )
    r.set_property("distributed_cache_service", "cache")
    r.set_property("release_signal_identifier", "${batch}")
    for k, val in props.items():
        r.set_property(k, val)
    return r


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def notify(cache_dir: Path, *flowfiles: dict[str, str], **props: Any) -> TestRunner:
    n = _runner("Notify", cache_dir, props)
    for attrs in flowfiles:
        n.enqueue(b"", attrs)
    n.run(len(flowfiles))
    return n


def test_wait_releases_after_notify(cache_dir: Path) -> None:
    w = _runner("Wait", cache_dir, {})
    w.enqueue(b"x", {"batch": "b1"})
    w.run()
    [waiting] = w.flowfiles_for("wait")
    waiting.assert_attribute_exists("wait.start.timestamp")
    n = notify(cache_dir, {"batch": "b1"})
    n.flowfiles_for("success")[0].assert_attribute_equals("notified", "true")
    w2 = _runner("Wait", cache_dir, {})
    w2.enqueue(
        b"x", {"batch": "b1", "wait.start.timestamp": waiting["wait.start.timestamp"]}
    )
    w2.enqueue(b"y", {"batch": "b1"})
    w2.run(2)  # Wait Buffer Count 1: one FlowFile per trigger
    # one notification releases one FlowFile (Releasable FlowFile Count 1)
    assert w2.transfer_counts() == {"success": 1, "wait": 1}
    released = w2.flowfiles_for("success")[0]
    released.assert_attribute_equals("wait.counter.default", "1")
    released.assert_attribute_equals(
        "wait.start.timestamp", waiting["wait.start.timestamp"]
    )


def test_target_count_and_buffered_notify(cache_dir: Path) -> None:
    notify(cache_dir, *({"batch": "b"} for _ in range(2)), signal_buffer_count="5")
    w = _runner(
        "Wait", cache_dir, {"target_signal_count": "3", "wait_buffer_count": "5"}
    )
    for _ in range(3):
        w.enqueue(b"", {"batch": "b"})
    w.run()
    assert w.transfer_counts() == {"wait": 3}
    notify(cache_dir, {"batch": "b"})
    w2 = _runner(
        "Wait", cache_dir, {"target_signal_count": "3", "wait_buffer_count": "5"}
    )
    for _ in range(3):
        w2.enqueue(b"", {"batch": "b"})
    w2.run()
    assert w2.transfer_counts() == {"success": 1, "wait": 2}


def test_releasable_zero_releases_all_and_named_counter(cache_dir: Path) -> None:
    notify(cache_dir, {"batch": "b", "c": "ok"}, signal_counter_name="${c}")
    notify(cache_dir, {"batch": "b", "c": "err"}, signal_counter_name="${c}")
    props = {
        "releasable_flowfile_count": "0",
        "signal_counter_name": "ok",
        "wait_buffer_count": "10",
    }
    w = _runner("Wait", cache_dir, props)
    for _ in range(4):
        w.enqueue(b"", {"batch": "b"})
    w.run()
    assert w.transfer_counts() == {"success": 4}
    f = w.flowfiles_for("success")[0]
    f.assert_attribute_equals("wait.counter.ok", "1")
    f.assert_attribute_equals("wait.counter.err", "1")
    f.assert_attribute_equals("wait.counter.total", "2")


def test_attribute_copy_modes(cache_dir: Path) -> None:
    notify(
        cache_dir,
        {"batch": "b", "color": "red", "size": "9"},
        signal_counter_delta="2",
        attribute_cache_regex="color|size",
    )
    keep = _runner("Wait", cache_dir, {})
    keep.enqueue(b"", {"batch": "b", "color": "blue"})
    keep.run()
    f = keep.flowfiles_for("success")[0]
    assert (f["color"], f["size"]) == ("blue", "9")
    rep = _runner("Wait", cache_dir, {"attribute_copy_mode": "replace"})
    rep.enqueue(b"", {"batch": "b", "color": "blue"})
    rep.run()
    assert rep.flowfiles_for("success")[0]["color"] == "red"
    # both notifications consumed: a third waits
    third = _runner("Wait", cache_dir, {})
    third.enqueue(b"", {"batch": "b"})
    third.run()
    assert third.transfer_counts() == {"wait": 1}


def test_expired_and_keep_in_upstream(cache_dir: Path) -> None:
    w = _runner(
        "Wait", cache_dir, {"expiration_duration": "1 sec", "wait_mode": "keep"}
    )
    w.enqueue(b"", {"batch": "b", "wait.start.timestamp": "1000"})
    w.enqueue(b"", {"batch": "b"})
    w.run(2)
    assert w.transfer_counts() == {"expired": 1}
    assert w.queue_size() == 1 and w.penalized_count() == 1


def test_bad_input_to_failure(cache_dir: Path) -> None:
    n = notify(
        cache_dir, {"batch": ""}, {"batch": "b", "d": "x"}, signal_counter_delta="${d}"
    )
    assert n.transfer_counts() == {"failure": 2}
    assert all(f.get("error.message") for f in n.flowfiles_for("failure"))
    w = _runner("Wait", cache_dir, {})
    w.enqueue(b"", {})
    w.run()
    assert w.transfer_counts() == {"failure": 1}
