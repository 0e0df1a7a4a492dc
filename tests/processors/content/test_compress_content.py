"""CompressContent: every NiFi format both ways, NiFi's attribute rules, bad input."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import struct
import tracemalloc
import zlib
from typing import Any

import cramjam
import pytest
from flowengine.processors.content import _codecs
from flowengine.processors.content.compress import CompressContent

from flowengine.testing import TestRunner

FORMATS = list(_codecs.FORMATS)
TEXT = b"".join(
    b"line %d of some repetitive text, col=%d\n" % (i, i % 7) for i in range(30_000)
)
BINARY = os.urandom(100_000) + TEXT


def _runner(mode: str, fmt: str, **props: str) -> TestRunner:
    runner = TestRunner(CompressContent)
    runner.set_property("Mode", mode)
    runner.set_property("Compression Format", fmt)
    for k, v in props.items():
        runner.set_property(k, v)
    return runner


def _compress(fmt: str, data: bytes, **props: str) -> Any:
    runner = _runner("compress", fmt, **props)
    runner.enqueue(data, {"filename": "data.txt"})
    runner.run()
    runner.assert_all_transferred("success", 1)
    return runner.flowfiles_for("success")[0]


def _crc32c(data: bytes) -> int:
    """Reference CRC-32C (Castagnoli), bit by bit, independent of the code under test."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "data", [b"", b"x", TEXT, BINARY], ids=["empty", "1", "text", "binary"]
)
def test_round_trip_every_format(fmt: str, data: bytes) -> None:
    """Compressing then decompressing gives the original bytes, for every format."""
    packed = _compress(fmt, data)
    packed.assert_attribute_equals("mime.type", _codecs.MIME_TYPES[fmt])
    runner = _runner("decompress", fmt)
    runner.enqueue(packed.content, {"mime.type": packed["mime.type"]})
    runner.run()
    runner.assert_all_transferred("success", 1)
    out = runner.flowfiles_for("success")[0]
    assert out.content == data
    out.assert_attribute_not_exists("mime.type")


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "xz-lzma2"])
def test_use_mime_type_attribute_decompresses(fmt: str) -> None:
    """Decompress with 'use mime.type attribute' picks the format from mime.type."""
    packed = _compress(fmt, TEXT)
    runner = _runner("decompress", "use mime.type attribute")
    runner.enqueue(packed.content, {"mime.type": packed["mime.type"]})
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(TEXT)


def test_xz_mime_type_passes_through_as_in_nifi() -> None:
    """NiFi's mime.type table has no application/x-xz: such content passes unchanged."""
    packed = _compress("xz-lzma2", TEXT)
    runner = _runner("decompress", "use mime.type attribute")
    runner.enqueue(packed.content, {"mime.type": "application/x-xz"})
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(packed.content)


def test_standard_tools_read_what_we_write() -> None:
    """gzip, zlib, bzip2, xz and lzma output is read by the standard decoders."""
    assert gzip.decompress(_compress("gzip", TEXT).content) == TEXT
    assert zlib.decompress(_compress("deflate", TEXT).content) == TEXT
    assert bz2.decompress(_compress("bzip2", TEXT).content) == TEXT
    xz = _compress("xz-lzma2", TEXT).content
    assert xz.startswith(b"\xfd7zXZ\x00")
    assert lzma.decompress(xz, format=lzma.FORMAT_XZ) == TEXT
    assert lzma.decompress(_compress("lzma", TEXT).content, lzma.FORMAT_ALONE) == TEXT
    assert bytes(cramjam.zstd.decompress(_compress("zstd", TEXT).content)) == TEXT
    assert bytes(cramjam.brotli.decompress(_compress("brotli", TEXT).content)) == TEXT
    assert bytes(cramjam.lz4.decompress(_compress("lz4-framed", TEXT).content)) == TEXT


def test_snappy_java_stream_layout() -> None:
    """'snappy' is snappy-java's stream: magic header, then length-prefixed 32 KiB blocks."""
    out = _compress("snappy", TEXT).content
    assert out[:16] == b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
    pos, blocks = 16, []
    while pos < len(out):
        (n,) = struct.unpack(">i", out[pos : pos + 4])
        blocks.append(bytes(cramjam.snappy.decompress_raw(out[pos + 4 : pos + 4 + n])))
        pos += 4 + n
    assert b"".join(blocks) == TEXT
    assert {len(b) for b in blocks[:-1]} == {32 * 1024}


def test_snappy_hadoop_block_layout() -> None:
    """'snappy-hadoop' blocks: int32 uncompressed length, int32 compressed length, data."""
    out = _compress("snappy-hadoop", TEXT).content
    pos, total = 0, b""
    while pos < len(out):
        raw_len, comp_len = struct.unpack(">ii", out[pos : pos + 8])
        block = bytes(cramjam.snappy.decompress_raw(out[pos + 8 : pos + 8 + comp_len]))
        assert len(block) == raw_len <= 32 * 1024
        total += block
        pos += 8 + comp_len
    assert total == TEXT


