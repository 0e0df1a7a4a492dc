"""Distributed map cache services (NiFi's ``DistributedMapCacheClient`` family).

DetectDuplicate, Wait and Notify share a key/value cache through the
:class:`DistributedMapCacheClient` interface; Wait and Notify need the atomic
compare-and-replace half (:meth:`~DistributedMapCacheClient.fetch` /
:meth:`~DistributedMapCacheClient.replace`, NiFi's ``AtomicDistributedMapCacheClient``).
"""

from __future__ import annotations

from ._api import CacheEntry, CacheUnavailableError, DistributedMapCacheClient
from .embedded import EmbeddedDistributedMapCacheService
from .lookup import DistributedMapCacheLookupService

__all__ = [
    "CacheEntry",
    "CacheUnavailableError",
    "DistributedMapCacheClient",
    "DistributedMapCacheLookupService",
    "EmbeddedDistributedMapCacheService",
]
