"""Relationship: a named outcome a processor routes FlowFiles to (NiFi's Relationship).

A leaf of the plugin contract: the session interface, the context and the processor API
all name relationships, so they live below all three.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAILURE_RELATIONSHIPS", "Relationship"]


@dataclass(frozen=True)
class Relationship:
    """A named outcome a processor routes FlowFiles to.

    Attributes:
        name: lowercase name used in connections (``success``, ``failure``).
        description: when FlowFiles are routed here.
        auto_terminate_default: dropped unless connected (NiFi ``autoTerminateDefault``).
    """

    name: str
    description: str = ""
    auto_terminate_default: bool = False

    def __str__(self) -> str:
        return self.name

    @property
    def is_failure(self) -> bool:
        """A failure-type relationship: FlowFiles auto-terminated here count as failures
        of a run (exit code 3)."""
        n = self.name
        return n.endswith("failure") or n in FAILURE_RELATIONSHIPS


FAILURE_RELATIONSHIPS = frozenset({"failure", "not.found", "permission.denied"})
