"""IdentifyMimeType: magic signatures (Tika's names), filename refinement, config."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest
from flowengine.processors.content.identify_mime import IdentifyMimeType

from flowengine.testing import TestRunner

TABLE = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def _parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(TABLE, buf)
    return buf.getvalue()


def _orc() -> bytes:
    buf = io.BytesIO()
    orc.write_table(TABLE, buf)
    return buf.getvalue()


def _arrow(stream: bool) -> bytes:
    sink = pa.BufferOutputStream()
    new = pa.ipc.new_stream if stream else pa.ipc.new_file
    with new(sink, TABLE.schema) as w:
        w.write_table(TABLE)
    return sink.getvalue().to_pybytes()


def _avro() -> bytes:
    buf = io.BytesIO()
    schema = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "int"}]}
    fastavro.writer(buf, schema, [{"a": 1}])
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hello")
    return buf.getvalue()


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        info = tarfile.TarInfo("a.txt")
        info.size = 5
        t.addfile(info, io.BytesIO(b"hello"))
    return buf.getvalue()


CASES = [
    (gzip.compress(b"x"), "application/gzip", ".gz"),
    (bz2.compress(b"x"), "application/x-bzip2", ".bz2"),
    (lzma.compress(b"x"), "application/x-xz", ".xz"),
    (b"\x28\xb5\x2f\xfd" + b"\x00" * 8, "application/zstd", ".zst"),
    (b"\x04\x22\x4d\x18" + b"\x00" * 8, "application/x-lz4", ".lz4"),
    (b"\xff\x06\x00\x00sNaPpY", "application/x-snappy-framed", ".sz"),
    (_zip(), "application/zip", ".zip"),
    (_tar(), "application/x-tar", ".tar"),
    (b"%PDF-1.7\n", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png", ".png"),
    (b"\xff\xd8\xff\xe0", "image/jpeg", ".jpg"),
    (b"GIF89a....", "image/gif", ".gif"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/vnd.wave", ".wav"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", ".webp"),
    (b'<?xml version="1.0"?><a/>', "application/xml", ".xml"),
    (b"NiFiFF3\x00\x01", "application/flowfile-v3", ""),
    (_parquet(), "application/x-parquet", ".parquet"),
    (_avro(), "application/avro-binary", ".avro"),
    (_orc(), "application/x-orc", ".orc"),
    (_arrow(stream=False), "application/vnd.apache.arrow.file", ".arrow"),
    (_arrow(stream=True), "application/vnd.apache.arrow.stream", ""),
    (b"just some words\n", "text/plain", ".txt"),
    (b"\x00\x01\x02\x03\xfe binary", "application/octet-stream", ""),
    (b"", "application/octet-stream", ""),
]


def _identify(content: bytes, filename: str = "noext", **props: str) -> TestRunner:
    runner = TestRunner(IdentifyMimeType)
    for k, v in props.items():
        runner.set_property(k, v)
    runner.enqueue(content, {"filename": filename})
    runner.run()
    return runner


@pytest.mark.parametrize(("content", "mime", "ext"), CASES, ids=[c[1] for c in CASES])
def test_magic_detection(content: bytes, mime: str, ext: str) -> None:
    """Content is identified by its leading bytes, with NiFi's (Tika's) type names."""
    ff = _identify(content).flowfiles_for("success")[0]
    ff.assert_attribute_equals("mime.type", mime)
    ff.assert_attribute_equals("mime.extension", ext)


def test_filename_refines_text_and_zip() -> None:
    """A .csv text is text/csv, a .jar zip is application/java-archive."""
    _identify(b"a,b\n1,2\n", "data.csv").flowfiles_for("success")[
        0
    ].assert_attribute_equals("mime.type", "text/csv")
    _identify(_zip(), "lib.jar").flowfiles_for("success")[0].assert_attribute_equals(
        "mime.type", "application/java-archive"
    )


def test_filename_does_not_override_contradicting_magic() -> None:
    """A gzip stream named .csv is still application/gzip."""
    ff = _identify(gzip.compress(b"a,b"), "data.csv").flowfiles_for("success")[0]
    ff.assert_attribute_equals("mime.type", "application/gzip")


def test_filename_ignored_when_disabled() -> None:
    """Use Filename In Detection false: the name does not count."""
    runner = _identify(b"a,b\n1,2\n", "data.csv", use_filename_in_detection="false")
    runner.flowfiles_for("success")[0].assert_attribute_equals(
        "mime.type", "text/plain"
    )


def test_filename_alone_identifies_magicless_formats() -> None:
    """Formats without magic (json, brotli) are known by their extension."""
    ff = _identify(b'{"a": 1}', "doc.json").flowfiles_for("success")[0]
    ff.assert_attribute_equals("mime.type", "application/json")
    ff.assert_attribute_equals("mime.extension", ".json")


def test_charset_written_for_text_only() -> None:
    """mime.charset is set for text/* (UTF-8 when non-ASCII), absent for binary."""
    ff = _identify("héllo wörld\n".encode()).flowfiles_for("success")[0]
    ff.assert_attribute_equals("mime.charset", "UTF-8")
    ff = _identify(gzip.compress(b"x")).flowfiles_for("success")[0]
    ff.assert_attribute_not_exists("mime.charset")


CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<mime-info>
  <mime-type type="custom/abcd">
    <magic priority="50"><match value="abcd" type="string" offset="0"/></magic>
    <glob pattern="*.abcd"/>
  </mime-type>
  <mime-type type="custom/nested">
    <magic priority="60">
      <match value="NEST" type="string" offset="0">
        <match value="ED" type="string" offset="4"/>
      </match>
    </magic>
  </mime-type>
  <mime-type type="custom/hexy">
    <magic priority="50"><match value="\\x01\\x02XY" type="string" offset="2:8"/></magic>
  </mime-type>
</mime-info>
"""


def test_config_body_replace() -> None:
    """Replace: only the configured types; others become application/octet-stream."""
    runner = TestRunner(IdentifyMimeType)
    runner.set_property("Config Strategy", "Replace")
    runner.set_property("Config Body", CONFIG)
    runner.enqueue(b"abcd1234")
    runner.enqueue(b"zz..\x01\x02XY")
    runner.enqueue(gzip.compress(b"x"))
    runner.enqueue(b"NESTED")
    runner.enqueue(b"NESTXX")  # the nested match must hold too
    runner.run()
    types = [f["mime.type"] for f in runner.flowfiles_for("success")]
    assert types == [
        "custom/abcd",
        "custom/hexy",
        "application/octet-stream",
        "custom/nested",
        "application/octet-stream",
    ]
    assert runner.flowfiles_for("success")[0]["mime.extension"] == ".abcd"


def test_config_file_merge(tmp_path: Path) -> None:
    """Merge: the configured types first, then the built-in ones."""
    path = tmp_path / "mime.xml"
    path.write_text(CONFIG)
    runner = TestRunner(IdentifyMimeType)
    runner.set_property("config_strategy", "Merge")
    runner.set_property("config_file", str(path))
    runner.enqueue(b"abcd1234")
    runner.enqueue(gzip.compress(b"x"))
    runner.run()
    types = [f["mime.type"] for f in runner.flowfiles_for("success")]
    assert types == ["custom/abcd", "application/gzip"]


@pytest.mark.parametrize(
    "props",
    [
        {"config_strategy": "Replace"},
        {"config_strategy": "Replace", "config_body": CONFIG, "config_file": "/x"},
        {"config_strategy": "Merge", "config_body": "<mime-info><oops"},
        {
            "config_strategy": "Replace",
            "config_body": '<mime-info><mime-type type="a/b"><magic>'
            '<match value="0x1" type="little32" offset="0"/></magic>'
            "</mime-type></mime-info>",
        },
    ],
)
def test_config_is_validated(props: dict[str, str]) -> None:
    """Replace/Merge need exactly one of Config Body / Config File, and valid XML."""
    runner = TestRunner(IdentifyMimeType)
    for k, v in props.items():
        runner.set_property(k, v)
    runner.assert_not_valid()
