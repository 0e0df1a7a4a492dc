"""Streaming compression codecs for CompressContent, byte-compatible with NiFi's.

Every codec reads its input in bounded chunks and writes as it goes, so memory stays
flat whatever the content size. Libraries, chosen per format by measured throughput:

- gzip, deflate (zlib wrapper, as ``java.util.zip.DeflaterOutputStream`` writes),
  bzip2, xz-lzma2 and lzma (the legacy ``.lzma`` "alone" format): the standard library.
- zstd, brotli, lz4-framed decompression and lz4-framed compression: pyarrow's
  compressed streams where they are fast and streamed (decompression; lz4 compression);
  cramjam's streaming compressors where a level must be honoured (zstd, brotli).
- The three snappy container formats are framed here over cramjam's raw snappy block
  codec, following the formats' specifications:

  * ``snappy`` — xerial snappy-java's ``SnappyOutputStream``: a 16-byte header
    (``\\x82SNAPPY\\x00``, version 1, compatible version 1), then blocks of at most
    32 KiB, each a big-endian int32 compressed length and a raw snappy block. Input
    without that header is read as one raw snappy block, as snappy-java's
    ``SnappyInputStream`` does (bounded to 64 MiB: a raw block cannot be streamed).
  * ``snappy-hadoop`` — Hadoop's ``BlockCompressorStream`` layout as snappy-java's
    ``SnappyHadoopCompatibleOutputStream`` writes it: no header; per 32 KiB block a
    big-endian int32 uncompressed length, then one or more (int32 compressed length,
    raw block) pairs until that many bytes are produced.
  * ``snappy framed`` — Google's framing format (``framing_format.txt``): a stream
    identifier chunk, then compressed (0x00) or uncompressed (0x01) chunks of at most
    64 KiB carrying a masked CRC-32C; padding and reserved skippable chunks (0x80-0xfe)
    are skipped, reserved unskippable ones (0x02-0x7f) are an error.

A damaged or truncated stream raises :class:`CodecError`; the caller routes the
FlowFile to failure and the partial output is discarded with the session's writer.
"""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

import cramjam
import pyarrow as pa

from flowengine import ContentError

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MIME_TO_FORMAT",
    "MIME_TYPES",
    "CodecError",
    "compress",
    "decompress",
]

CHUNK = 1 << 20

GZIP = "gzip"
DEFLATE = "deflate"
BZIP2 = "bzip2"
XZ = "xz-lzma2"
LZMA = "lzma"
SNAPPY = "snappy"
SNAPPY_HADOOP = "snappy-hadoop"
SNAPPY_FRAMED = "snappy framed"
LZ4 = "lz4-framed"
ZSTD = "zstd"
BROTLI = "brotli"

FORMATS = (
    GZIP,
    DEFLATE,
    BZIP2,
    XZ,
    LZMA,
    SNAPPY,
    SNAPPY_HADOOP,
    SNAPPY_FRAMED,
    LZ4,
    ZSTD,
    BROTLI,
)

# What compressing sets as mime.type. NiFi 2.x sets application/gzip for deflate too,
# which its own "use mime.type attribute" then decompresses as gzip and fails on; we
# write application/deflate (which NiFi's lookup maps back to deflate).
MIME_TYPES = {
    GZIP: "application/gzip",
    DEFLATE: "application/deflate",
    BZIP2: "application/x-bzip2",
    XZ: "application/x-xz",
    LZMA: "application/x-lzma",
    SNAPPY: "application/x-snappy",
    SNAPPY_HADOOP: "application/x-snappy-hadoop",
    SNAPPY_FRAMED: "application/x-snappy-framed",
    LZ4: "application/x-lz4-framed",
    ZSTD: "application/zstd",
    BROTLI: "application/x-brotli",
}

# NiFi's mime.type -> format table for "use mime.type attribute" (it has no entry for
# application/x-xz, so xz content is passed through unchanged, as in NiFi).
MIME_TO_FORMAT = {
    "application/gzip": GZIP,
    "application/x-gzip": GZIP,
    "application/deflate": DEFLATE,
    "application/x-deflate": DEFLATE,
    "application/bzip2": BZIP2,
    "application/x-bzip2": BZIP2,
    "application/x-lzma": LZMA,
    "application/x-snappy": SNAPPY,
    "application/x-snappy-hadoop": SNAPPY_HADOOP,
    "application/x-snappy-framed": SNAPPY_FRAMED,
    "application/x-lz4-framed": LZ4,
    "application/zstd": ZSTD,
    "application/x-brotli": BROTLI,
}

