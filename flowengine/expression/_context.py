"""Where a compiled expression looks names up: the evaluation context.

NiFi 2.x's lookup order (processor extras -> FlowFile pseudo-attributes -> attributes ->
environment) and the context that context-aware functions (``evaluateELString``,
``getStateValue``) receive. A leaf of the package: the compiler, the multi-attribute
helpers and the function modules all use it, none of them is imported by it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

__all__ = ["PSEUDO", "EvalContext", "attrs_of", "lookup", "pseudo"]

#: FlowFile pseudo-attributes (``${fileSize}``...) -> the FlowFile field holding them
PSEUDO: Final = {
    "fileSize": "size",
    "entryDate": "entry_date",
    "lineageStartDate": "lineage_start_date",
    "flowFileId": "id",
    "lastQueueDate": "last_queue_date",
    "queueDateIndex": "queue_date_index",
}


class EvalContext(NamedTuple):
    """What context-aware functions (``evaluateELString``, ``getStateValue``) see."""

    flowfile: Any
    attributes: Mapping[str, str]
    extras: Mapping[str, str] | None
    state: Mapping[str, str] | None


def pseudo(flowfile: Any, name: str) -> str | None:
    """The pseudo-attribute ``name`` of ``flowfile`` as text (None when unset)."""
    value = getattr(flowfile, PSEUDO[name], None)
    return None if value is None else str(value)


def attrs_of(flowfile: Any) -> Mapping[str, str]:
    """The FlowFile's attribute map; the engine's FlowFile exposes its (never mutated)
    dict as ``_attrs``, which skips building a read-only view per evaluation."""
    attrs = getattr(flowfile, "_attrs", None)
    return attrs if attrs is not None else flowfile.attributes  # type: ignore[no-any-return]


def lookup(ctx: EvalContext, name: str | None) -> str | None:
    """Full NiFi name lookup: extras -> pseudo-attributes -> attributes -> env."""
    if name is None:
        return None
    if ctx.extras is not None:
        value = ctx.extras.get(name)
        if value is not None:
            return value
    if ctx.flowfile is not None and name in PSEUDO:
        value = pseudo(ctx.flowfile, name)
        if value is not None:
            return value
    value = ctx.attributes.get(name)
    if value is None:
        value = os.environ.get(name)
    return value
