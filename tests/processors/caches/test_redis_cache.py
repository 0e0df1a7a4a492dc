"""The Redis map cache services against a real redis-server: the cache contract,
revisions, TTL, and DetectDuplicate when Redis goes away mid-run (nothing lost)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flowengine.controller_services.cache import CacheEntry, DistributedMapCacheClient

from flowengine.testing import TestRunner

from .conftest import RedisServer


def dedupe(server: RedisServer, **cache: Any) -> TestRunner:
    r = TestRunner("DetectDuplicate")
    r.add_service(
        "pool",
        "RedisConnectionPoolService",
        {
            "connection_string": server.connection_string,
            "communication_timeout": "2 sec",
        },
    )
    r.add_service(
        "cache",
        "RedisDistributedMapCacheClientService",
        {"redis_connection_pool": "pool", **cache},
    )
    r.set_property("distributed_cache_service", "cache")
    r.set_property("cache_entry_identifier", "${id}")
    return r


def client(server: RedisServer, **cache: Any) -> DistributedMapCacheClient:
    r = dedupe(server, **cache)
    r.run(0, stop_on_finish=False)
    return r.context.service("cache", DistributedMapCacheClient)


def test_map_operations(redis_server: RedisServer) -> None:
    c = client(redis_server)
    assert c.get("a") is None
    assert c.put_if_absent("a", "1") and not c.put_if_absent("a", "2")
    assert c.get_and_put_if_absent("a", "3") == "1"
    assert c.get_and_put_if_absent_many([("b", "1"), ("b", "2")]) == [None, "1"]
    c.put("a", "5")
    assert c.get("a") == "5" and c.contains_key("a")
    assert c.remove("a") and not c.remove("a")
    for k in ("x.1", "x.2", "y.1"):
        c.put(k, "v")
    assert c.remove_by_pattern(r"x\..*") == 2
    assert c.contains_key("y.1")


def test_fetch_and_replace(redis_server: RedisServer) -> None:
    c = client(redis_server)
    assert c.fetch("s") is None
    assert c.replace(CacheEntry("s", "one", 0))
    e = c.fetch("s")
    assert e is not None and (e.value, e.revision) == ("one", 1)
    assert c.replace(CacheEntry("s", "two", 1))
    assert not c.replace(CacheEntry("s", "stale", 1))
    e2 = c.fetch("s")
    assert e2 is not None and (e2.value, e2.revision) == ("two", 2)


def test_ttl_expires_keys(redis_server: RedisServer) -> None:
    c = client(redis_server, redis_cache_ttl="1 sec")
    c.put("t", "v")
    assert c.get("t") == "v"
    time.sleep(1.3)
    assert c.get("t") is None


def test_detect_duplicate_on_redis(redis_server: RedisServer) -> None:
    r = dedupe(redis_server)
    for i in ("a", "b", "a"):
        r.enqueue(b"", {"id": i})
    r.run()
    assert r.transfer_counts() == {"non-duplicate": 2, "duplicate": 1}


def test_redis_going_away_mid_run_loses_nothing(redis_server: RedisServer) -> None:
    r = dedupe(redis_server)
    r.set_schedule(batch_size=2)
    for i in range(4):
        r.enqueue(b"", {"id": str(i)})
    r.run(stop_on_finish=False)
    assert r.transfer_counts() == {"non-duplicate": 2}
    redis_server.kill()
    r.run(stop_on_finish=False)
    assert r.queue_size() == 2, "the FlowFiles stay queued while Redis is down"
    assert r.is_yielded
    assert any("unavailable" in str(b) for b in r.bulletins)
    assert r.transfer_counts() == {"non-duplicate": 2}
    redis_server.start()  # a fresh, empty server on the same port
    r.run()
    assert r.transfer_counts() == {"non-duplicate": 4}
    assert r.queue_size() == 0


def test_unsupported_mode_is_rejected(redis_server: RedisServer) -> None:
    r = TestRunner("DetectDuplicate")
    r.add_service(
        "pool",
        "RedisConnectionPoolService",
        {"connection_string": redis_server.connection_string, "redis_mode": "Cluster"},
    )
    r.add_service(
        "cache",
        "RedisDistributedMapCacheClientService",
        {"redis_connection_pool": "pool"},
    )
    r.set_property("distributed_cache_service", "cache")
    with pytest.raises(Exception, match="not supported"):
        r.run(0)
