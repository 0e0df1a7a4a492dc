"""UnpackContent's ZIP properties from NiFi: Filename Character Set, Password (ZipCrypto)
and Allow Stored Entries With Data Descriptor. The archives are written byte by byte
here (zipfile cannot write encrypted entries nor names in a legacy code page)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any

from flowengine.testing import TestRunner


def unpack(content: bytes, **props: Any) -> TestRunner:
    r = TestRunner("UnpackContent")
    r.set_property("Packaging Format", "zip")
    for k, v in props.items():
        r.set_property(k, v)
    r.enqueue(content, {"filename": "in.zip"})
    r.run(1)
    return r


def raw_zip(entries: list[tuple[bytes, bytes, int, int, int, int]]) -> bytes:
    """A STORED/DEFLATED ZIP from (name bytes, stored bytes, flags, method, crc,
    uncompressed size): no name encoding, no encryption done for us."""
    out = io.BytesIO()
    central = []
    for name, data, flags, method, crc, size in entries:
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                flags,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(name),
                0,
            )
        )
        out.write(name + data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                flags,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    for c in central:
        out.write(c)
    out.write(
        struct.pack(
            "<IHHHHIIH",
            0x06054B50,
            0,
            0,
            len(central),
            len(central),
            out.tell() - start,
            start,
            0,
        )
    )
    return out.getvalue()


def _crc_byte(crc: int, b: int) -> int:
    c = (crc ^ b) & 0xFF
    for _ in range(8):
        c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
    return (crc >> 8) ^ c


def zipcrypto(password: bytes, plain: bytes, crc: int) -> bytes:
    """Traditional PKWARE encryption (APPNOTE 6.1): a 12-byte header whose last byte is
    the CRC's high byte, then the data, each byte XORed with the key stream."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(p: int) -> None:
        keys[0] = _crc_byte(keys[0], p)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = _crc_byte(keys[2], keys[1] >> 24)

    for ch in password:
        update(ch)
    out = bytearray()
    for p in bytes(11) + bytes([crc >> 24]) + plain:
        t = (keys[2] | 2) & 0xFFFF
        out.append(p ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(p)
    return bytes(out)


def test_names_in_a_legacy_code_page_are_decoded_with_filename_character_set() -> None:
    name = "отчёт.txt".encode("cp866")
    data = b"hello"
    archive = raw_zip([(name, data, 0, 0, zlib.crc32(data), len(data))])
    r = unpack(archive, **{"Filename Character Set": "CP866"})
    (ff,) = r.flowfiles_for("success")
    assert ff.attributes["filename"] == "отчёт.txt"
    ff.assert_content_equals(b"hello")
    # Under the default (UTF-8) the same bytes are not valid: failure, with the hint.
    r = unpack(archive)
    (bad,) = r.flowfiles_for("failure")
    assert "Filename Character Set" in bad.attributes["error.message"]
    assert r.flowfiles_for("success") == []


def test_utf8_flagged_names_ignore_filename_character_set() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("café.txt", b"x")  # zipfile sets the UTF-8 flag (bit 11)
    r = unpack(buf.getvalue(), **{"Filename Character Set": "CP866"})
    assert r.flowfiles_for("success")[0].attributes["filename"] == "café.txt"


def test_zipcrypto_entries_are_read_with_the_password() -> None:
    plain = b"secret payload\n" * 10
    crc = zlib.crc32(plain)
    archive = raw_zip(
        [(b"s.txt", zipcrypto(b"pa55", plain, crc), 0x1, 0, crc, len(plain))]
    )
    r = unpack(archive, Password="pa55")
    (ff,) = r.flowfiles_for("success")
    ff.assert_content_equals(plain)
    assert len(r.flowfiles_for("original")) == 1


def test_encrypted_entries_without_or_with_a_wrong_password_go_to_failure() -> None:
    plain = b"secret"
    crc = zlib.crc32(plain)
    archive = raw_zip(
        [(b"s.txt", zipcrypto(b"pa55", plain, crc), 0x1, 0, crc, len(plain))]
    )
    r = unpack(archive)
    (ff,) = r.flowfiles_for("failure")
    assert "encrypted and no Password is set" in ff.attributes["error.message"]
    r = unpack(archive, Password="wrong")
    (ff,) = r.flowfiles_for("failure")
    assert "password" in ff.attributes["error.message"].lower()
    assert r.flowfiles_for("success") == []


def test_aes_entries_go_to_failure_with_the_reason() -> None:
    archive = raw_zip([(b"a.bin", b"\x00" * 40, 0x1, 99, 0, 10)])
    r = unpack(archive, Password="pa55")
    (ff,) = r.flowfiles_for("failure")
    assert "AES" in ff.attributes["error.message"]


def _stored_with_data_descriptor() -> bytes:
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.buf += bytes(b)
            return len(b)

    sink = Unseekable()
    # unseekable: zipfile writes a data descriptor after the entry
    with (
        zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as zf,
        zf.open("d.txt", "w") as entry,
    ):
        entry.write(b"descriptor data")
    return bytes(sink.buf)


def test_stored_entries_with_a_data_descriptor_need_the_property() -> None:
    archive = _stored_with_data_descriptor()
    info = zipfile.ZipFile(io.BytesIO(archive)).infolist()[0]
    assert info.flag_bits & 0x8 and info.compress_type == zipfile.ZIP_STORED
    r = unpack(archive)
    (ff,) = r.flowfiles_for("failure")
    assert "Allow Stored Entries With Data Descriptor" in ff.attributes["error.message"]
    r = unpack(archive, **{"Allow Stored Entries With Data Descriptor": "true"})
    r.flowfiles_for("success")[0].assert_content_equals(b"descriptor data")


def test_the_zip_properties_only_apply_to_zip() -> None:
    r = TestRunner("UnpackContent")
    r.set_property("Packaging Format", "tar")
    r.set_property("Password", "x")
    r.assert_valid()
