"""LookupAttribute with the key-value, CSV and map-cache lookup services."""

from __future__ import annotations

from pathlib import Path

from flowengine.testing import TestRunner


def test_key_value_matched_unmatched_and_empty_values() -> None:
    r = TestRunner("LookupAttribute")
    r.add_service("kv", "SimpleKeyValueLookupService", {"NO": "Norway", "EM": ""})
    r.set_property("lookup_service", "kv")
    r.set_property("country", "${cc}")
    for cc in ("NO", "XX", "EM"):
        r.enqueue(b"", {"cc": cc})
    r.run()
    assert [f["country"] for f in r.flowfiles_for("matched")] == ["Norway", ""]
    [miss] = r.flowfiles_for("unmatched")
    miss.assert_attribute_not_exists("country")


def test_exclude_empty_values() -> None:
    r = TestRunner("LookupAttribute")
    r.add_service("kv", "SimpleKeyValueLookupService", {"EM": ""})
    r.set_property("lookup_service", "kv")
    r.set_property("include_empty_values", "false")
    r.set_property("country", "${cc}")
    r.enqueue(b"", {"cc": "EM"})
    r.run()
    assert r.transfer_counts() == {"unmatched": 1}


def test_csv_value_column_and_several_attributes(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("code,name\nNO,Norway\nFR,France\n")
    r = TestRunner("LookupAttribute")
    r.add_service(
        "csv",
        "SimpleCsvFileLookupService",
        {
            "csv_file": str(csv),
            "lookup_key_column": "code",
            "lookup_value_column": "name",
        },
    )
    r.set_property("lookup_service", "csv")
    r.set_property("from", "${a}")
    r.set_property("to", "${b}")
    r.enqueue(b"", {"a": "NO", "b": "ZZ"})
    r.run()
    [f] = r.flowfiles_for("matched")
    f.assert_attribute_equals("from", "Norway")
    f.assert_attribute_not_exists("to")


def test_map_cache_lookup_service() -> None:
    r = TestRunner("LookupAttribute")
    r.add_service("cache", "EmbeddedDistributedMapCacheService")
    r.add_service(
        "lk",
        "DistributedMapCacheLookupService",
        {"distributed_map_cache_service": "cache"},
    )
    r.set_property("lookup_service", "lk")
    r.set_property("owner", "${id}")
    r.run(0, stop_on_finish=False)
    from flowengine.controller_services.cache import DistributedMapCacheClient

    r.context.service("cache", DistributedMapCacheClient).put("k1", "alice")
    r.enqueue(b"", {"id": "k1"})
    r.enqueue(b"", {"id": "k2"})
    r.run()
    assert [f["owner"] for f in r.flowfiles_for("matched")] == ["alice"]
    assert r.transfer_counts()["unmatched"] == 1


def test_no_dynamic_property_is_invalid() -> None:
    r = TestRunner("LookupAttribute")
    r.add_service("kv", "SimpleKeyValueLookupService", {"a": "b"})
    r.set_property("lookup_service", "kv")
    r.assert_not_valid()
