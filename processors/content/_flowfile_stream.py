"""NiFi's FlowFile Stream package formats (v3 and v2), byte-compatible with NiFi.

A package is a sequence of FlowFiles, each encoded as (all integers big-endian):

* v3 only: the 7-byte magic header ``NiFiFF3``;
* a *length field*: the number of attributes;
* per attribute, two *string fields*: key and value, each a length field then the
  UTF-8 bytes;
* an 8-byte signed length of the content, then the content bytes.

A length field is 2 bytes when the value is below 65535; otherwise the two bytes are
``FF FF`` and the next 4 bytes hold the value (NiFi's ``FlowFilePackagerV2/V3``). v2 has no
magic, so a v2 stream ends at end of input; a v3 stream ends where no further magic
starts. Content is streamed in chunks: nothing here holds a whole content in memory.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator, Mapping
from typing import BinaryIO, cast

__all__ = [
    "MAGIC_V3",
    "MIME_V2",
    "MIME_V3",
    "PackageError",
    "UnpackedEntry",
    "copy_stream",
    "iter_packages",
    "write_header",
]

MAGIC_V3 = b"NiFiFF3"
MIME_V3 = "application/flowfile-v3"
MIME_V2 = "application/flowfile-v2"
_MAX_2_BYTES = 65535
_CHUNK = 1 << 16


class PackageError(ValueError):
    """The input is not a well-formed FlowFile Stream package."""


def _field_length(n: int) -> bytes:
    if n < _MAX_2_BYTES:
        return struct.pack(">H", n)
    if n > 0xFFFFFFFF:
        raise PackageError(f"a field of {n} bytes does not fit a FlowFile Stream")
    return b"\xff\xff" + struct.pack(">I", n)


def _string(value: str) -> bytes:
    data = value.encode("utf-8")
    return _field_length(len(data)) + data


def write_header(
    out: BinaryIO, attributes: Mapping[str, str], size: int, *, version: int = 3
) -> None:
    """Write one FlowFile's header (magic for v3, attributes, content length); the
    caller then writes exactly ``size`` content bytes."""
    parts = [MAGIC_V3] if version == 3 else []
    parts.append(_field_length(len(attributes)))
    for key, value in attributes.items():
        parts.append(_string(key))
        parts.append(_string(value))
    parts.append(struct.pack(">q", size))
    out.write(b"".join(parts))


def _read_exact(src: BinaryIO, n: int) -> bytes:
    data = src.read(n)
    while len(data) < n:
        more = src.read(n - len(data))
        if not more:
            raise PackageError(
                f"truncated FlowFile Stream: wanted {n} bytes, found {len(data)}"
            )
        data += more
    return data


def _read_length(src: BinaryIO) -> int:
    n: int = struct.unpack(">H", _read_exact(src, 2))[0]
    if n == _MAX_2_BYTES:
        n = struct.unpack(">I", _read_exact(src, 4))[0]
    return n


def _read_string(src: BinaryIO) -> str:
    data = _read_exact(src, _read_length(src))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(f"attribute text is not UTF-8: {exc}") from None


class UnpackedEntry:
    """One FlowFile of a package: its attributes, and a reader of exactly ``size``
    content bytes (valid until the next entry is read)."""

    __slots__ = ("_left", "_src", "attributes", "size")

    def __init__(self, src: BinaryIO, attributes: dict[str, str], size: int) -> None:
        self._src, self.attributes, self.size, self._left = src, attributes, size, size

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if n is None or n < 0 else min(n, self._left)
        data = self._src.read(want)
        if not data:
            raise PackageError(
                f"truncated FlowFile Stream: content ends {self._left} bytes early"
            )
        self._left -= len(data)
        return data

    def copy_to(self, out: BinaryIO) -> None:
        """Stream the content to ``out`` in chunks."""
        while self._left > 0:
            out.write(self.read(_CHUNK))

    def skip(self) -> None:
        while self._left > 0:
            self.read(_CHUNK)


def iter_packages(src: BinaryIO, *, version: int = 3) -> Iterator[UnpackedEntry]:
    """Yield the FlowFiles of a package in order; raises :class:`PackageError` on a
    malformed or truncated package, or on an empty input (NiFi's unpackagers reject
    both)."""
    reader = _Peekable(src)
    stream = cast(BinaryIO, reader)
    first = True
    while True:
        if reader.at_eof():
            if first:
                raise PackageError(
                    "not a FlowFile Stream package: the content is empty"
                )
            return
        first = False
        if version == 3 and reader.read(len(MAGIC_V3)) != MAGIC_V3:
            raise PackageError(
                "not a FlowFile Stream v3 package: the NiFiFF3 header is missing"
            )
        count = _read_length(stream)
        attributes: dict[str, str] = {}
        for _ in range(count):
            key = _read_string(stream)
            attributes[key] = _read_string(stream)
        size: int = struct.unpack(">q", _read_exact(stream, 8))[0]
        if size < 0:
            raise PackageError(f"negative content length {size}")
        entry = UnpackedEntry(stream, attributes, size)
        yield entry
        entry.skip()


class _Peekable:
    """A stream that can tell whether it is at its end (one byte read ahead)."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner, self.head = inner, b""

    def at_eof(self) -> bool:
        if not self.head:
            self.head = self.inner.read(1)
        return not self.head

    def read(self, n: int = -1) -> bytes:
        if not self.head:
            return self.inner.read(n)
        if n is None or n < 0:
            data, self.head = self.head + self.inner.read(), b""
            return data
        if n == 0:
            return b""
        data, self.head = self.head, b""
        return data + self.inner.read(n - 1) if n > 1 else data


def copy_stream(src: BinaryIO, out: BinaryIO) -> None:
    """Copy in chunks (the content of one FlowFile into a package)."""
    shutil.copyfileobj(src, out, _CHUNK)
