"""FlowFile repository: what makes committed work survive a crash (NiFi §7.1).

A session commit hands the repository one :class:`CommitDelta` (FlowFiles placed in queues,
FlowFiles gone, component state changed) *before* its effects become visible; a durable
implementation makes it durable before returning. The in-memory one only keeps state.

:class:`Repositories` bundles the three repositories of one run; it lives here, below
both the in-memory choice (``_repositories``) and the durable implementations
(``_durable``), so neither has to import the other to name it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._api._content import ContentRepository
from .._api._flowfile import FlowFile
from .._api._provenance import ProvenanceRepository

if TYPE_CHECKING:
    from .._status import BackgroundTaskStatus

__all__ = [
    "CommitDelta",
    "FlowFileRepository",
    "InMemoryFlowFileRepository",
    "Repositories",
]


@dataclass(slots=True)
class CommitDelta:
    """Everything one session commit changes.

    Attributes:
        placed: (queue id, FlowFile) for every FlowFile version now in a queue.
        dropped: FlowFiles that left the flow (removed, auto-terminated, expired).
        state: component id → its complete new state map.
    """

    placed: list[tuple[str, FlowFile]] = field(default_factory=list)
    dropped: list[FlowFile] = field(default_factory=list)
    state: dict[str, dict[str, str]] = field(default_factory=dict)


class FlowFileRepository:
    """Records committed FlowFile and state changes."""

    durable: bool = False

    def commit(self, delta: CommitDelta) -> None:
        raise NotImplementedError

    def load_state(self, component_id: str) -> dict[str, str]:
        raise NotImplementedError

    def restore(self) -> Iterable[tuple[str, FlowFile]]:
        """FlowFiles to put back in their queues at start, in queue order."""
        return ()

    def swap_store(self, queue_id: str) -> Any:
        """A :class:`~flowengine._engine._connection.SwapStore` for the queue, or None when this
        repository cannot hold swapped-out FlowFiles (everything stays in memory).

        Called once per connection while the flow is built, before :meth:`restore`;
        the durable repository then restores that queue lazily through the store.
        """
        return None

    def background_status(self) -> tuple[BackgroundTaskStatus, ...]:
        """Health of the repository's background work (none in memory)."""
        return ()

    def close(self) -> None:
        """Flush and release resources."""


class InMemoryFlowFileRepository(FlowFileRepository):
    """Nothing survives a restart; component state lives in memory for the run."""

    def __init__(
        self, initial_state: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        self._state: dict[str, dict[str, str]] = {
            k: dict(v) for k, v in (initial_state or {}).items()
        }
        self._lock = threading.Lock()

    def commit(self, delta: CommitDelta) -> None:
        if delta.state:
            with self._lock:
                for cid, st in delta.state.items():
                    self._state[cid] = dict(st)

    def load_state(self, component_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._state.get(component_id, {}))


@dataclass
class Repositories:
    """The content, FlowFile and provenance repositories of one run."""

    content: ContentRepository
    flowfiles: FlowFileRepository
    provenance: ProvenanceRepository