EXTENSIONS = {
    GZIP: ".gz",
    DEFLATE: ".zlib",
    LZMA: ".lzma",
    XZ: ".xz",
    BZIP2: ".bz2",
    SNAPPY: ".snappy",
    SNAPPY_HADOOP: ".snappy",
    SNAPPY_FRAMED: ".sz",
    LZ4: ".lz4",
    ZSTD: ".zst",
    BROTLI: ".br",
}


class CodecError(Exception):
    """The input is not a valid stream of the format (corrupt, truncated, other)."""


# -- helpers ---------------------------------------------------------------------------
def _chunks(src: BinaryIO, size: int = CHUNK) -> Any:
    while chunk := src.read(size):
        yield chunk


def _read_exact(src: BinaryIO, n: int, what: str) -> bytes:
    """``n`` bytes, or CodecError if the stream ends first."""
    parts: list[bytes] = []
    left = n
    while left:
        b = src.read(left)
        if not b:
            raise CodecError(f"truncated stream: {what} ended after {n - left} bytes")
        parts.append(b)
        left -= len(b)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class _Blocks:
    """Re-chunks a stream into blocks of exactly ``size`` bytes (the last may be short)."""

    def __init__(self, src: BinaryIO, size: int) -> None:
        self._src, self._size = src, size

    def __iter__(self) -> Any:
        size, buf = self._size, bytearray()
        for chunk in _chunks(self._src):
            buf += chunk
            if len(buf) >= size:
                view = memoryview(buf)
                end = len(buf) - len(buf) % size
                for i in range(0, end, size):
                    yield bytes(view[i : i + size])
                view.release()
                del buf[:end]
        if buf:
            yield bytes(buf)


class _Sink(io.RawIOBase):
    """Hands writes to ``out`` and ignores close, so pyarrow can't close our writer."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self._out.write(bytes(b))
        return len(b)


class _Source(io.RawIOBase):
    """A read-only view of ``src`` whose close leaves ``src`` open."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._src.read(n)

    def readinto(self, b: Any) -> int:
        data = self._src.read(len(b))
        b[: len(data)] = data
        return len(data)


# -- stdlib codecs ---------------------------------------------------------------------
def _compress_obj(obj: Any, src: BinaryIO, out: BinaryIO) -> None:
    for chunk in _chunks(src):
        out.write(obj.compress(chunk))
    out.write(obj.flush())


def _decompress_members(
    make: Callable[[], Any], src: BinaryIO, out: BinaryIO, name: str, concat: bool
) -> None:
    """Decompress one or (``concat``) several concatenated members, as NiFi reads them."""
    d = make()
    seen_data = False
    for chunk in _chunks(src):
        seen_data = True
        while chunk:
            if d.eof:  # the previous member ended: a new one starts here
                if not concat:
                    return  # bytes after the stream are ignored (InflaterInputStream)
                d = make()
            out.write(d.decompress(chunk))
            chunk = d.unused_data if d.eof else b""
    if not seen_data:
        raise CodecError(f"empty input is not a {name} stream")
    if not d.eof:
        raise CodecError(f"truncated {name} stream")


_STDLIB_ERRORS: tuple[type[BaseException], ...] = (
    zlib.error,
    lzma.LZMAError,
    OSError,
    EOFError,
    ValueError,
)


# -- snappy containers -----------------------------------------------------------------
_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = _XERIAL_MAGIC + struct.pack(">ii", 1, 1)
_XERIAL_BLOCK = 32 * 1024
_FRAMED_ID = b"\xff\x06\x00\x00sNaPpY"
_FRAMED_BLOCK = 64 * 1024


def _raw_compress(block: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(block))


def _raw_decompress(block: bytes) -> bytes:
    try:
        return bytes(cramjam.snappy.decompress_raw(block))
    except cramjam.DecompressionError as exc:
        raise CodecError(f"corrupt snappy block: {exc}") from exc


def _snappy_compress(src: BinaryIO, out: BinaryIO) -> None:
    out.write(_XERIAL_HEADER)
    for block in _Blocks(src, _XERIAL_BLOCK):
        data = _raw_compress(block)
        out.write(struct.pack(">i", len(data)))
        out.write(data)


def _snappy_decompress(src: BinaryIO, out: BinaryIO) -> None:
    header = src.read(len(_XERIAL_HEADER))
    if not header.startswith(_XERIAL_MAGIC) or len(header) < len(_XERIAL_HEADER):
        _raw_snappy(header, src, out)
        return
    (compat,) = struct.unpack(">i", header[12:16])
    if compat < 1:
        raise CodecError(f"unsupported snappy-java stream version {compat}")
    while head := src.read(4):
        if len(head) < 4:
            head += _read_exact(src, 4 - len(head), "snappy block length")
        if head == _XERIAL_MAGIC[:4]:  # a concatenated stream: skip its header
            rest = _read_exact(src, len(_XERIAL_HEADER) - 4, "snappy header")
            if not rest.startswith(_XERIAL_MAGIC[4:]):
                raise CodecError("corrupt snappy stream: bad concatenated header")
            continue
        (length,) = struct.unpack(">i", head)
        if length < 0:
            raise CodecError(f"corrupt snappy stream: block length {length}")
        out.write(_raw_decompress(_read_exact(src, length, "snappy block")))


