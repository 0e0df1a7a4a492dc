"""Content repository: where FlowFile content lives, referenced by claims.

A :class:`ContentClaim` names a byte range ``(resource, offset, length)`` of a *resource*
(an immutable blob: a file on disk, a bytes object in memory). Content is copy-on-write:
writers always produce a new claim, and nothing modifies a resource once it is written.

Resources are reference counted by *claimants* (live FlowFile versions that point into
them). A resource whose count drops to zero is released. Sessions do the counting:
see :mod:`flowengine._engine._standard_session` for when counts change (write, clone, fan-out, drop).

Implementations: :class:`InMemoryContentRepository` here; the durable on-disk repository
implements the same interface (see ``docs/architecture.md``).
"""

from __future__ import annotations

import io
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

if TYPE_CHECKING:
    from .._status import BackgroundTaskStatus

__all__ = [
    "ContentClaim",
    "ContentRepository",
    "ContentWriter",
    "InMemoryContentRepository",
]


class ContentClaim(NamedTuple):
    """A byte range of one content resource. Immutable and hashable."""

    resource: str
    offset: int
    length: int


class ContentWriter(io.RawIOBase):
    """A write-only binary stream that becomes a claim when closed.

    Use as a context manager; after ``close()`` (or leaving the ``with``), :attr:`claim`
    names the written content. :meth:`abort` discards what was written.
    """

    claim: ContentClaim | None = None

    def writable(self) -> bool:
        return True

    @abstractmethod
    def abort(self) -> None:
        """Discard everything written; the writer is closed without a claim."""

    @property
    def bytes_written(self) -> int:
        raise NotImplementedError


