"""Reverse: a transform-style processor in a few lines."""

from __future__ import annotations

import flowengine


@flowengine.transform(name="Reverse", tags=["text", "example"])
def reverse(flowfile: flowengine.FlowFile, content: bytes) -> bytes:
    """Reverses the bytes of the content."""
    return content[::-1]
