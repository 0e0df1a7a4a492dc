"""What the merging processors (MergeContent, MergeRecord) share."""

from __future__ import annotations

from flowengine import FlowFile

__all__ = ["unique_attributes"]


def unique_attributes(flowfiles: list[FlowFile]) -> dict[str, str]:
    """NiFi's Keep All Unique Attributes: every attribute whose inputs agree on its
    value (an input without it does not conflict)."""
    out: dict[str, str] = {}
    conflicted: set[str] = set()
    for ff in flowfiles:
        for k, v in ff.attributes.items():
            if k in conflicted:
                continue
            if k in out and out[k] != v:
                conflicted.add(k)
                del out[k]
            else:
                out[k] = v
    return out
