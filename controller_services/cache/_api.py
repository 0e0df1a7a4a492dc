"""The cache interface processors ask for, and the error that means "try again later"."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CacheEntry", "CacheUnavailableError", "DistributedMapCacheClient"]


class CacheUnavailableError(ConnectionError):
    """The cache cannot be reached (server gone, deadline passed).

    Processors roll their session back and yield on it: the FlowFiles stay queued and are
    tried again, nothing is routed to failure for an outage."""


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A value with the revision :meth:`DistributedMapCacheClient.replace` checks."""

    key: str
    value: str
    revision: int


class DistributedMapCacheClient(ABC):
    """NiFi's ``DistributedMapCacheClient`` + ``AtomicDistributedMapCacheClient``.

    Keys and values are text (NiFi's processors serialize them as UTF-8 strings). Every
    method may raise :class:`CacheUnavailableError`.
    """

    @abstractmethod
    def get(self, key: str) -> str | None: ...

    @abstractmethod
    def put(self, key: str, value: str) -> None: ...

    @abstractmethod
    def put_if_absent(self, key: str, value: str) -> bool:
        """Store ``value`` unless ``key`` exists; True when stored."""

    @abstractmethod
    def get_and_put_if_absent(self, key: str, value: str) -> str | None:
        """The existing value (left unchanged), or None after storing ``value``."""

    def get_and_put_if_absent_many(
        self, items: Sequence[tuple[str, str]]
    ) -> list[str | None]:
        """:meth:`get_and_put_if_absent` for many keys, in order (one round trip or
        transaction where the service can); a key repeated later in ``items`` sees the
        value stored by its first occurrence."""
        return [self.get_and_put_if_absent(k, v) for k, v in items]

    @abstractmethod
    def contains_key(self, key: str) -> bool: ...

    @abstractmethod
    def remove(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""

    @abstractmethod
    def remove_by_pattern(self, regex: str) -> int:
        """Remove every key fully matching ``regex``; how many were removed."""

    @abstractmethod
    def fetch(self, key: str) -> CacheEntry | None:
        """The value with its revision (for a later :meth:`replace`)."""

    @abstractmethod
    def replace(self, entry: CacheEntry) -> bool:
        """Store ``entry.value`` only if the stored revision is still ``entry.revision``
        (an absent key is stored whatever the revision, as in NiFi's cache server);
        True when stored. The stored revision then increases by one."""
