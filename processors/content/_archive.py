"""TAR and ZIP helpers shared by MergeContent and UnpackContent.

Writing streams each FlowFile's content into the archive in chunks (``tarfile`` stream
mode, ``zipfile`` entry writers), so merging never holds a content in memory. Reading
checks every entry name before anything is emitted: a name that would escape the
archive's root (``../x``, an absolute path, a drive letter) is an error, as is a
corrupt archive.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import stat
import tarfile
import zipfile
from typing import BinaryIO

__all__ = [
    "ArchiveError",
    "check_entry_name",
    "entry_path",
    "iso_time",
    "open_tar_reader",
    "open_zip_reader",
    "parse_tar_time",
    "permissions_text",
]

_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveError(ValueError):
    """The archive is corrupt or one of its entries is unsafe."""


def entry_path(path_attr: str | None) -> str:
    """NiFi's ``getPath``: the ``path`` attribute as an entry-name prefix (``a/b/``),
    without a leading ``./``; empty for the root."""
    if not path_attr:
        return ""
    absolute = path_attr.startswith("/")
    parts = [p for p in path_attr.split("/") if p]
    if parts and parts[0] == ".":
        parts = parts[1:]
    if not parts:
        return ""
    return ("/" if absolute else "") + "/".join(parts) + "/"


def check_entry_name(name: str) -> str:
    """The entry name normalized, or :class:`ArchiveError` when it would escape the
    archive's root once extracted (absolute, a drive letter, or a ``..`` part)."""
    text = name.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        raise ArchiveError(f"archive entry {name!r} has an absolute path")
    if ".." in text.split("/"):
        raise ArchiveError(f"archive entry {name!r} would escape the archive root")
    normalized = posixpath.normpath(text)
    if normalized in (".", ""):
        raise ArchiveError(f"archive entry {name!r} has no file name")
    return normalized


def parse_tar_time(text: str | None) -> float | None:
    """Seconds since the epoch for Tar Modified Time (ISO 8601, e.g.
    ``2024-05-01T10:00:00Z`` or NiFi's ``yyyy-MM-dd'T'HH:mm:ssZ`` = ``...+0000``);
    None when blank or unparseable (NiFi then keeps the entry's default time)."""
    if not text or not text.strip():
        return None
    value = text.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(value, fmt).timestamp()
        except ValueError:
            pass
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def permissions_text(mode: int) -> str:
    """``rwxr-xr-x`` for a mode (NiFi's ``file.permissions`` form)."""
    return stat.filemode(stat.S_IFREG | (mode & 0o777))[1:]


def iso_time(seconds: float) -> str:
    """NiFi's ``yyyy-MM-dd'T'HH:mm:ssZ`` in UTC (``2024-05-01T10:00:00+0000``)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


def open_tar_reader(src: BinaryIO) -> tarfile.TarFile:
    """A streaming TAR reader (no seeking: entries are read in order); an uncompressed
    TAR only, as NiFi (a .tar.gz is not a TAR: decompress it first)."""
    try:
        return tarfile.open(fileobj=src, mode="r|")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveError(f"not a readable TAR archive: {exc}") from None


def open_zip_reader(src: BinaryIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(src, "r")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(f"not a readable ZIP archive: {exc}") from None
