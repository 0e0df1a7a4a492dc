"""Queue prioritizers: how a connection orders the FlowFiles waiting in it (NiFi §4.4).

A prioritizer is a key function: lower keys are polled first. A connection combines its
prioritizers in list order (first = most significant), then queue order breaks ties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._api._flowfile import FlowFile

__all__ = ["PRIORITIZERS", "Prioritizer", "resolve_prioritizer"]

Prioritizer = Callable[[FlowFile], Any]


def _fifo(ff: FlowFile) -> Any:
    return (ff.last_queue_date or 0, ff.queue_date_index)


def _oldest(ff: FlowFile) -> Any:
    return (ff.lineage_start_date, ff.id)


def _newest(ff: FlowFile) -> Any:
    return (-ff.lineage_start_date, -ff.id)


def _priority_attribute(ff: FlowFile) -> Any:
    # Numeric values first (ascending), then other values (lexicographic), missing last.
    value = ff.get("priority")
    if value is None:
        return (2, 0, "")
    try:
        return (0, int(value.strip()), "")
    except ValueError:
        return (1, 0, value)


PRIORITIZERS: dict[str, Prioritizer] = {
    "FirstInFirstOut": _fifo,
    "OldestFlowFileFirst": _oldest,
    "NewestFlowFileFirst": _newest,
    "PriorityAttribute": _priority_attribute,
}


def resolve_prioritizer(name: str) -> tuple[str, Prioritizer]:
    """Find a prioritizer by short or NiFi name (``org.apache.nifi.prioritizer.X``)."""
    short = name.rsplit(".", 1)[-1]
    if short.endswith("Prioritizer"):
        short = short[: -len("Prioritizer")]
    if short not in PRIORITIZERS:
        raise KeyError(name)
    return short, PRIORITIZERS[short]
