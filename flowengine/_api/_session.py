"""ProcessSession: the transaction a processor works in (NiFi §2) — the plugin contract.

Everything a processor does in one trigger (get, create, clone, modify, transfer, remove)
is recorded in its session and becomes visible downstream only at
:meth:`ProcessSession.commit`, all at once; :meth:`ProcessSession.rollback` undoes it all
and returns pulled FlowFiles to the queues they came from.

This module is the *interface* a processor programs against, like NiFi's ``nifi-api``
``ProcessSession``: abstract, typed and documented, importing only leaves (FlowFile,
Relationship, provenance event types). The engine's implementation is
:class:`flowengine._engine._standard_session.StandardProcessSession`, built over a narrow host
protocol instead of the engine's node; ``isinstance(session, flowengine.ProcessSession)``
holds for every session a processor is given.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from os import PathLike
from typing import Any, BinaryIO, overload

from ._flowfile import FlowFile
from ._provenance import ProvenanceEventType
from ._relationship import Relationship

__all__ = ["Content", "ProcessSession", "ProvenanceReporter"]

#: what ``write`` and ``append`` accept as content in one piece (str: UTF-8)
Content = bytes | bytearray | memoryview | str


class ProvenanceReporter(ABC):
    """Lets a processor report what it did with a FlowFile (NiFi's ProvenanceReporter).

    Events are buffered and registered at commit with the attributes as of commit.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def enabled(self) -> bool:
        """False when provenance is off: skip building details that only events need."""

    @abstractmethod
    def _report(
        self,
        etype: ProvenanceEventType,
        ff: FlowFile,
        *,
        uri: str | None = None,
        details: str | None = None,
        relationship: str | None = None,
        duration_ms: int = -1,
    ) -> None:
        """Buffer one event about ``ff`` (the session's own FlowFile) until commit."""

    def create(self, ff: FlowFile, details: str | None = None) -> None:
        self._report(ProvenanceEventType.CREATE, ff, details=details)

    def receive(
        self, ff: FlowFile, uri: str, details: str | None = None, duration_ms: int = -1
    ) -> None:
        self._report(
            ProvenanceEventType.RECEIVE,
            ff,
            uri=uri,
            details=details,
            duration_ms=duration_ms,
        )

    def fetch(
        self, ff: FlowFile, uri: str, details: str | None = None, duration_ms: int = -1
    ) -> None:
        self._report(
            ProvenanceEventType.FETCH,
            ff,
            uri=uri,
            details=details,
            duration_ms=duration_ms,
        )

    def send(
        self, ff: FlowFile, uri: str, details: str | None = None, duration_ms: int = -1
    ) -> None:
        self._report(
            ProvenanceEventType.SEND,
            ff,
            uri=uri,
            details=details,
            duration_ms=duration_ms,
        )

    def upload(self, ff: FlowFile, uri: str, details: str | None = None) -> None:
        self._report(ProvenanceEventType.UPLOAD, ff, uri=uri, details=details)

    def remote_invocation(
        self, ff: FlowFile, uri: str, details: str | None = None
    ) -> None:
        self._report(
            ProvenanceEventType.REMOTE_INVOCATION, ff, uri=uri, details=details
        )

    def route(
        self, ff: FlowFile, relationship: Relationship | str, details: str | None = None
    ) -> None:
        rel = (
            relationship.name
            if isinstance(relationship, Relationship)
            else relationship
        )
        self._report(ProvenanceEventType.ROUTE, ff, relationship=rel, details=details)

    def modify_content(self, ff: FlowFile, details: str | None = None) -> None:
        self._report(ProvenanceEventType.CONTENT_MODIFIED, ff, details=details)

    def modify_attributes(self, ff: FlowFile, details: str | None = None) -> None:
        self._report(ProvenanceEventType.ATTRIBUTES_MODIFIED, ff, details=details)

    def add_info(self, ff: FlowFile, uri: str, details: str | None = None) -> None:
        self._report(ProvenanceEventType.ADDINFO, ff, uri=uri, details=details)


class ProcessSession(ABC):
    """A unit of work: NiFi's ProcessSession contract, in Python.

    Every method that changes a FlowFile returns its new version; keep using the returned
    object. Nothing is visible to other components until :meth:`commit`. Not thread-safe:
    one session belongs to one trigger.

    A FlowFile passed to a method must be one this session holds (taken with
    :meth:`get`, made with :meth:`create`/:meth:`clone`, or migrated here), in its
    latest version, and not yet transferred or removed; anything else rolls the session
    back and raises :class:`~flowengine._errors.FlowFileHandlingError`. A session whose
    trigger was abandoned when the run stopped raises
    :class:`~flowengine._errors.TerminatedTaskError` from then on.

    Processors are given sessions; they never construct one (the engine's is
    ``StandardProcessSession``; ``flowengine.testing.TestRunner.session()`` hands out one
    for driving this API directly).
    """

    __slots__ = ()
    __module__ = "flowengine"

    #: reports what the processor did (RECEIVE, SEND, FETCH…), registered at commit
    provenance: ProvenanceReporter

    # -- getting FlowFiles -------------------------------------------------------------
    @overload
    def get(self, max_count: None = None) -> FlowFile | None: ...

    @overload
    def get(self, max_count: int) -> list[FlowFile]: ...

    @abstractmethod
    def get(self, max_count: int | None = None) -> FlowFile | list[FlowFile] | None:
        """``get()``: the next available FlowFile or None (round-robin over incoming
        queues). ``get(n)``: a list of up to n FlowFiles, all from one queue."""

    @abstractmethod
    def queue_size(self) -> tuple[int, int]:
        """(count, bytes) queued across all incoming connections."""

    # -- creating ----------------------------------------------------------------------
    @abstractmethod
    def create(self, parents: FlowFile | Sequence[FlowFile] | None = None) -> FlowFile:
        """A new FlowFile with empty content; with parent(s), a child that inherits
        attributes (NiFi §1.3) and lineage."""

    @abstractmethod
    def clone(
        self, ff: FlowFile, offset: int | None = None, length: int | None = None
    ) -> FlowFile:
        """An exact copy (new uuid) sharing the content, or a byte range of it."""

    # -- attributes --------------------------------------------------------------------
    @abstractmethod
    def put_attribute(self, ff: FlowFile, key: str, value: str) -> FlowFile:
        """Set one attribute (``uuid`` cannot be changed and is ignored)."""

    @abstractmethod
    def put_attributes(self, ff: FlowFile, attributes: Mapping[str, str]) -> FlowFile:
        """Set several attributes at once (``uuid`` ignored)."""

    @abstractmethod
    def remove_attribute(self, ff: FlowFile, key: str) -> FlowFile:
        """Remove one attribute (``uuid``, ``filename``, ``path`` are kept)."""

    @abstractmethod
    def remove_attributes(
        self, ff: FlowFile, keys: Iterable[str] | re.Pattern[str]
    ) -> FlowFile:
        """Remove attributes by name or by a compiled regex (fully matched)."""

    # -- content -----------------------------------------------------------------------
    @abstractmethod
    def write(
        self,
        ff: FlowFile,
        data: Content | Iterable[bytes] | Callable[[BinaryIO], Any],
    ) -> FlowFile:
        """Replace the content. ``data`` is bytes/str, an iterable of byte chunks
        (streamed), or a callback that writes to a binary stream."""

    @abstractmethod
    def rewrite(
        self, ff: FlowFile, callback: Callable[[BinaryIO, BinaryIO], Any]
    ) -> FlowFile:
        """Stream the old content through ``callback(input, output)`` into new content."""

    @abstractmethod
    def append(self, ff: FlowFile, data: Content | Iterable[bytes]) -> FlowFile:
        """Append to the content (copy-on-write: a new claim holds old + new bytes)."""

    @abstractmethod
    def read(self, ff: FlowFile) -> bytes:
        """The whole content in memory (for contents known to be small)."""

    @abstractmethod
    def open(self, ff: FlowFile) -> AbstractContextManager[BinaryIO]:
        """A context manager yielding a readable binary stream over the content."""

    @abstractmethod
    def import_from(
        self,
        source: str | PathLike[str] | BinaryIO,
        ff: FlowFile | None = None,
        *,
        link: bool = False,
    ) -> FlowFile:
        """Stream a file (path) or binary stream into the content of ``ff`` (or a new one).

        ``link`` lets a durable content repository hard-link a file instead of copying it;
        only for sources nobody modifies in place afterwards (see
        :meth:`ContentRepository.import_file`).
        """

    @abstractmethod
    def export_to(
        self, ff: FlowFile, destination: str | PathLike[str] | BinaryIO
    ) -> int:
        """Stream the content to a path or binary stream; returns bytes written."""

    # -- routing -----------------------------------------------------------------------
    @abstractmethod
    def penalize(self, ff: FlowFile) -> FlowFile:
        """Mark the FlowFile so nothing polls it for the processor's penalty duration."""

    @abstractmethod
    def transfer(
        self,
        ff: FlowFile | Sequence[FlowFile],
        relationship: Relationship | str | None = None,
    ) -> None:
        """Route FlowFile(s) to a relationship at commit; without one, back to the queue
        they came from (transfer to self; illegal for FlowFiles created here)."""

    @abstractmethod
    def remove(self, ff: FlowFile | Sequence[FlowFile]) -> None:
        """Drop FlowFile(s) from the flow at commit (a DROP provenance event)."""

    @abstractmethod
    def migrate(self, target: ProcessSession, flowfiles: Sequence[FlowFile]) -> None:
        """Hand FlowFiles (and their pending changes) to another session of the same
        processor, which then commits or rolls them back (NiFi's ``migrate``): how a
        binning processor keeps FlowFiles in per-bin sessions across triggers."""

    # -- state -------------------------------------------------------------------------
    @abstractmethod
    def get_state(self) -> dict[str, str]:
        """The component's state as this session sees it."""

    @abstractmethod
    def set_state(self, state: Mapping[str, str]) -> None:
        """Replace the component's state; applied atomically with the commit."""

    # -- commit / rollback -------------------------------------------------------------
    @property
    @abstractmethod
    def is_empty(self) -> bool:
        """Nothing taken, created or changed, and no state set: a commit does nothing."""

    @abstractmethod
    def commit(self) -> None:
        """Make everything done in this session visible at once (NiFi's commit order:
        provenance, repository journal, enqueue, acknowledge).

        A terminated session (its trigger was abandoned at stop), or any session of a
        processor one of whose triggers was abandoned, never commits: it is rolled back
        and :class:`~flowengine._errors.TerminatedTaskError` is raised."""

    @abstractmethod
    def rollback(self, penalize: bool = False, *, requeue: bool = True) -> None:
        """Undo everything: pulled FlowFiles go back to their queues (penalized if asked),
        content written here is released, reported events and state changes vanish.
        ``requeue=False`` (the engine's isolation of a failed batch) keeps the pulled
        FlowFiles in flight: the caller owns them."""

    @property
    @abstractmethod
    def flowfiles(self) -> list[FlowFile]:
        """Current versions of every FlowFile the session holds (for diagnostics)."""
