"""The on-disk content repository (NiFi's FileSystemRepository, §7.2).

A *resource* is one file ``<section>/<start-ms>-<n>`` under the content directory. Small
contents are appended to shared resource files until a file reaches the appendable size
(NiFi: 50 KB), so a million tiny FlowFiles make a few thousand files, not a million; a
shared file is used by one writer at a time. A content that outgrows the appendable size
while being written spills into its own file and is streamed there: a writer never holds
more than the appendable size in memory.

Claimant counts are kept per resource in memory and rebuilt at start from the FlowFile
repository (the only durable references). A resource whose count reaches zero is deleted by
a background thread, after the FlowFile repository made the commit that released it
durable (``durability_barrier``), so a crash never resurrects a FlowFile whose content is
gone. At start every file that no committed FlowFile references (written by a session that
never committed, or released just before a crash) is deleted.

No space left (the disk, or the configured ``max_size``) raises
:class:`~flowengine._errors.ContentRepositoryFullError`; nothing half-written is ever
referenced.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import stat
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from ..._api._content import ContentClaim, ContentRepository, ContentWriter
from ..._api._flowfile import now_ms
from ..._errors import ContentError, ContentRepositoryFullError
from ..._logging import engine_logger
from ..._status import BackgroundTaskStatus
from .._background import BackgroundHealth, next_backoff

__all__ = ["FileContentRepository"]

_SECTIONS = 256
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_COPY_CHUNK = 64 << 20
_kernel_copy = hasattr(os, "copy_file_range")


def _copy_range(src: int, src_off: int, dst: int, dst_off: int, count: int) -> int:
    """Copy up to ``count`` bytes between file offsets; 0 at the source's end.

    ``copy_file_range`` keeps the bytes in the kernel (and clones extents on btrfs/XFS);
    where it is missing or refuses the pair of files, a pread/pwrite of 1 MiB does it.
    """
    global _kernel_copy
    if _kernel_copy:
        try:
            return os.copy_file_range(src, dst, count, src_off, dst_off)
        except OSError as exc:
            if exc.errno not in (
                errno.EXDEV,
                errno.ENOSYS,
                errno.EINVAL,
                errno.EOPNOTSUPP,
            ):
                raise
            if exc.errno in (errno.ENOSYS, errno.EOPNOTSUPP):
                _kernel_copy = False
    data = os.pread(src, min(count, 1 << 20), src_off)
    view = memoryview(data)
    while view:
        written = os.pwrite(dst, view, dst_off)
        view, dst_off = view[written:], dst_off + written
    return len(data)


class _AppendFile:
    """A shared resource file open for appending; owned by one writer at a time."""

    __slots__ = ("fd", "resource", "size")

    def __init__(self, resource: str, fd: int) -> None:
        self.resource = resource
        self.fd = fd
        self.size = 0


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class _Writer(ContentWriter):
    """Buffers up to the appendable size, then spills to a file of its own.

    One thread writes at a time, but a writer may be aborted from another thread while
    a background encoder still writes (a record writer abandoned after an error): the
    lock makes that abort wait for the write in progress, and later writes fail instead
    of touching a closed file descriptor."""

    def __init__(self, repo: FileContentRepository) -> None:
        super().__init__()
        self._repo = repo
        self._buf = bytearray()
        self._file: _AppendFile | None = None
        self._n = 0
        self._lock = threading.Lock()

    def write(self, b: Any) -> int:
        n = memoryview(b).nbytes
        with self._lock:
            if self.closed:
                raise ValueError("write to a closed content writer")
            if self._file is None:
                if len(self._buf) + n <= self._repo.max_appendable:
                    self._buf += b
                    self._n += n
                    return n
                self._file = self._repo._new_file()
                pending, self._buf = self._buf, bytearray()
                try:
                    self._repo._write_file(self._file, pending)
                except BaseException:
                    self._fail()
                    raise
            try:
                self._repo._write_file(self._file, b)
            except BaseException:
                self._fail()  # a failed write (disk full) leaves no partial file
                raise
            self._n += n
            return n

    def _fail(self) -> None:
        """Discard the partial file and close: the writer cannot produce a claim now."""
        if self._file is not None:
            self._repo._discard_file(self._file)
            self._file = None
        self._buf = bytearray()
        super().close()

    @property
    def bytes_written(self) -> int:
        return self._n

    def close(self) -> None:
        with self._lock:
            try:
                if not self.closed and self.claim is None:
                    if self._file is None:
                        self.claim = self._repo._append(self._buf)
                    else:
                        self.claim = self._repo._finish_file(self._file)
            except BaseException:
                if self._file is not None:
                    self._repo._discard_file(self._file)
                    self._file = None
                raise
            finally:
                self._buf = bytearray()
                super().close()

    def abort(self) -> None:
        with self._lock:
            if self._file is not None:
                self._repo._discard_file(self._file)
                self._file = None
            self._buf = bytearray()
            self.claim = None
            super().close()


class _ClaimReader(io.RawIOBase):
    """Exactly the claim's bytes of a resource file, seekable."""

    def __init__(self, fd: int, offset: int, length: int) -> None:
        super().__init__()
        self._fd = fd
        self._start = offset
        self._len = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        left = self._len - self._pos
        if left <= 0:
            return 0
        view = memoryview(b).cast("B")
        want = min(len(view), left)
        data = os.pread(self._fd, want, self._start + self._pos)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        left = self._len - self._pos
        data = os.pread(self._fd, left, self._start + self._pos) if left > 0 else b""
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._len}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


