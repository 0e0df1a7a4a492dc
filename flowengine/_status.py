"""Frozen status snapshots and bulletins: the one view the CLI, the embedding result and
any future HTTP API all read (NiFi's status history and bulletin board)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["Bulletin", "ConnectionStatus", "FlowStatus", "ProcessorStatus"]


@dataclass(frozen=True)
class ConnectionStatus:
    """A frozen snapshot of one connection."""

    id: str
    name: str
    source: str
    destination: str
    relationships: tuple[str, ...]
    queued_count: int
    queued_bytes: int
    in_flight_count: int
    penalized_count: int
    back_pressure_objects: int
    back_pressure_bytes: int
    flowfiles_in: int
    bytes_in: int
    flowfiles_out: int
    bytes_out: int
    expired: int
    #: queued FlowFiles currently held in the repository, not in memory
    swapped_count: int = 0

    @property
    def fill_ratio(self) -> float:
        """Fullness against the tighter of the two thresholds (0 when both disabled)."""
        ratios = []
        total = self.queued_count + self.in_flight_count
        if self.back_pressure_objects:
            ratios.append(total / self.back_pressure_objects)
        if self.back_pressure_bytes:
            ratios.append(self.queued_bytes / self.back_pressure_bytes)
        return max(ratios, default=0.0)

    @property
    def is_full(self) -> bool:
        return self.fill_ratio >= 1.0


@dataclass(frozen=True)
class Bulletin:
    """A warning or error posted by a component."""

    time_ms: int
    level: str
    component: str
    message: str
    flowfile_uuid: str | None = None


@dataclass(frozen=True)
class ProcessorStatus:
    """Counters of one processor (or port/funnel) since the flow started."""

    id: str
    name: str
    type: str
    group: str
    state: str
    flowfiles_in: int
    bytes_in: int
    flowfiles_out: int
    bytes_out: int
    bytes_read: int
    bytes_written: int
    flowfiles_dropped: int
    triggers: int
    trigger_time_s: float
    active_tasks: int
    errors: int
    relationship_counts: Mapping[str, int]
    bulletins: tuple[Bulletin, ...] = ()
    #: FlowFiles that kept failing alone (isolation rule): uuid -> reason
    poison: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowStatus:
    """Everything at one instant."""

    flow: str
    time_ms: int
    processors: tuple[ProcessorStatus, ...]
    connections: tuple[ConnectionStatus, ...]

    @property
    def bulletins(self) -> tuple[Bulletin, ...]:
        out = [b for p in self.processors for b in p.bulletins]
        out.sort(key=lambda b: b.time_ms)
        return tuple(out)

    def processor(self, name: str) -> ProcessorStatus:
        for p in self.processors:
            if p.id == name or p.name == name:
                return p
        raise KeyError(name)

    def connection(self, id: str) -> ConnectionStatus:
        for c in self.connections:
            if c.id == id:
                return c
        raise KeyError(id)


#: attributes that say why a FlowFile went to a failure relationship, most specific first
_REASON_KEYS = ("error.message", "record.error.message")


def failure_reason(attrs: Mapping[str, str]) -> str | None:
    """Why a FlowFile was routed to failure, whichever attribute holds it.

    Processors write the reason under different names (``error.message``, the record
    processors' ``record.error.message``, S3's ``s3.exception`` with
    ``s3.errorMessage``, PutFile's ``putfile.failure.reason``…); the run summary's
    "last error" and the failure-routing WARN line show whichever is there.
    """
    for k in _REASON_KEYS:
        if attrs.get(k):
            return attrs[k]
    for suffix in (
        ".error.message",
        "failure.reason",
        "errorMessage",
        ".exception",
        ".error",
    ):
        for k, v in attrs.items():
            if k.endswith(suffix) and v:
                return v
    return None


def freeze_counts(counts: dict[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(counts))