def test_snappy_hadoop_reads_a_block_split_into_several_chunks() -> None:
    """Hadoop may write one block as several compressed chunks; all are read."""
    a, b = b"a" * 1000, b"b" * 500
    ca, cb = (bytes(cramjam.snappy.compress_raw(x)) for x in (a, b))
    stream = struct.pack(">ii", 1500, len(ca)) + ca + struct.pack(">i", len(cb)) + cb
    runner = _runner("decompress", "snappy-hadoop")
    runner.enqueue(stream)
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(a + b)


def test_snappy_framed_chunks_carry_masked_crc32c() -> None:
    """'snappy framed' follows the framing format: stream id, chunks with masked CRC-32C."""
    out = _compress("snappy framed", TEXT).content
    assert out[:10] == b"\xff\x06\x00\x00sNaPpY"
    pos, total = 10, b""
    while pos < len(out):
        kind, length = out[pos], int.from_bytes(out[pos + 1 : pos + 4], "little")
        body = out[pos + 4 : pos + 4 + length]
        assert kind in (0, 1)
        data = bytes(cramjam.snappy.decompress_raw(body[4:])) if kind == 0 else body[4:]
        assert len(data) <= 65536
        assert struct.unpack("<I", body[:4])[0] == _masked(data)
        total += data
        pos += 4 + length
    assert total == TEXT


def test_snappy_framed_reads_uncompressed_padding_and_skippable_chunks() -> None:
    """Uncompressed (0x01), padding (0xfe) and skippable (0x80) chunks are handled."""
    data = b"hello framed world"

    def chunk(kind: int, body: bytes) -> bytes:
        return bytes([kind]) + len(body).to_bytes(3, "little") + body

    stream = (
        b"\xff\x06\x00\x00sNaPpY"
        + chunk(0xFE, b"\x00" * 3)
        + chunk(0x01, struct.pack("<I", _masked(data)) + data)
        + chunk(0x80, b"skip me")
    )
    runner = _runner("decompress", "snappy framed")
    runner.enqueue(stream)
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(data)


def test_snappy_framed_bad_crc_fails() -> None:
    """A chunk whose CRC does not match its data goes to failure."""
    data = b"hello"
    body = struct.pack("<I", _masked(data) ^ 1) + data
    stream = (
        b"\xff\x06\x00\x00sNaPpY" + b"\x01" + len(body).to_bytes(3, "little") + body
    )
    runner = _runner("decompress", "snappy framed")
    runner.enqueue(stream)
    runner.run()
    runner.assert_all_transferred("failure", 1)


def test_gzip_concatenated_members_are_all_read() -> None:
    """Concatenated gzip members decompress to the concatenation (as NiFi reads them)."""
    runner = _runner("decompress", "gzip")
    runner.enqueue(gzip.compress(b"one ") + gzip.compress(b"two"))
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(b"one two")


