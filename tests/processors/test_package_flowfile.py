"""PackageFlowFile: FlowFile Stream v3 byte for byte, batching, round trip with
UnpackContent; and the codec's field encodings against NiFi's documented bytes."""

from __future__ import annotations

import io
import struct

import pytest
from flowengine.processors.content._flowfile_stream import (
    PackageError,
    iter_packages,
    write_header,
)

from flowengine.testing import TestRunner


def v3_bytes(attrs: dict[str, str], content: bytes) -> bytes:
    """FlowFilePackagerV3's encoding, spelled out from its description."""

    def length(n: int) -> bytes:
        return struct.pack(">H", n) if n < 65535 else b"\xff\xff" + struct.pack(">I", n)

    out = b"NiFiFF3" + length(len(attrs))
    for k, v in attrs.items():
        out += (
            length(len(k.encode())) + k.encode() + length(len(v.encode())) + v.encode()
        )
    return out + struct.pack(">q", len(content)) + content


def test_nifi_documented_vector_v2_and_v3() -> None:
    """The FlowFilePackagerV2 javadoc example (A=a, B=b, "Hello World!"); v3 is the
    same after the NiFiFF3 magic."""
    v2 = bytes.fromhex(
        "00 02 00 01 41 00 01 61 00 01 42 00 01 62 00 00"
        "00 00 00 00 00 0C 48 65 6C 6C 6F 20 57 6F 72 6C 64 21"
    )
    for version, expected in ((2, v2), (3, b"NiFiFF3" + v2)):
        buf = io.BytesIO()
        write_header(buf, {"A": "a", "B": "b"}, 12, version=version)
        buf.write(b"Hello World!")
        assert buf.getvalue() == expected
        ((attrs, data),) = [
            (e.attributes, e.read())
            for e in iter_packages(io.BytesIO(expected), version=version)
        ]
        assert attrs == {"A": "a", "B": "b"} and data == b"Hello World!"


def test_long_fields_use_the_six_byte_length() -> None:
    buf = io.BytesIO()
    write_header(buf, {"k": "v" * 65535, "e": ""}, 0)
    data = buf.getvalue()
    assert data[:7] == b"NiFiFF3" and data[7:9] == b"\x00\x02"
    assert data[9:12] == b"\x00\x01k"
    assert data[12:18] == b"\xff\xff\x00\x00\xff\xff"  # 65535 itself needs 6 bytes
    assert data.endswith(b"\x00\x01e\x00\x00" + b"\x00" * 8)
    ((attrs, _),) = [(e.attributes, e.read()) for e in iter_packages(io.BytesIO(data))]
    assert attrs == {"k": "v" * 65535, "e": ""}


def test_truncated_and_empty_packages_are_errors() -> None:
    good = v3_bytes({"a": "b"}, b"content")
    for bad in (b"", good[:-1], good[:10], good + b"NiFiFF"):
        with pytest.raises(PackageError):
            _read_all(bad)


def _read_all(data: bytes) -> None:
    for e in iter_packages(io.BytesIO(data)):
        e.read()


def test_package_is_byte_exact_flowfile_stream_v3() -> None:
    r = TestRunner("PackageFlowFile")
    r.enqueue(b"Hello World!", {"A": "a", "B": "b"})
    r.run(1)
    (pkg,) = r.flowfiles_for("success")
    (orig,) = r.flowfiles_for("original")
    assert pkg["mime.type"] == "application/flowfile-v3"
    assert pkg.content == v3_bytes(dict(orig.attributes), b"Hello World!")
    assert orig.content == b"Hello World!"


def test_maximum_batch_size_packages_several_and_unpacks_back() -> None:
    r = TestRunner("PackageFlowFile")
    r.set_property("Maximum Batch Size", "3")
    for i in range(5):
        r.enqueue(f"c{i}", {"i": str(i)})
    r.run(1)
    (pkg,) = r.flowfiles_for("success")
    assert r.transfer_count("original") == 3
    u = TestRunner("UnpackContent")
    u.enqueue(pkg.content, dict(pkg.attributes))
    u.run(1)
    out = u.flowfiles_for("success")
    assert [(o.content, o["i"]) for o in out] == [
        (b"c0", "0"),
        (b"c1", "1"),
        (b"c2", "2"),
    ]
    r.run(1)
    assert r.transfer_count("original") == 5


def test_batch_size_is_bounded_as_in_nifi() -> None:
    r = TestRunner("PackageFlowFile")
    r.set_property("maximum_batch_size", "10001")
    r.enqueue(b"x")
    with pytest.raises(Exception, match=r"maximum_batch_size|10000|Maximum Batch Size"):
        r.run(1)
