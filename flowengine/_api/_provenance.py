"""Provenance: the recorded history of every FlowFile (NiFi §7.3).

Sessions buffer events and hand them to a :class:`ProvenanceRepository` at commit, with the
attributes as of commit. The repository here keeps a bounded in-memory window (NiFi's
volatile repository); the durable one (rolling Parquet segments) implements the same
interface. :class:`NoProvenance` turns recording off for speed.
"""

from __future__ import annotations

import enum
import itertools
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._status import BackgroundTaskStatus

__all__ = [
    "InMemoryProvenanceRepository",
    "NoProvenance",
    "ProvenanceEvent",
    "ProvenanceEventType",
    "ProvenanceRepository",
]


class ProvenanceEventType(enum.StrEnum):
    CREATE = "CREATE"
    RECEIVE = "RECEIVE"
    FETCH = "FETCH"
    SEND = "SEND"
    UPLOAD = "UPLOAD"
    REMOTE_INVOCATION = "REMOTE_INVOCATION"
    DOWNLOAD = "DOWNLOAD"
    DROP = "DROP"
    EXPIRE = "EXPIRE"
    FORK = "FORK"
    JOIN = "JOIN"
    CLONE = "CLONE"
    CONTENT_MODIFIED = "CONTENT_MODIFIED"
    ATTRIBUTES_MODIFIED = "ATTRIBUTES_MODIFIED"
    ROUTE = "ROUTE"
    ADDINFO = "ADDINFO"
    REPLAY = "REPLAY"


@dataclass(slots=True)
class ProvenanceEvent:
    """One provenance event. ``event_id`` is assigned by the repository."""

    event_type: ProvenanceEventType
    flowfile_uuid: str
    component_id: str
    component_type: str
    timestamp_ms: int = 0
    attributes: Mapping[str, str] = field(default_factory=dict)
    size: int = 0
    lineage_start_date: int = 0
    entry_date: int = 0
    parent_uuids: tuple[str, ...] = ()
    child_uuids: tuple[str, ...] = ()
    relationship: str | None = None
    details: str | None = None
    transit_uri: str | None = None
    duration_ms: int = -1
    content_claim: str | None = None
    event_id: int = -1


class ProvenanceRepository:
    """Where committed events go. Subclasses store and query them."""

    #: when False, sessions skip building events at all
    enabled: bool = True

    def register(self, events: Sequence[ProvenanceEvent]) -> None:
        raise NotImplementedError

    def events(self) -> list[ProvenanceEvent]:
        """All retained events, oldest first."""
        raise NotImplementedError

    def query(
        self,
        *,
        uuid: str | None = None,
        component: str | None = None,
        event_type: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int | None = None,
    ) -> list[ProvenanceEvent]:
        out = []
        for e in self.events():
            if uuid is not None and e.flowfile_uuid != uuid:
                continue
            if component is not None and e.component_id != component:
                continue
            if event_type is not None and e.event_type != event_type:
                continue
            if since_ms is not None and e.timestamp_ms < since_ms:
                continue
            if until_ms is not None and e.timestamp_ms > until_ms:
                continue
            out.append(e)
            if limit is not None and len(out) >= limit:
                break
        return out

    def lineage(self, uuid: str) -> list[ProvenanceEvent]:
        """Every event of the FlowFile's ancestors and descendants (the lineage DAG)."""
        events = self.events()
        by_uuid: dict[str, list[ProvenanceEvent]] = {}
        for e in events:
            by_uuid.setdefault(e.flowfile_uuid, []).append(e)
        related = {uuid}
        frontier = [uuid]
        while frontier:  # ancestors
            u = frontier.pop()
            for e in by_uuid.get(u, []):
                for p in e.parent_uuids:
                    if p not in related:
                        related.add(p)
                        frontier.append(p)
        frontier = [uuid]
        down = {uuid}
        while frontier:  # descendants
            u = frontier.pop()
            for e in events:
                if u in e.parent_uuids and e.flowfile_uuid not in down:
                    down.add(e.flowfile_uuid)
                    frontier.append(e.flowfile_uuid)
                if e.flowfile_uuid == u:
                    for c in e.child_uuids:
                        if c not in down:
                            down.add(c)
                            frontier.append(c)
        related |= down
        return [e for e in events if e.flowfile_uuid in related]

    def background_status(self) -> tuple[BackgroundTaskStatus, ...]:
        """Health of the repository's background threads (none in memory)."""
        return ()

    def close(self) -> None:
        """Flush and release resources."""


class NoProvenance(ProvenanceRepository):
    """Provenance turned off."""

    enabled = False

    def register(self, events: Sequence[ProvenanceEvent]) -> None:
        return None

    def events(self) -> list[ProvenanceEvent]:
        return []


class InMemoryProvenanceRepository(ProvenanceRepository):
    """Keeps the newest ``max_events`` events in memory (NiFi's volatile repository)."""

    def __init__(self, max_events: int = 100_000) -> None:
        self._events: deque[ProvenanceEvent] = deque(maxlen=max_events)
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def register(self, events: Iterable[ProvenanceEvent]) -> None:
        with self._lock:
            ids = self._ids
            for e in events:
                e.event_id = next(ids)
                self._events.append(e)

    def events(self) -> list[ProvenanceEvent]:
        with self._lock:
            return list(self._events)
