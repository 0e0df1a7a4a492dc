"""Relationship retry: NiFi 2.x's "Automatically Retry" on chosen relationships.

A processor configured to retry, say, ``failure`` does not send a FlowFile there at once.
At commit the FlowFile is put back on the queue it came from *as it was taken* (content
and attributes; whatever the trigger changed is discarded, and so are children it
created from it), with ``retryCount.<processor id>`` counting the attempts, and it waits
before the next attempt: penalized (the FlowFile, the default) or by yielding the
processor, for the penalty or yield duration x 2^attempt, at most ``max_backoff``. Once
``count`` retries are spent it is routed normally. The counter attribute is removed
whenever the FlowFile leaves the processor. FlowFiles the trigger created (a source's
output) are never retried: there is nothing to go back to.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._flow_format import RETRY

__all__ = ["BACKOFFS", "RetryPolicy"]

#: how a retried FlowFile waits: penalized, or the processor yields
BACKOFFS = RETRY.values("backoff")


@dataclass(frozen=True)
class RetryPolicy:
    """Which relationships are retried, how often, and how the waits grow."""

    relationships: frozenset[str]
    # Defaults from the flow format's declaration of ``retry``.
    count: int = RETRY["count"].default
    backoff: str = RETRY["backoff"].default
    max_backoff: float = RETRY["max_backoff"].default

    def attribute(self, node_id: str) -> str:
        """The attribute counting a FlowFile's retries at that processor."""
        return f"retryCount.{node_id}"

    def delay(self, base: float, attempt: int) -> float:
        """The wait before retry number ``attempt + 1``: base x 2^attempt, capped."""
        return float(min(base * (1 << min(attempt, 40)), self.max_backoff))