class FileContentRepository(ContentRepository):
    """Content in files under ``directory`` (see the module docstring).

    Args:
        directory: the content directory (created if missing).
        claim_counts: claimants per resource, from the FlowFile repository.
        max_appendable: size up to which contents share resource files.
        max_size: refuse writes beyond this many bytes of content (0: until the disk
            is full).
        sync_always: fsync content before the FlowFile repository commits it.
        barrier: makes released references durable before files are deleted.
        cleanup_interval: seconds between background deletions.
    """

    durable = True

    def __init__(
        self,
        directory: Path,
        *,
        claim_counts: dict[str, int] | None = None,
        max_appendable: int = 50 * 1024,
        max_size: int = 0,
        sync_always: bool = False,
        barrier: Callable[[], None] | None = None,
        cleanup_interval: float = 0.25,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_appendable = max_appendable
        self.max_size = max_size
        self.sync_always = sync_always
        self.barrier = barrier
        self._lock = threading.Lock()
        self._counts: dict[str, int] = dict(claim_counts or {})
        self._sizes: dict[str, int] = {}
        self._pool: list[_AppendFile] = []
        self._dirty: dict[str, int] = {}
        self._dirty_dirs: set[str] = set()
        self._destructable: list[str] = []
        self._sections: set[str] = set()
        self._used = 0
        self._prefix = str(now_ms())
        self._next = 0
        self.missing: list[str] = []
        self.health = BackgroundHealth(
            "content-cleanup",
            failed_event="content_cleanup_failed",
            recovered_event="content_cleanup_recovered",
        )
        self.reclaimed = self._reclaim_orphans()
        self.deleted = 0
        self._wake = threading.Event()
        self._pause = threading.Event()  # set only to cut the pause short at close
        self._stopping = False
        self._cleaner = threading.Thread(
            target=self._cleanup_loop,
            args=(cleanup_interval,),
            name="content-cleanup",
            daemon=True,
        )
        self._cleaner.start()

    # -- start ---------------------------------------------------------------------------
    def _reclaim_orphans(self) -> int:
        """Delete files no committed FlowFile references; size the repository."""
        reclaimed = 0
        seen: set[str] = set()
        for section in self.directory.iterdir():
            if not section.is_dir():
                continue
            for f in section.iterdir():
                res = f"{section.name}/{f.name}"
                if res in self._counts:
                    size = f.stat().st_size
                    self._sizes[res] = size
                    self._used += size
                    seen.add(res)
                else:
                    f.unlink(missing_ok=True)
                    reclaimed += 1
        self.missing = sorted(set(self._counts) - seen)
        return reclaimed

    # -- files ---------------------------------------------------------------------------
    def _next_resource(self) -> str:
        """A fresh resource name (its section directory exists)."""
        with self._lock:
            self._next += 1
            n = self._next
        section = f"{n % _SECTIONS:02x}"
        if section not in self._sections:
            (self.directory / section).mkdir(exist_ok=True)
            self._sections.add(section)
        return f"{section}/{self._prefix}-{n}"

    def _new_file(self, append: bool = True) -> _AppendFile:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | (os.O_APPEND if append else 0)
        while True:
            res = self._next_resource()
            try:
                fd = os.open(self.directory / res, flags, 0o644)
            except FileExistsError:
                continue  # a previous run started in the same millisecond
            except OSError as exc:
                raise self._error(exc, res) from exc
            with self._lock:
                self._sizes[res] = 0
                if self.sync_always:
                    self._dirty_dirs.add(res.partition("/")[0])
            return _AppendFile(res, fd)

    def _error(self, exc: OSError, what: str) -> ContentError:
        if exc.errno in _FULL:
            return ContentRepositoryFullError(
                f"content repository {self.directory} is full (writing {what})"
            )
        return ContentError(f"content repository {self.directory}: {exc}")

    def _reserve(self, n: int) -> None:
        with self._lock:
            if self.max_size and self._used + n > self.max_size:
                raise ContentRepositoryFullError(
                    f"content repository {self.directory} is full "
                    f"({self._used} of {self.max_size} bytes used)"
                )
            self._used += n

    def _write_file(self, f: _AppendFile, data: bytes | bytearray | memoryview) -> None:
        n = memoryview(data).nbytes
        self._reserve(n)
        try:
            _write_all(f.fd, data)
        except OSError as exc:
            with self._lock:
                self._used -= n
            raise self._error(exc, f.resource) from exc
        f.size += n
        with self._lock:
            self._sizes[f.resource] = f.size

    def _finish_file(self, f: _AppendFile) -> ContentClaim:
        """A spilled writer closed: its file is one resource with one claimant."""
        if self.sync_always:
            os.fsync(f.fd)
        os.close(f.fd)
        with self._lock:
            self._counts[f.resource] = 1
        return ContentClaim(f.resource, 0, f.size)

    def _discard_file(self, f: _AppendFile) -> None:
        with contextlib.suppress(OSError):  # already closed if finishing it failed late
            os.close(f.fd)
        (self.directory / f.resource).unlink(missing_ok=True)
        with self._lock:
            self._used -= f.size
            self._sizes.pop(f.resource, None)

    def _append(self, data: bytes | bytearray | memoryview) -> ContentClaim:
        """Append a small content to a shared file owned by this call for its duration."""
        with self._lock:
            f = self._pool.pop() if self._pool else None
        if f is None:
            f = self._new_file()
            with self._lock:
                self._counts[f.resource] = 1  # the pool's own hold while appendable
        offset = f.size
        try:
            self._write_file(f, data)
        except ContentError:
            self._retire(f)  # its tail is unknown now: never append to it again
            raise
        claim = ContentClaim(f.resource, offset, f.size - offset)
        with self._lock:
            self._counts[f.resource] += 1
            if self.sync_always:
                self._dirty[f.resource] = f.fd
            keep = f.size < self.max_appendable and not self._stopping
            if keep:
                self._pool.append(f)
        if not keep:
            self._retire(f)
        return claim

    def _retire(self, f: _AppendFile) -> None:
        """Stop appending to ``f``: close it and drop the pool's hold."""
        with self._lock:
            fd = self._dirty.pop(f.resource, None)
            if fd is not None:
                os.fsync(fd)
            os.close(f.fd)
        self.decref(ContentClaim(f.resource, 0, 0))

    def sync_dirty(self) -> None:
        """fsync every content appended since the last call (``sync: always``); the
        FlowFile repository calls this inside each commit, before it is durable."""
        with self._lock:
            for fd in self._dirty.values():
                os.fsync(fd)
            self._dirty.clear()
            dirs, self._dirty_dirs = self._dirty_dirs, set()
        for section in dirs:
            fd = os.open(self.directory / section, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # -- ContentRepository ---------------------------------------------------------------
    def writer(self) -> ContentWriter:
        return _Writer(self)

    def write_bytes(self, data: bytes | bytearray | memoryview) -> ContentClaim:
        if memoryview(data).nbytes <= self.max_appendable:
            return self._append(data)
        return super().write_bytes(data)

    def import_file(
        self, path: str | os.PathLike[str], *, link: bool = False
    ) -> ContentClaim:
        """Small files are appended to a shared file; larger ones are hard-linked (with
        ``link``, on the same filesystem) or copied in the kernel (``copy_file_range``:
        no trip through Python, and a free clone on copy-on-write filesystems)."""
        with open(path, "rb") as src:
            if os.fstat(src.fileno()).st_size <= self.max_appendable:
                head = src.read(self.max_appendable + 1)
                if len(head) <= self.max_appendable:
                    return self._append(head)
                src.seek(0)  # it grew meanwhile: take the large-file path
            if link:
                claim = self._link(path, src.fileno())
                if claim is not None:
                    return claim
            return self._copy_in(src.fileno(), os.fstat(src.fileno()).st_size)

    def _link(self, path: str | os.PathLike[str], src_fd: int) -> ContentClaim | None:
        """Hard-link the open file into the repository; None when that is impossible."""
        st = os.fstat(src_fd)
        while True:
            res = self._next_resource()
            target = self.directory / res
            try:
                os.link(path, target)
            except FileExistsError:
                continue
            except OSError:
                return None  # another filesystem, protected_hardlinks, no support...
            break
        linked = os.stat(target)
        if (linked.st_dev, linked.st_ino) != (st.st_dev, st.st_ino):
            target.unlink(missing_ok=True)  # the path was replaced after we opened it
            return None
        try:
            self._reserve(linked.st_size)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if self.sync_always:
            os.fsync(src_fd)
        with self._lock:
            self._sizes[res] = linked.st_size
            self._counts[res] = 1
            if self.sync_always:
                self._dirty_dirs.add(res.partition("/")[0])
        return ContentClaim(res, 0, linked.st_size)

    def _copy_in(self, src_fd: int, size: int) -> ContentClaim:
        """Copy a whole file (until its end, whatever ``size`` said) into a resource of
        its own; space is reserved chunk by chunk so ``max_size`` holds."""
        f = self._new_file(append=False)
        try:
            while True:
                chunk = max(1 << 20, min(_COPY_CHUNK, size - f.size))
                self._reserve(chunk)
                try:
                    n = _copy_range(src_fd, f.size, f.fd, f.size, chunk)
                except OSError as exc:
                    raise self._error(exc, f.resource) from exc
                finally:
                    with self._lock:
                        self._used -= chunk
                if n == 0:
                    break
                with self._lock:
                    self._used += n
                    f.size += n
                    self._sizes[f.resource] = f.size
        except BaseException:
            self._discard_file(f)
            raise
        return self._finish_file(f)

    def export(self, claim: ContentClaim, destination: BinaryIO) -> int:
        """Into a regular file, the bytes are copied in the kernel."""
        try:
            out_fd = destination.fileno()
            plain = stat.S_ISREG(os.fstat(out_fd).st_mode) and not (
                fcntl.fcntl(out_fd, fcntl.F_GETFL) & os.O_APPEND
            )
        except (AttributeError, OSError, io.UnsupportedOperation):
            plain = False
        if not plain or claim.length == 0:
            return super().export(claim, destination)
        destination.flush()
        start = destination.tell()
        fd = self._open_fd(claim)
        try:
            done = 0
            while done < claim.length:
                n = _copy_range(
                    fd, claim.offset + done, out_fd, start + done, claim.length - done
                )
                if n == 0:
                    raise ContentError(f"content {claim.resource} is truncated")
                done += n
        finally:
            os.close(fd)
        destination.seek(start + done)
        return done

    def _path(self, claim: ContentClaim) -> Path:
        return self.directory / claim.resource

    def _open_fd(self, claim: ContentClaim) -> int:
        """A read-only descriptor of the claim's resource file (the caller closes it)."""
        try:
            return os.open(self._path(claim), os.O_RDONLY)
        except FileNotFoundError:
            raise ContentError(f"content {claim.resource} is missing") from None

    def open(self, claim: ContentClaim) -> BinaryIO:
        fd = self._open_fd(claim)
        raw = _ClaimReader(fd, claim.offset, claim.length)
        size = max(4096, min(claim.length, 1 << 20))
        return io.BufferedReader(raw, buffer_size=size)

    def read(self, claim: ContentClaim) -> bytes:
        fd = self._open_fd(claim)
        try:
            data = os.pread(fd, claim.length, claim.offset)
        finally:
            os.close(fd)
        if len(data) != claim.length:
            raise ContentError(f"content {claim.resource} is truncated")
        return data

    def incref(self, claim: ContentClaim, n: int = 1) -> None:
        with self._lock:
            self._counts[claim.resource] += n

    def decref(self, claim: ContentClaim, n: int = 1) -> None:
        with self._lock:
            left = self._counts[claim.resource] - n
            if left > 0:
                self._counts[claim.resource] = left
                return
            del self._counts[claim.resource]
            self._destructable.append(claim.resource)
        self._wake.set()

    def decref_many(self, claims: Iterable[ContentClaim]) -> None:
        freed = False
        with self._lock:
            counts = self._counts
            for c in claims:
                left = counts[c.resource] - 1
                if left > 0:
                    counts[c.resource] = left
                else:
                    del counts[c.resource]
                    self._destructable.append(c.resource)
                    freed = True
        if freed:
            self._wake.set()

    def claimant_count(self, claim: ContentClaim) -> int:
        with self._lock:
            return self._counts.get(claim.resource, 0)

    def resource_count(self) -> int:
        with self._lock:
            return len(self._counts)

    def files_on_disk(self) -> int:
        """Resource files present now (live plus not yet cleaned up)."""
        with self._lock:
            return len(self._sizes)

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return self._used

    # -- cleanup -------------------------------------------------------------------------
    def _cleanup_loop(self, interval: float) -> None:
        # Woken by releases, but at most once per interval: each round pays a
        # durability barrier (a WAL checkpoint), shared by everything released meanwhile.
        # The cleaner must outlive errors (the barrier's checkpoint fails on a full
        # disk): a dead cleaner never deletes released content again and the disk
        # refills. Log, keep the doomed resources, back off (up to 30 s), retry; the
        # health record shows the error in the flow status until a round succeeds.
        backoff = 0.0
        while not self._stopping:
            if not backoff:
                self._wake.wait()
            self._wake.clear()
            try:
                self.cleanup()
            except Exception as exc:
                backoff = next_backoff(backoff, first=0.5, limit=30.0)
                self.health.failed(exc, backoff)
                self._pause.wait(backoff)
                continue
            backoff = 0.0
            self.health.succeeded()
            self._pause.wait(interval)

    @property
    def last_error(self) -> str | None:
        """The cleanup thread's last error (None once a round succeeds again)."""
        return self.health.last_error

    def background_status(self) -> tuple[BackgroundTaskStatus, ...]:
        return (self.health.status(),)

    def cleanup(self) -> int:
        """Delete released resources now (after the durability barrier); count deleted."""
        with self._lock:
            doomed, self._destructable = self._destructable, []
        if not doomed:
            return 0
        if self.barrier is not None:
            try:
                self.barrier()
            except BaseException as exc:
                with self._lock:  # not deleted: retried next round
                    self._destructable[:0] = doomed
                if isinstance(exc, Exception):
                    raise ContentError(
                        "the FlowFile repository checkpoint that must precede deleting "
                        f"{len(doomed)} released content file(s) failed: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                raise
        freed = 0
        for res in doomed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.directory / res)
            with self._lock:
                freed += self._sizes.pop(res, 0)
        with self._lock:
            self._used -= freed
            self.deleted += len(doomed)
        return len(doomed)

    def close(self) -> None:
        """Retire the shared files, delete what is released, stop the cleaner."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            pool, self._pool = self._pool, []
        for f in pool:
            self._retire(f)
        self._pause.set()
        self._wake.set()
        self._cleaner.join()
        try:
            self.cleanup()
        except Exception as exc:  # released content is reclaimed at the next start
            engine_logger(component="content-cleanup").warning(
                "content_cleanup_failed_at_close", error=f"{type(exc).__name__}: {exc}"
            )
