"""The embedded map cache service: NiFi's DistributedMapCacheClient contract, revisions,
FIFO eviction and persistence across a disable/enable (a restart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flowengine.controller_services.cache import (
    CacheEntry,
    CacheUnavailableError,
    DistributedMapCacheClient,
    EmbeddedDistributedMapCacheService,
)

from flowengine.testing import TestRunner


def enabled(props: dict[str, Any] | None = None) -> DistributedMapCacheClient:
    """The service as the runtime enables it (through a runner of a processor using it)."""
    r = TestRunner("DetectDuplicate")
    r.add_service("cache", "EmbeddedDistributedMapCacheService", props or {})
    r.set_property("distributed_cache_service", "cache")
    r.run(0, stop_on_finish=False)
    svc = r.context.service("cache", DistributedMapCacheClient)
    assert isinstance(svc, EmbeddedDistributedMapCacheService)
    return svc


def test_map_operations() -> None:
    c = enabled()
    assert c.get("a") is None
    assert c.put_if_absent("a", "1") is True
    assert c.put_if_absent("a", "2") is False
    assert c.get_and_put_if_absent("a", "3") == "1"
    assert c.get_and_put_if_absent("b", "4") is None
    assert c.contains_key("b")
    c.put("a", "5")
    assert c.get("a") == "5"
    assert c.remove("a") is True
    assert c.remove("a") is False
    assert not c.contains_key("a")
    for k in ("x.1", "x.2", "y.1"):
        c.put(k, "v")
    assert c.remove_by_pattern(r"x\..*") == 2
    assert c.contains_key("y.1") and not c.contains_key("x.1")


def test_batch_sees_its_own_earlier_keys() -> None:
    c = enabled()
    assert c.get_and_put_if_absent_many([("k", "1"), ("j", "2"), ("k", "3")]) == [
        None,
        None,
        "1",
    ]


def test_fetch_and_replace_compare_revisions() -> None:
    c = enabled()
    assert c.fetch("s") is None
    assert c.replace(CacheEntry("s", "first", 0)) is True  # absent: stored
    e = c.fetch("s")
    assert e is not None and e.value == "first"
    assert c.replace(CacheEntry("s", "second", e.revision)) is True
    # a writer holding the old revision loses
    assert c.replace(CacheEntry("s", "stale", e.revision)) is False
    e2 = c.fetch("s")
    assert e2 is not None and e2.value == "second" and e2.revision == e.revision + 1


def test_oldest_entries_are_evicted_beyond_maximum() -> None:
    c = enabled({"maximum_cache_entries": "3"})
    for i in range(5):
        c.put(f"k{i}", str(i))
    assert [c.contains_key(f"k{i}") for i in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_persisted_entries_survive_a_restart(tmp_path: Path) -> None:
    c = enabled({"persistence_directory": str(tmp_path / "cache")})
    c.put("kept", "yes")
    c.replace(CacheEntry("sig", "1", 0))
    assert isinstance(c, EmbeddedDistributedMapCacheService)
    c.on_disabled()
    with pytest.raises(CacheUnavailableError):
        c.get("kept")
    again = enabled({"persistence_directory": str(tmp_path / "cache")})
    assert again.get("kept") == "yes"
    entry = again.fetch("sig")
    assert entry is not None and entry.revision == 1
    assert (tmp_path / "cache" / "map-cache.sqlite").exists()