RAW_SNAPPY_LIMIT = 64 << 20


def _raw_snappy(start: bytes, src: BinaryIO, out: BinaryIO) -> None:
    """No snappy-java header: snappy-java then reads the whole input as one raw snappy
    block, and so do we. A raw block cannot be streamed, so it is bounded: input or
    output over 64 MiB is refused rather than held in memory."""
    rest = src.read(RAW_SNAPPY_LIMIT + 1 - len(start))
    data = start + rest
    if not data:
        raise CodecError("empty input is not a snappy stream")
    if len(data) > RAW_SNAPPY_LIMIT:
        raise CodecError(
            "not a snappy-java stream, and too large (> 64 MiB) to read as one raw "
            "snappy block"
        )
    size, shift = 0, 0  # the block's preamble: its uncompressed length as a varint
    for i, b in enumerate(data[:5]):
        size |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
        if i == 4:
            raise CodecError("corrupt raw snappy block: bad length preamble")
    if size > 4 * RAW_SNAPPY_LIMIT:
        raise CodecError(f"raw snappy block of {size} bytes is over the 256 MiB bound")
    out.write(_raw_decompress(data))


def _hadoop_compress(src: BinaryIO, out: BinaryIO) -> None:
    for block in _Blocks(src, _XERIAL_BLOCK):
        data = _raw_compress(block)
        out.write(struct.pack(">ii", len(block), len(data)))
        out.write(data)


def _hadoop_decompress(src: BinaryIO, out: BinaryIO) -> None:
    while head := src.read(4):
        if len(head) < 4:
            head += _read_exact(src, 4 - len(head), "snappy-hadoop block length")
        (expected,) = struct.unpack(">i", head)
        if expected < 0:
            raise CodecError(f"corrupt snappy-hadoop stream: block length {expected}")
        produced = 0
        while produced < expected:
            (length,) = struct.unpack(
                ">i", _read_exact(src, 4, "snappy-hadoop chunk length")
            )
            if length < 0:
                raise CodecError(f"corrupt snappy-hadoop stream: chunk length {length}")
            data = _raw_decompress(_read_exact(src, length, "snappy-hadoop chunk"))
            produced += len(data)
            out.write(data)
        if produced != expected:
            raise CodecError(
                f"corrupt snappy-hadoop stream: block of {expected} bytes "
                f"decompressed to {produced}"
            )


def _framed_compress(src: BinaryIO, out: BinaryIO) -> None:
    out.write(_FRAMED_ID)
    n = len(_FRAMED_ID)
    for block in _Blocks(src, _FRAMED_BLOCK):
        # cramjam frames one <= 64 KiB block as one chunk (with its CRC-32C, and as an
        # uncompressed chunk when compression does not pay); drop its stream identifier.
        out.write(bytes(cramjam.snappy.compress(block))[n:])


def _framed_decompress(src: BinaryIO, out: BinaryIO) -> None:
    first = True
    while head := src.read(4):
        if len(head) < 4:
            head += _read_exact(src, 4 - len(head), "chunk header")
        kind = head[0]
        length = int.from_bytes(head[1:4], "little")
        body = _read_exact(src, length, "snappy frame chunk")
        if kind == 0xFF:
            if body != _FRAMED_ID[4:]:
                raise CodecError("corrupt snappy framed stream: bad stream identifier")
            first = False
            continue
        if first:
            raise CodecError("not a snappy framed stream: no stream identifier")
        if kind in (0x00, 0x01):
            if length < 4 or length > _FRAMED_BLOCK + 4 + 32 * 1024:
                raise CodecError(f"corrupt snappy framed stream: chunk of {length}")
            try:  # cramjam checks the chunk's masked CRC-32C
                data = cramjam.snappy.decompress(_FRAMED_ID + head + body)
            except cramjam.DecompressionError as exc:
                raise CodecError(f"corrupt snappy framed chunk: {exc}") from exc
            out.write(bytes(data))
        elif kind <= 0x7F:
            raise CodecError(
                f"corrupt snappy framed stream: reserved unskippable chunk {kind:#x}"
            )
        # 0x80-0xfe: padding / reserved skippable chunks
    if first:
        raise CodecError("empty input is not a snappy framed stream")