@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupt_stream_goes_to_failure_unchanged(fmt: str) -> None:
    """Corrupt or truncated input: failure with error.message, content untouched."""
    packed = _compress(fmt, BINARY).content
    damaged = [packed[: len(packed) // 2], b"\x00garbage that is not compressed" * 10]
    runner = _runner("decompress", fmt)
    for d in damaged:
        runner.enqueue(d, {"filename": "x"})
    runner.enqueue(packed)  # a good one in the same batch still succeeds
    runner.run()
    failed = runner.flowfiles_for("failure")
    assert [f.content for f in failed] == damaged
    for f in failed:
        assert fmt in f["error.message"]
    runner.flowfiles_for("success")[0].assert_content_equals(BINARY)


def test_missing_mime_type_fails_and_unknown_passes() -> None:
    """No mime.type: failure; a mime.type naming no format: success, unchanged."""
    runner = _runner("decompress", "use mime.type attribute")
    runner.enqueue(b"abc")
    runner.enqueue(b"plain", {"mime.type": "text/plain"})
    runner.run()
    runner.flowfiles_for("failure")[0].assert_attribute_exists("error.message")
    ok = runner.flowfiles_for("success")[0]
    ok.assert_content_equals(b"plain")
    ok.assert_attribute_equals("mime.type", "text/plain")


def test_compress_with_use_mime_type_takes_the_format_from_it() -> None:
    """Mode compress with 'use mime.type attribute' compresses in the named format."""
    runner = _runner("compress", "use mime.type attribute")
    runner.enqueue(TEXT, {"mime.type": "application/gzip"})
    runner.run()
    assert gzip.decompress(runner.flowfiles_for("success")[0].content) == TEXT


@pytest.mark.parametrize(
    ("fmt", "ext"),
    [
        ("gzip", ".gz"),
        ("deflate", ".zlib"),
        ("bzip2", ".bz2"),
        ("xz-lzma2", ".xz"),
        ("lzma", ".lzma"),
        ("snappy", ".snappy"),
        ("snappy-hadoop", ".snappy"),
        ("snappy framed", ".sz"),
        ("lz4-framed", ".lz4"),
        ("zstd", ".zst"),
        ("brotli", ".br"),
    ],
)
def test_update_filename(fmt: str, ext: str) -> None:
    """Update Filename appends the extension on compress and strips it on decompress."""
    packed = _compress(fmt, b"data", update_filename="true")
    packed.assert_attribute_equals("filename", "data.txt" + ext)
    runner = _runner("decompress", fmt, update_filename="true")
    runner.enqueue(packed.content, {"filename": "DATA.TXT" + ext.upper()})
    runner.enqueue(packed.content, {"filename": "other.bin"})
    runner.run()
    names = [f["filename"] for f in runner.flowfiles_for("success")]
    assert names == ["DATA.TXT", "other.bin"]


def test_filename_unchanged_by_default() -> None:
    """Update Filename defaults to false."""
    _compress("gzip", b"x").assert_attribute_equals("filename", "data.txt")


def test_compression_level_changes_output() -> None:
    """Level 0 gzip stores; level 9 compresses smaller than level 1."""
    stored = _compress("gzip", TEXT, compression_level="0").content
    fast = _compress("gzip", TEXT, compression_level="1").content
    best = _compress("gzip", TEXT, compression_level="9").content
    assert len(stored) > len(TEXT) > len(fast) > len(best)
    assert gzip.decompress(stored) == TEXT


def test_invalid_configuration_is_rejected() -> None:
    """Unknown formats and levels are configuration errors."""
    runner = TestRunner(CompressContent)
    runner.set_property("compression_format", "rar")
    runner.assert_not_valid()
    runner = TestRunner(CompressContent)
    runner.set_property("compression_level", "12")
    runner.assert_not_valid()


def test_lost_content_is_not_reported_as_corrupt() -> None:
    """A FlowFile whose content is gone is the engine's failure, not "corrupt input"."""
    runner = _runner("decompress", "gzip")
    runner.enqueue(gzip.compress(b"abc"), content_lost=True)
    runner.run()
    (failed,) = runner.flowfiles_for("failure")
    assert "cannot decompress" not in failed.attributes.get("error.message", "")
    assert "missing" in str(failed.attributes)


class _Pattern(io.RawIOBase):
    """``size`` bytes of compressible data, generated on the fly (never all in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = b"".join(
            b"%08d some text for compression\n" % i for i in range(30_000)
        )

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), len(self.block), self.left)
        b[:n] = self.block[:n]
        self.left -= n
        return n


class _Spool(io.RawIOBase):
    """Keeps what is written in a temporary file; counts bytes."""

    def __init__(self, f: Any) -> None:
        self.f, self.n = f, 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.f.write(b)
        self.n += len(b)
        return len(b)


@pytest.mark.parametrize("fmt", ["gzip", "zstd", "snappy framed"])
def test_200_mb_streams_with_bounded_memory(fmt: str, tmp_path: Any) -> None:
    """200 MB compress and decompress stay under 48 MB of Python allocations."""
    size = 200 << 20
    path = tmp_path / "packed"
    tracemalloc.start()
    try:
        with open(path, "wb") as f:
            _codecs.compress(fmt, 1, io.BufferedReader(_Pattern(size)), _Spool(f))
        with open(path, "rb") as f:
            sink = _Spool(open(os.devnull, "wb"))  # noqa: SIM115 - closed below
            _codecs.decompress(fmt, f, sink)
            sink.f.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.n == size
    assert peak < 48 << 20, f"peak {peak >> 20} MB"


class _Pieces(io.RawIOBase):
    """Returns the given pieces one read each (a read boundary exactly at a member's end)."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


@pytest.mark.parametrize(
    ("fmt", "one"),
    [
        ("gzip", gzip.compress),
        ("bzip2", bz2.compress),
        ("xz-lzma2", lzma.compress),
    ],
)
def test_member_boundary_on_a_read_boundary(fmt: str, one: Any) -> None:
    """A second member starting exactly where a read ends is still read."""
    out = io.BytesIO()
    _codecs.decompress(fmt, _Pieces(one(b"first "), one(b"second")), out)  # type: ignore[arg-type]
    assert out.getvalue() == b"first second"


def test_snappy_without_header_is_read_as_one_raw_block() -> None:
    """As snappy-java: content without its header is decompressed as a raw block."""
    runner = _runner("decompress", "snappy")
    runner.enqueue(bytes(cramjam.snappy.compress_raw(TEXT)))
    runner.enqueue(b"\xff\xff\xff\xff\x0f not snappy")  # a 4 GiB claimed length
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(TEXT)
    failed = runner.flowfiles_for("failure")[0]
    assert "256 MiB" in failed["error.message"]
