"""DistributedMapCacheLookupService: the map cache as a key → value lookup service."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
from flowengine.controller_services.records import LookupService

from flowengine import ConfigurationContext, ControllerService, PropertyDescriptor

from ._api import DistributedMapCacheClient

__all__ = ["DistributedMapCacheLookupService"]


class DistributedMapCacheLookupService(LookupService, ControllerService):
    """Looks keys up in a distributed map cache (NiFi's DistributedMapCacheLookupService),
    for LookupAttribute and LookupRecord: the cached text, null for an absent key.

    One cache call per distinct key of the batch; a cache outage raises
    :class:`~flowengine.controller_services.cache.CacheUnavailableError`."""

    tags = ("lookup", "enrich", "key", "value", "map", "cache", "distributed")

    DISTRIBUTED_CACHE_SERVICE = PropertyDescriptor(
        "distributed_map_cache_service",
        "The cache to look keys up in.",
        display_name="Distributed Cache Service",
        required=True,
        service=DistributedMapCacheClient,
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self._cache = context.property(self.DISTRIBUTED_CACHE_SERVICE).as_service(
            DistributedMapCacheClient
        )

    def lookup(self, coordinates: Mapping[str, pa.Array]) -> pa.Array:
        key = coordinates.get("key")
        if key is None:
            raise KeyError("the lookup needs a 'key' coordinate")
        keys = key.cast(pa.string()).to_pylist()
        found = {k: self._cache.get(k) for k in set(keys) if k is not None}
        return pa.array([None if k is None else found[k] for k in keys], pa.string())
