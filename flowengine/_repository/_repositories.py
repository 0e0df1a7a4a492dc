"""Choosing the repositories of a run: in memory, or durable under a state directory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._api._content import InMemoryContentRepository
from .._api._provenance import InMemoryProvenanceRepository, NoProvenance
from .._errors import FlowEngineError
from ._repository import InMemoryFlowFileRepository, Repositories

__all__ = ["Repositories", "open_repositories"]


def open_repositories(
    *,
    durable: bool,
    state_dir: str | None,
    provenance: bool,
    flow: str,
    settings: Mapping[str, Any] | None = None,
) -> Repositories:
    """The repositories for one run.

    In memory: nothing survives the process. Durable: FlowFiles, content, state and
    provenance live under ``state_dir`` and a restarted run resumes where it stopped.
    """
    if not durable:
        return Repositories(
            InMemoryContentRepository(),
            InMemoryFlowFileRepository(),
            InMemoryProvenanceRepository() if provenance else NoProvenance(),
        )
    if not state_dir:
        raise FlowEngineError("durable repositories need a state directory (state_dir)")
    try:
        from ._durable import open_durable_repositories
    except (
        ImportError
    ) as exc:  # pragma: no cover - only while the durable layer is absent
        raise FlowEngineError(
            "durable repositories are not available in this build; run in memory "
            "(--in-memory / durable=False)"
        ) from exc
    return open_durable_repositories(
        state_dir, flow=flow, provenance=provenance, settings=settings or {}
    )
