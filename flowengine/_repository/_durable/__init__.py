"""Durable repositories under a state directory: what ``flowengine run`` uses by default.

Layout of a state directory::

    STATE_DIR/
      lock                     held (flock) by the run using the directory
      manifest.json            "this directory holds data" + generation (see _manifest)
      flowfiles.db (-wal,-shm) FlowFile repository + component state (SQLite, WAL mode)
      content/<xx>/<ms>-<n>    content repository: resource files in 256 sections
      provenance/seg-*.parquet provenance repository: rolling Parquet segments

Settings (``Flow.settings`` / the flow file's ``settings:``), all optional:

``sync``
    ``normal`` (default): a killed process loses nothing committed; a power loss may lose
    the last moments. ``always``: every commit group is fsynced (content too).
``swap_threshold``
    FlowFiles a connection keeps in memory before swapping (default 20,000).
``content_directory``
    where content lives (default ``STATE_DIR/content``).
``content_max_size``
    refuse new content beyond this size (``"10 GB"``; default: until the disk is full).
``claim_max_appendable_size``
    contents up to this size share resource files (default ``"50 KB"``).
``provenance_max_age`` / ``provenance_max_size``
    retention (defaults ``30 days`` / ``10 GB``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._api._provenance import NoProvenance, ProvenanceRepository
from ..._errors import FlowEngineError, StateDirectoryError
from ..._flow_format import SETTINGS
from ..._units import parse_data_size, parse_duration
from .._repository import Repositories
from ._content import FileContentRepository
from ._flowfiles import SQLiteFlowFileRepository
from ._manifest import (
    check_generation,
    check_state,
    database_error,
    write_manifest,
)
from ._provenance import ParquetProvenanceRepository

__all__ = [
    "FileContentRepository",
    "ParquetProvenanceRepository",
    "SQLiteFlowFileRepository",
    "open_durable_repositories",
]


#: the declared defaults of the settings (``flowengine._flow_format``)
_SETTING = SETTINGS.defaults()


def _size(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    return int(parse_data_size(str(value)))


def _duration(value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    return float(parse_duration(str(value)))


class _LockedFlowFileRepository(SQLiteFlowFileRepository):
    """The FlowFile repository that also holds the state directory's lock."""

    lock_fd: int = -1

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.lock_fd >= 0:
                os.close(self.lock_fd)  # releases the flock
                self.lock_fd = -1


def _lock(state_dir: Path) -> int:
    fd = os.open(state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FlowEngineError(
            f"state directory {state_dir} is in use by another run "
            "(one run per state directory; use another --state-dir)"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _no_space(root: Path, exc: BaseException) -> StateDirectoryError:
    return StateDirectoryError(
        f"no space left on the device of {root} ({exc}): free some space (or use "
        "another --state-dir) and rerun; nothing was changed"
    )


def open_durable_repositories(
    state_dir: str | os.PathLike[str],
    *,
    flow: str,
    provenance: bool,
    settings: Mapping[str, Any],
) -> Repositories:
    """Open (creating if needed) the repositories of ``state_dir`` (see :func:`_open`).

    No space left while opening is a :class:`StateDirectoryError`, not a traceback.
    """
    try:
        return _open(state_dir, flow=flow, provenance=provenance, settings=settings)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise _no_space(Path(state_dir), exc) from None
        raise


def _open(
    state_dir: str | os.PathLike[str],
    *,
    flow: str,
    provenance: bool,
    settings: Mapping[str, Any],
) -> Repositories:
    """Open (creating if needed) the repositories of ``state_dir``.

    Restart recovery happens here: the FlowFile repository is scanned (queues, claimant
    counts), then content files no committed FlowFile references are deleted — only once
    the manifest's generation proves the repository is the one that wrote them (see
    :mod:`._manifest`); otherwise :class:`StateDirectoryError` and nothing is touched.
    """
    root = Path(state_dir)
    root.mkdir(parents=True, exist_ok=True)
    sync = str(settings.get("sync", _SETTING["sync"]))
    db = root / "flowfiles.db"
    content_dir = Path(settings.get("content_directory") or root / "content")
    fd = _lock(root)
    try:
        manifest = check_state(root, db, content_dir)
        try:
            flowfiles = _LockedFlowFileRepository(
                db,
                sync=sync,
                swap_threshold=int(
                    settings.get("swap_threshold", _SETTING["swap_threshold"])
                ),
                swap_batch=int(
                    settings.get("swap_batch_size", _SETTING["swap_batch_size"])
                ),
            )
        except sqlite3.OperationalError as exc:
            if "full" in str(exc).lower():
                raise _no_space(root, exc) from None
            raise database_error(root, db, exc) from None
        except sqlite3.DatabaseError as exc:
            raise database_error(root, db, exc) from None
    except BaseException:
        os.close(fd)
        raise
    flowfiles.lock_fd = fd
    try:
        generation = flowfiles.generation()
        check_generation(root, db, manifest, generation)
        # The bump is the first write of the run, after a checkpoint: the first frame of
        # the new write-ahead log. Database first, manifest second (a kill in between
        # leaves the database ahead, which is accepted).
        try:
            flowfiles.set_generation(generation + 1)
            write_manifest(root, generation + 1)
        except (sqlite3.OperationalError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno != errno.ENOSPC:
                raise
            if isinstance(exc, sqlite3.OperationalError) and "full" not in str(exc):
                raise
            raise _no_space(root, exc) from None
    except BaseException:
        with contextlib.suppress(Exception):
            flowfiles.close()
        raise
    try:
        content = FileContentRepository(
            content_dir,
            claim_counts=flowfiles.claim_counts,
            max_appendable=_size(
                settings.get("claim_max_appendable_size"),
                _SETTING["claim_max_appendable_size"],
            ),
            max_size=_size(
                settings.get("content_max_size"), _SETTING["content_max_size"]
            ),
            sync_always=sync == "always",
            barrier=flowfiles.durability_barrier,
        )
        flowfiles.claim_counts = {}  # the content repository owns the counts now
        if sync == "always":
            flowfiles.before_commit = content.sync_dirty
        prov: ProvenanceRepository
        if provenance:
            prov = ParquetProvenanceRepository(
                root / "provenance",
                max_age=_duration(
                    settings.get("provenance_max_age"),
                    _SETTING["provenance_max_age"],
                ),
                max_size=_size(
                    settings.get("provenance_max_size"),
                    _SETTING["provenance_max_size"],
                ),
            )
        else:
            prov = NoProvenance()
    except BaseException:
        with contextlib.suppress(Exception):
            flowfiles.close()
        raise
    return Repositories(content, flowfiles, prov)