# -- library streams -------------------------------------------------------------------
def _cramjam_compress(compressor: Any, src: BinaryIO, out: BinaryIO) -> None:
    for chunk in _chunks(src):
        compressor.compress(chunk)
        out.write(bytes(compressor.flush()))
    out.write(bytes(compressor.finish()))


def _arrow_compress(codec: str, src: BinaryIO, out: BinaryIO) -> None:
    sink = pa.PythonFile(_Sink(out), mode="w")
    with pa.CompressedOutputStream(sink, codec) as stream:
        for chunk in _chunks(src):
            stream.write(chunk)


def _arrow_decompress(codec: str, src: BinaryIO, out: BinaryIO) -> None:
    first = src.read(CHUNK)
    if not first:
        raise CodecError(f"empty input is not a {codec} stream")
    joined = io.BufferedReader(_Prefixed(first, src), CHUNK)
    stream = pa.CompressedInputStream(pa.PythonFile(joined, mode="r"), codec)
    try:
        while chunk := stream.read(CHUNK):
            out.write(chunk)
    except (pa.ArrowException, OSError) as exc:
        raise CodecError(f"corrupt {codec} stream: {exc}") from exc


class _Prefixed(io.RawIOBase):
    """``prefix`` followed by the rest of ``src`` (to peek at a stream's start)."""

    def __init__(self, prefix: bytes, src: BinaryIO) -> None:
        self._prefix, self._src = prefix, src

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._src.read(len(b))
        b[: len(data)] = data
        return len(data)


# -- entry points ----------------------------------------------------------------------
def compress(fmt: str, level: int, src: BinaryIO, out: BinaryIO) -> None:
    """Compress ``src`` into ``out`` in format ``fmt`` at NiFi's ``level`` (0-9)."""
    if fmt == GZIP:
        _compress_obj(zlib.compressobj(level, zlib.DEFLATED, 31), src, out)
    elif fmt == DEFLATE:
        _compress_obj(zlib.compressobj(level), src, out)
    elif fmt == BZIP2:
        _compress_obj(bz2.BZ2Compressor(9), src, out)
    elif fmt == XZ:
        _compress_obj(lzma.LZMACompressor(lzma.FORMAT_XZ, preset=level), src, out)
    elif fmt == LZMA:
        _compress_obj(lzma.LZMACompressor(lzma.FORMAT_ALONE), src, out)
    elif fmt == ZSTD:  # NiFi doubles the level for zstd (0..18)
        _cramjam_compress(cramjam.zstd.Compressor(level=level * 2), src, out)
    elif fmt == BROTLI:
        _cramjam_compress(cramjam.brotli.Compressor(level=level), src, out)
    elif fmt == LZ4:
        _arrow_compress("lz4", src, out)
    elif fmt == SNAPPY:
        _snappy_compress(src, out)
    elif fmt == SNAPPY_HADOOP:
        _hadoop_compress(src, out)
    elif fmt == SNAPPY_FRAMED:
        _framed_compress(src, out)
    else:
        raise ValueError(f"unknown compression format {fmt!r}")


def decompress(fmt: str, src: BinaryIO, out: BinaryIO) -> None:
    """Decompress ``src`` (format ``fmt``) into ``out``; CodecError if it is invalid."""
    try:
        if fmt == GZIP:
            _decompress_members(
                lambda: zlib.decompressobj(31), src, out, fmt, concat=True
            )
        elif fmt == DEFLATE:
            _decompress_members(zlib.decompressobj, src, out, fmt, concat=False)
        elif fmt == BZIP2:
            _decompress_members(bz2.BZ2Decompressor, src, out, fmt, concat=True)
        elif fmt == XZ:
            _decompress_members(
                lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ), src, out, fmt, True
            )
        elif fmt == LZMA:
            _decompress_members(
                lambda: lzma.LZMADecompressor(lzma.FORMAT_ALONE), src, out, fmt, False
            )
        elif fmt in (ZSTD, BROTLI):
            _arrow_decompress(fmt, src, out)
        elif fmt == LZ4:
            _arrow_decompress("lz4", src, out)
        elif fmt == SNAPPY:
            _snappy_decompress(src, out)
        elif fmt == SNAPPY_HADOOP:
            _hadoop_decompress(src, out)
        elif fmt == SNAPPY_FRAMED:
            _framed_decompress(src, out)
        else:
            raise ValueError(f"unknown compression format {fmt!r}")
    except (CodecError, ContentError):
        raise  # a lost content is the repository's failure, not corrupt input
    except _STDLIB_ERRORS as exc:
        raise CodecError(f"corrupt {fmt} stream: {exc}") from exc
