"""DetectDuplicate on the embedded cache: routing, descriptions, age-off, check-only
mode, blank identifiers, and an unavailable cache (rollback + yield, nothing lost)."""

from __future__ import annotations

from typing import Any

from flowengine.controller_services.cache import (
    CacheUnavailableError,
    EmbeddedDistributedMapCacheService,
)

from flowengine import ConfigurationContext
from flowengine.testing import TestRunner


def runner(**props: Any) -> TestRunner:
    r = TestRunner("DetectDuplicate")
    r.add_service("cache", "EmbeddedDistributedMapCacheService")
    r.set_property("distributed_cache_service", "cache")
    for k, val in props.items():
        r.set_property(k, val)
    return r


def test_first_is_non_duplicate_later_ones_duplicates() -> None:
    r = runner(cache_entry_identifier="${id}", flowfile_description="from ${src}")
    for i, src in enumerate(["a", "b", "c"]):
        r.enqueue(b"", {"id": "x" if i != 1 else "y", "src": src})
    r.run(stop_on_finish=False)  # keep the (in-memory) cache enabled
    assert r.transfer_counts()["non-duplicate"] == 2
    [dup] = r.flowfiles_for("duplicate")
    dup.assert_attribute_equals("original.flowfile.description", "from a")
    dup.assert_attribute_equals("src", "c")
    # a later trigger still sees the ids
    r.enqueue(b"", {"id": "y", "src": "d"})
    r.run()
    assert r.flowfiles_for("duplicate")[-1]["original.flowfile.description"] == "from b"


def test_default_identifier_is_hash_value_and_blank_goes_to_failure() -> None:
    r = runner()
    r.enqueue(b"", {"hash.value": "abc"})
    r.enqueue(b"", {})
    r.run()
    assert r.transfer_counts()["non-duplicate"] == 1
    [bad] = r.flowfiles_for("failure")
    bad.assert_attribute_exists("error.message")


def test_age_off_makes_old_entries_new_again() -> None:
    r = runner(cache_entry_identifier="${id}", age_off_duration="1 ms")
    r.enqueue(b"", {"id": "x"})
    r.run(stop_on_finish=False)
    svc = r.context.service("cache", EmbeddedDistributedMapCacheService)
    # an entry stored long ago (entry time 1 ms after the epoch)
    svc.put("x", '[1,"old"]')
    r.enqueue(b"", {"id": "x"})
    r.run(stop_on_finish=False)
    assert r.transfer_counts() == {"non-duplicate": 2}
    # refreshed with a new entry time: no longer the old description
    assert '"old"' not in (svc.get("x") or "")


def test_without_age_off_old_entries_stay_duplicates() -> None:
    r = runner(cache_entry_identifier="${id}")
    r.enqueue(b"", {"id": "x"})
    r.run(stop_on_finish=False)
    r.context.service("cache", EmbeddedDistributedMapCacheService).put("x", '[1,"old"]')
    r.enqueue(b"", {"id": "x"})
    r.run()
    assert r.flowfiles_for("duplicate")[0]["original.flowfile.description"] == "old"


def test_check_only_does_not_store() -> None:
    r = runner(cache_entry_identifier="${id}", cache_the_entry_identifier="false")
    r.enqueue(b"", {"id": "x"})
    r.enqueue(b"", {"id": "x"})
    r.run()
    assert r.transfer_counts() == {"non-duplicate": 2}


class _Failing(EmbeddedDistributedMapCacheService):
    """An embedded cache whose server 'goes away' while ``down`` is set."""

    down = False

    def on_enabled(self, context: ConfigurationContext) -> None:
        super().on_enabled(context)

    def get_and_put_if_absent_many(self, items: Any) -> Any:
        if _Failing.down:
            raise CacheUnavailableError("connection refused")
        return super().get_and_put_if_absent_many(items)


def test_unavailable_cache_rolls_back_and_yields() -> None:
    r = TestRunner("DetectDuplicate")
    r.add_service("cache", _Failing)
    r.set_property("distributed_cache_service", "cache")
    r.set_property("cache_entry_identifier", "${id}")
    r.enqueue(b"", {"id": "x"})
    _Failing.down = True
    try:
        r.run()
    finally:
        _Failing.down = False
    assert r.transfer_counts() == {}
    assert r.queue_size() == 1
    assert r.is_yielded
    assert any("unavailable" in str(b) for b in r.bulletins)
    r.run()
    assert r.transfer_counts() == {"non-duplicate": 1}