class ContentRepository(ABC):
    """Stores content resources and counts who refers to them.

    Thread-safe: sessions on worker threads and the event loop use it concurrently.
    """

    #: True when content survives a process restart.
    durable: bool = False

    @abstractmethod
    def writer(self) -> ContentWriter:
        """Open a stream for new content; the claim it yields starts with one claimant."""

    def write_bytes(self, data: bytes | bytearray | memoryview) -> ContentClaim:
        """Store ``data`` as new content (one claimant). Fast path for small contents."""
        with self.writer() as w:
            w.write(data)
        assert w.claim is not None
        return w.claim

    def write_chunks(self, chunks: Iterable[bytes]) -> ContentClaim:
        """Store the concatenation of ``chunks`` (streamed; one claimant)."""
        w = self.writer()
        try:
            for chunk in chunks:
                w.write(chunk)
        except BaseException:
            w.abort()
            raise
        w.close()
        assert w.claim is not None
        return w.claim

    def import_file(
        self, path: str | os.PathLike[str], *, link: bool = False
    ) -> ContentClaim:
        """Store the content of the file at ``path`` (one claimant).

        ``link`` allows a repository that keeps content in files to share the file's
        storage (a hard link) instead of copying it. The content must be immutable, so
        the caller promises that nobody modifies the source *in place* afterwards
        (replacing it by rename, or deleting it, is fine). Repositories that cannot link
        copy. Raises :class:`OSError` (``FileNotFoundError``...) for the source.
        """
        with open(path, "rb") as f:
            return self.write_chunks(iter(lambda: f.read(1 << 20), b""))

    def export(self, claim: ContentClaim, destination: BinaryIO) -> int:
        """Write the claim's bytes to ``destination``; returns the count written."""
        n = 0
        with self.open(claim) as src:
            while chunk := src.read(1 << 20):
                n += destination.write(chunk)
        return n

    @abstractmethod
    def open(self, claim: ContentClaim) -> BinaryIO:
        """A readable, seekable binary stream over exactly the claim's bytes."""

    def read(self, claim: ContentClaim) -> bytes:
        """The whole content of ``claim`` (the caller asked to hold it in memory)."""
        with self.open(claim) as f:
            return f.read()

    @abstractmethod
    def incref(self, claim: ContentClaim, n: int = 1) -> None:
        """Add ``n`` claimants to the claim's resource."""

    @abstractmethod
    def decref(self, claim: ContentClaim, n: int = 1) -> None:
        """Remove ``n`` claimants; a resource with none left is released."""

    def decref_many(self, claims: Iterable[ContentClaim]) -> None:
        for c in claims:
            self.decref(c)

    @abstractmethod
    def claimant_count(self, claim: ContentClaim) -> int:
        """Current claimants of the claim's resource (0 once released)."""

    @abstractmethod
    def resource_count(self) -> int:
        """Number of live resources (leak checks in tests)."""

    def background_status(self) -> tuple[BackgroundTaskStatus, ...]:
        """Health of the repository's background threads (none in memory)."""
        return ()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release OS resources; content of a non-durable repository is gone."""


class _MemoryWriter(ContentWriter):
    def __init__(self, repo: InMemoryContentRepository) -> None:
        super().__init__()
        self._repo = repo
        self._buf = io.BytesIO()

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        return self._buf.write(b)

    @property
    def bytes_written(self) -> int:
        return self._buf.tell()

    def close(self) -> None:
        if not self.closed:
            if self.claim is None and self._buf is not None:
                self.claim = self._repo._store(self._buf.getvalue())
            self._buf = io.BytesIO()
        super().close()

    def abort(self) -> None:
        self._buf = io.BytesIO()
        self.claim = None
        super().close()


class InMemoryContentRepository(ContentRepository):
    """Content held in process memory; lost on exit. Fast path for rerunnable batch jobs."""

    durable = False

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._next = 0

    def _store(self, data: bytes) -> ContentClaim:
        with self._lock:
            self._next += 1
            rid = f"m{self._next}"
            self._data[rid] = data
            self._counts[rid] = 1
        return ContentClaim(rid, 0, len(data))

    def writer(self) -> ContentWriter:
        return _MemoryWriter(self)

    def write_bytes(self, data: bytes | bytearray | memoryview) -> ContentClaim:
        return self._store(bytes(data))

    def import_file(
        self, path: str | os.PathLike[str], *, link: bool = False
    ) -> ContentClaim:
        """One read into one bytes object (no chunks joined, no buffer copied)."""
        with open(path, "rb") as f:
            return self._store(f.read())

    def export(self, claim: ContentClaim, destination: BinaryIO) -> int:
        data = self._get(claim)
        view = memoryview(data)
        written = 0
        while written < len(view):  # (a raw stream may take part of it)
            n = destination.write(view[written:])
            written += len(view) - written if n is None else n
        return written

    def open(self, claim: ContentClaim) -> BinaryIO:
        data = self._get(claim)
        return io.BytesIO(data)

    def read(self, claim: ContentClaim) -> bytes:
        return self._get(claim)

    def _get(self, claim: ContentClaim) -> bytes:
        try:
            data = self._data[claim.resource]
        except KeyError:
            from .._errors import ContentError

            raise ContentError(f"content {claim.resource} is missing") from None
        if claim.offset == 0 and claim.length == len(data):
            return data
        return data[claim.offset : claim.offset + claim.length]

    def incref(self, claim: ContentClaim, n: int = 1) -> None:
        with self._lock:
            self._counts[claim.resource] += n

    def decref(self, claim: ContentClaim, n: int = 1) -> None:
        with self._lock:
            left = self._counts[claim.resource] - n
            if left <= 0:
                del self._counts[claim.resource]
                del self._data[claim.resource]
            else:
                self._counts[claim.resource] = left

    def decref_many(self, claims: Iterable[ContentClaim]) -> None:
        with self._lock:
            counts, data = self._counts, self._data
            for c in claims:
                left = counts[c.resource] - 1
                if left <= 0:
                    del counts[c.resource]
                    del data[c.resource]
                else:
                    counts[c.resource] = left

    def claimant_count(self, claim: ContentClaim) -> int:
        with self._lock:
            return self._counts.get(claim.resource, 0)

    def resource_count(self) -> int:
        with self._lock:
            return len(self._data)

    def close(self) -> None:
        with self._lock:
            self._data.clear()
            self._counts.clear()
