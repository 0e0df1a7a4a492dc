"""Listing state of ListS3: what has been emitted, so nothing is missed or emitted twice.

Pure bookkeeping (no I/O), so the subtle part can be tested without a server.

*Timestamp tracking* (NiFi's): the state holds the newest lastModified emitted
(``currentTimestamp``, ms) and the keys emitted at exactly that timestamp (``key-0…``).
An object is new when it is newer, or as new and not among those keys.

*Entity tracking*: the state holds every object emitted whose lastModified is within the
time window (identity → lastModified and ETag); an object is new when it is not there or
has changed. Unlike timestamps, it also catches objects that become visible late (a
multipart upload is dated when it was *started*), as long as that is within the window.

A listing runs in batches: every batch of FlowFiles is committed with a state that also
names what this listing pass has emitted so far (``listing.pending``), so a crash in the
middle of a long listing neither re-emits the committed batches nor skips the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["EntityTracker", "ListingEntry", "TimestampTracker"]

TS_KEY = "currentTimestamp"
PENDING_KEY = "listing.pending"
CONFIG_KEY = "listing.config"
ENTITIES_KEY = "entities"
INITIALIZED_KEY = "entities.initialized"


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One listed object (or object version)."""

    key: str
    last_modified_ms: int
    size: int
    etag: str
    version: str | None = None

    @property
    def identity(self) -> str:
        return self.key if self.version is None else f"{self.key}\x00{self.version}"


@dataclass
class TimestampTracker:
    """NiFi's timestamp tracking, with batch checkpoints."""

    timestamp: int = -1
    keys: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)
    # progress of the current pass
    _max: int = -1
    _max_keys: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, state: Mapping[str, str]) -> TimestampTracker:
        t = cls()
        if TS_KEY in state:
            t.timestamp = int(state[TS_KEY])
        t.keys = {v for k, v in state.items() if k.startswith("key-")}
        if PENDING_KEY in state:
            t.pending = set(json.loads(state[PENDING_KEY]))
        t._max = t.timestamp
        return t

    def is_new(self, e: ListingEntry) -> bool:
        """Not emitted before (and, if already emitted by an interrupted pass, noted)."""
        ident = e.identity
        if e.last_modified_ms < self.timestamp or (
            e.last_modified_ms == self.timestamp and ident in self.keys
        ):
            return False
        if ident in self.pending:
            self._note(e)
            return False
        return True

    def _note(self, e: ListingEntry) -> None:
        if e.last_modified_ms > self._max:
            self._max = e.last_modified_ms
            self._max_keys = {e.identity}
        elif e.last_modified_ms == self._max:
            self._max_keys.add(e.identity)

    def emitted(self, e: ListingEntry) -> None:
        self._note(e)
        self.pending.add(e.identity)

    def checkpoint(self, extra: Mapping[str, str]) -> dict[str, str]:
        """State to commit with a batch in the middle of a pass."""
        state = self._base(self.timestamp, self.keys, extra)
        state[PENDING_KEY] = json.dumps(sorted(self.pending))
        return state

    def finish(self, extra: Mapping[str, str]) -> dict[str, str]:
        """State at the end of a pass: the new timestamp and its keys."""
        if self._max > self.timestamp:
            ts, keys = self._max, set(self._max_keys)
        else:
            ts, keys = (
                self.timestamp,
                self.keys | (self._max_keys if self._max == self.timestamp else set()),
            )
        self.timestamp, self.keys, self.pending = ts, keys, set()
        self._max, self._max_keys = ts, set()
        return self._base(ts, keys, extra)

    @staticmethod
    def _base(ts: int, keys: set[str], extra: Mapping[str, str]) -> dict[str, str]:
        state = dict(extra)
        if ts >= 0:
            state[TS_KEY] = str(ts)
        for i, k in enumerate(sorted(keys)):
            state[f"key-{i}"] = k
        return state


@dataclass
class EntityTracker:
    """Entity tracking within a time window."""

    window_ms: int
    initial_all: bool = True
    entities: dict[str, tuple[int, str]] = field(default_factory=dict)
    initialized: bool = False

    @classmethod
    def load(
        cls, state: Mapping[str, str], window_ms: int, initial_all: bool
    ) -> EntityTracker:
        t = cls(window_ms, initial_all)
        if ENTITIES_KEY in state:
            t.entities = {
                k: (int(v[0]), str(v[1]))
                for k, v in json.loads(state[ENTITIES_KEY]).items()
            }
        # Only a finished pass counts: a checkpoint of an interrupted initial listing
        # must not hide the older objects it had not reached yet.
        t.initialized = state.get(INITIALIZED_KEY) == "true"
        return t

    def is_new(self, e: ListingEntry, now_ms: int) -> bool:
        if e.last_modified_ms < now_ms - self.window_ms and (
            self.initialized or not self.initial_all
        ):
            return False
        seen = self.entities.get(e.identity)
        return seen is None or seen != (e.last_modified_ms, e.etag)

    def emitted(self, e: ListingEntry) -> None:
        self.entities[e.identity] = (e.last_modified_ms, e.etag)

    def checkpoint(self, extra: Mapping[str, str]) -> dict[str, str]:
        state = dict(extra)
        state[ENTITIES_KEY] = json.dumps(
            {k: [v[0], v[1]] for k, v in self.entities.items()}
        )
        if self.initialized:
            state[INITIALIZED_KEY] = "true"
        return state

    def finish(self, extra: Mapping[str, str], now_ms: int) -> dict[str, str]:
        """Forget entities that left the window; the next pass ignores them anyway."""
        cutoff = now_ms - self.window_ms
        self.entities = {k: v for k, v in self.entities.items() if v[0] >= cutoff}
        self.initialized = True
        return self.checkpoint(extra)
