"""FlowFile: immutable attributes plus a reference to content.

A FlowFile never holds content bytes: it points at a :class:`~flowengine._api._content.ContentClaim`
in a content repository. Every change (attributes, content, penalty) makes a new *version*
that keeps the same ``id`` and ``uuid``; the old object stays valid and unchanged, so a
processor must always keep the object a session call returns (NiFi's contract).

Core attributes (``uuid``, ``filename``, ``path``) live in the attribute map; framework fields
(``entry_date``, ``lineage_start_date``, ``size``...) are slots, exposed to Expression Language
as the pseudo-attributes ``entryDate``, ``lineageStartDate``, ``fileSize``, ``flowFileId``...
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._content import ContentClaim

__all__ = ["CoreAttributes", "FlowFile", "new_uuid"]


class CoreAttributes:
    """Names of NiFi's core attributes."""

    UUID = "uuid"
    FILENAME = "filename"
    PATH = "path"
    ABSOLUTE_PATH = "absolute.path"
    MIME_TYPE = "mime.type"
    PRIORITY = "priority"
    DISCARD_REASON = "discard.reason"
    ALTERNATE_IDENTIFIER = "alternate.identifier"


#: attributes a processor can neither remove nor (for uuid) overwrite
PROTECTED_FROM_REMOVAL = frozenset({"uuid", "filename", "path"})

_ids = itertools.count(1)
_id_lock = threading.Lock()


def _next_id() -> int:
    # next() on itertools.count is atomic under the GIL: no lock on the hot path.
    return next(_ids)


def reserve_ids(start: int) -> None:
    """Make sure future ids are above ``start`` (used when a repository restores FlowFiles)."""
    global _ids
    with _id_lock:
        current = next(_ids)
        _ids = itertools.count(max(current, start + 1))


# Version-4 UUIDs from a Mersenne Twister seeded from os.urandom: FlowFile uuids must be
# unique, not secret, and ``uuid.uuid4()`` (os.urandom per call) costs ~4 µs where this
# costs ~0.6 µs — it matters at hundreds of thousands of FlowFiles per second.
_rng = random.Random(os.urandom(32))
_getrandbits = _rng.getrandbits
_UUID_MASK = ((1 << 128) - 1) ^ (0xF000 << 64) ^ (0xC000 << 48)
_UUID_BITS = (0x4000 << 64) | (0x8000 << 48)


def new_uuid() -> str:
    """Return a random RFC 4122 version-4 UUID string."""
    h = (_getrandbits(128) & _UUID_MASK | _UUID_BITS).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _reseed_after_fork() -> None:
    _rng.seed(os.urandom(32))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed_after_fork)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class FlowFile:
    """An immutable FlowFile version: attributes, content reference and framework metadata.

    Create FlowFiles through a :class:`~flowengine.ProcessSession`, never directly.
    """

    __slots__ = (
        "_attrs",
        "claim",
        "entry_date",
        "id",
        "last_queue_date",
        "lineage_start_date",
        "penalty_until",
        "queue_date_index",
        "size",
    )

    _attrs: dict[str, str]
    claim: ContentClaim | None
    entry_date: int
    id: int
    last_queue_date: int | None
    lineage_start_date: int
    penalty_until: float
    queue_date_index: int
    size: int

    def __init__(
        self,
        attributes: dict[str, str],
        claim: ContentClaim | None,
        *,
        id: int | None = None,
        entry_date: int | None = None,
        lineage_start_date: int | None = None,
        penalty_until: float = 0.0,
        last_queue_date: int | None = None,
        queue_date_index: int = 0,
    ) -> None:
        # The dict is owned by this FlowFile from here on and never mutated again.
        self._attrs = attributes
        self.claim = claim
        self.size = claim.length if claim is not None else 0
        self.id = _next_id() if id is None else id
        self.entry_date = now_ms() if entry_date is None else entry_date
        self.lineage_start_date = (
            self.entry_date if lineage_start_date is None else lineage_start_date
        )
        self.penalty_until = penalty_until
        self.last_queue_date = last_queue_date
        self.queue_date_index = queue_date_index

    # -- read access -------------------------------------------------------------
    @property
    def attributes(self) -> Mapping[str, str]:
        """A read-only view of the attributes."""
        return MappingProxyType(self._attrs)

    @property
    def uuid(self) -> str:
        return self._attrs["uuid"]

    @property
    def filename(self) -> str:
        return self._attrs.get("filename", "")

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return attribute ``name`` or ``default``."""
        return self._attrs.get(name, default)

    def __getitem__(self, name: str) -> str:
        return self._attrs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._attrs

    def __iter__(self) -> Iterator[str]:
        return iter(self._attrs)

    @property
    def is_penalized(self) -> bool:
        return self.penalty_until > 0.0 and self.penalty_until > time.monotonic()

    def __repr__(self) -> str:
        return (
            f"FlowFile(id={self.id}, uuid={self._attrs.get('uuid')!r}, "
            f"filename={self._attrs.get('filename')!r}, size={self.size})"
        )

    # -- new versions (framework use: sessions call these) -------------------------
    def _evolve(self, **changes: Any) -> FlowFile:
        """A new version with the given fields changed; shares what is not changed."""
        new = FlowFile.__new__(FlowFile)
        new._attrs = changes.pop("attrs", self._attrs)
        new.claim = changes.pop("claim", self.claim)
        new.size = new.claim.length if new.claim is not None else 0
        new.id = self.id
        new.entry_date = changes.pop("entry_date", self.entry_date)
        new.lineage_start_date = self.lineage_start_date
        new.penalty_until = changes.pop("penalty_until", self.penalty_until)
        new.last_queue_date = changes.pop("last_queue_date", self.last_queue_date)
        new.queue_date_index = changes.pop("queue_date_index", self.queue_date_index)
        if changes:
            raise TypeError(f"unknown FlowFile fields: {sorted(changes)}")
        return new

    @classmethod
    def _fresh(
        cls, attrs: dict[str, str], entry_date: int, lineage_start_date: int
    ) -> FlowFile:
        # Hot path of session.create(): no content, no keyword handling.
        new = cls.__new__(cls)
        new._attrs = attrs
        new.claim = None
        new.size = 0
        new.id = next(_ids)
        new.entry_date = entry_date
        new.lineage_start_date = lineage_start_date
        new.penalty_until = 0.0
        new.last_queue_date = None
        new.queue_date_index = 0
        return new

    def _with_claim(self, claim: ContentClaim | None) -> FlowFile:
        # Hot path of session.write().
        new = FlowFile.__new__(FlowFile)
        new._attrs = self._attrs
        new.claim = claim
        new.size = claim.length if claim is not None else 0
        new.id = self.id
        new.entry_date = self.entry_date
        new.lineage_start_date = self.lineage_start_date
        new.penalty_until = self.penalty_until
        new.last_queue_date = self.last_queue_date
        new.queue_date_index = self.queue_date_index
        return new

    def _with_attrs(self, attrs: dict[str, str]) -> FlowFile:
        # Hot path of UpdateAttribute: avoid **kwargs machinery.
        new = FlowFile.__new__(FlowFile)
        new._attrs = attrs
        new.claim = self.claim
        new.size = self.size
        new.id = self.id
        new.entry_date = self.entry_date
        new.lineage_start_date = self.lineage_start_date
        new.penalty_until = self.penalty_until
        new.last_queue_date = self.last_queue_date
        new.queue_date_index = self.queue_date_index
        return new
