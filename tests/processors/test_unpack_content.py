"""UnpackContent: TAR, ZIP, FlowFile Stream v3/v2; File Filter; fragment attributes;
unsafe entry names and corrupt input to failure; round trips with MergeContent."""

from __future__ import annotations

import io
import tarfile
import zipfile
from typing import Any

import pytest

from flowengine.testing import MockFlowFile, TestRunner


def unpack(
    content: bytes, attrs: dict[str, str] | None = None, **props: Any
) -> TestRunner:
    r = TestRunner("UnpackContent")
    for k, v in props.items():
        r.set_property(k, v)
    r.enqueue(content, attrs or {})
    r.run(1)
    return r


def tar_of(entries: dict[str, bytes], *, mode: int = 0o644) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 1714557600
            info.uname, info.gname = "alice", "staff"
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def merged(
    fmt: str, items: list[tuple[bytes, dict[str, str]]], **props: str
) -> MockFlowFile:
    r = TestRunner("MergeContent")
    r.set_property("merge_format", fmt)
    r.set_property("minimum_number_of_entries", str(len(items)))
    for k, v in props.items():
        r.set_property(k, v)
    for content, attrs in items:
        r.enqueue(content, attrs)
    r.run(2)
    (m,) = r.flowfiles_for("merged")
    return m


def test_tar_entries_become_flowfiles_with_fragment_attributes() -> None:
    data = tar_of({"a.txt": b"one", "dir/sub/b.csv": b"two"}, mode=0o640)
    r = unpack(data, {"filename": "bundle.tar"}, packaging_format="tar")
    out = r.flowfiles_for("success")
    assert [o.content for o in out] == [b"one", b"two"]
    a, b = out
    assert (a["filename"], a["path"]) == ("a.txt", "/")
    assert (b["filename"], b["path"]) == ("b.csv", "dir/sub/")
    assert a["fragment.identifier"] == b["fragment.identifier"]
    assert [o["fragment.index"] for o in out] == ["1", "2"]
    assert {o["fragment.count"] for o in out} == {"2"}
    assert {o["segment.original.filename"] for o in out} == {"bundle"}
    assert a["file.permissions"] == "rw-r-----"
    assert (a["file.owner"], a["file.group"]) == ("alice", "staff")
    assert a["file.lastModifiedTime"] == "2024-05-01T10:00:00+0000"
    assert a["mime.type"] == "application/octet-stream"
    assert r.transfer_count("original") == 1


def test_zip_with_file_filter_and_mime_type_detection() -> None:
    data = zip_of({"keep/a.csv": b"a", "skip.txt": b"s", "keep/": b""})
    r = unpack(
        data,
        {"filename": "z.zip", "mime.type": "application/zip"},
        file_filter=r".*\.csv",
    )
    (o,) = r.flowfiles_for("success")
    assert o.content == b"a" and o["filename"] == "a.csv" and o["path"] == "keep/"
    assert o["fragment.count"] == "1" and o["segment.original.filename"] == "z"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("../evil", "tar"),
        ("a/../../evil", "tar"),
        ("/etc/passwd", "tar"),
        ("../x", "zip"),
        ("C:/x", "zip"),
    ],
)
def test_an_entry_that_would_escape_sends_the_input_to_failure(
    name: str, kind: str
) -> None:
    entries = {"fine.txt": b"ok", name: b"bad"}
    data = tar_of(entries) if kind == "tar" else zip_of(entries)
    r = unpack(data, packaging_format=kind)
    (f,) = r.flowfiles_for("failure")
    assert "escape" in f["error.message"] or "absolute" in f["error.message"]
    assert f.content == data  # the input, unchanged
    assert r.transfer_count("success") == 0 and r.transfer_count("original") == 0


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("tar", b"this is not a tar archive at all" * 40),
        ("zip", b"PK\x03\x04 broken zip"),
        ("zip", zip_of({"a": b"x" * 1000})[:-30]),
        ("flowfile-stream-v3", b"NiFiFF3\x00\x01\x00\x05ab"),
        ("flowfile-stream-v3", b"not a package"),
        ("flowfile-stream-v2", b"\x00"),
    ],
)
def test_a_corrupt_package_goes_to_failure(fmt: str, data: bytes) -> None:
    r = unpack(data, packaging_format=fmt)
    (f,) = r.flowfiles_for("failure")
    assert f["error.message"]
    assert r.transfer_count("success") == 0


def test_truncated_tar_content_goes_to_failure() -> None:
    data = tar_of({"a": b"x" * 5000})
    r = unpack(data[:1500], packaging_format="tar")
    assert r.transfer_count("failure") == 1 and r.transfer_count("success") == 0


def test_use_mime_type_attribute() -> None:
    """NiFi: no mime.type → failure; a type that is no package → success unchanged."""
    r = unpack(b"x")
    assert "mime.type" in r.flowfiles_for("failure")[0]["error.message"]
    r = unpack(b"plain", {"mime.type": "text/plain"})
    (o,) = r.flowfiles_for("success")
    assert o.content == b"plain" and "fragment.identifier" not in o.attributes


def test_round_trip_tar_through_merge_and_defragment() -> None:
    """Merge as TAR, unpack, merge back with Defragment: the same archive entries."""
    items = [(f"c{i}".encode() * 100, {"filename": f"f{i}.txt"}) for i in range(4)]
    tar = merged("TAR", items)
    r = unpack(tar.content, dict(tar.attributes))  # mime.type application/tar
    parts = r.flowfiles_for("success")
    assert [p.content for p in parts] == [c for c, _ in items]
    assert [p["filename"] for p in parts] == [a["filename"] for _, a in items]
    back = TestRunner("MergeContent")
    back.set_property("merge_strategy", "Defragment")
    back.set_property("merge_format", "TAR")
    for p in reversed(parts):
        back.enqueue(p.content, dict(p.attributes))
    back.run(1)
    (m,) = back.flowfiles_for("merged")
    assert m["filename"] == tar["filename"]  # segment.original.filename + .tar
    with tarfile.open(fileobj=io.BytesIO(m.content)) as t:
        assert [x.name for x in t.getmembers()] == [a["filename"] for _, a in items]


def test_round_trip_zip_keeps_paths() -> None:
    items = [
        (b"1", {"filename": "a", "path": "x/y/"}),
        (b"2", {"filename": "b", "path": "./"}),
    ]
    z = merged("ZIP", items, keep_path="true")
    r = unpack(z.content, dict(z.attributes))
    a, b = r.flowfiles_for("success")
    assert (a.content, a["path"], a["filename"]) == (b"1", "x/y/", "a")
    assert (b.content, b["path"]) == (b"2", "/")


@pytest.mark.parametrize("fmt", ["FlowFile Stream, v3", "FlowFile Stream, v2"])
def test_round_trip_flowfile_stream_restores_attributes(fmt: str) -> None:
    items = [
        (b"hello", {"filename": "h.txt", "k": "v", "unicode": "žluťoučký"}),
        (b"", {"filename": "empty"}),
        (b"x" * 200_000, {"filename": "big", "long": "L" * 70_000}),
    ]
    pkg = merged(fmt, items)
    r = unpack(pkg.content, dict(pkg.attributes))
    out = r.flowfiles_for("success")
    assert [o.content for o in out] == [c for c, _ in items]
    for o, (_, attrs) in zip(out, items, strict=True):
        for k, v in attrs.items():
            assert o[k] == v
    assert out[0]["fragment.count"] == "3"
    originals = {
        o["uuid"] for o in TestRunner("MergeContent").flowfiles_for("original")
    }
    assert not originals & {o["uuid"] for o in out}  # new uuids


def test_a_compressed_tar_is_not_a_tar() -> None:
    """NiFi's tar format reads plain TAR only: a gzip-compressed one fails."""
    import gzip

    r = unpack(gzip.compress(tar_of({"a": b"x"})), packaging_format="tar")
    assert r.transfer_count("failure") == 1 and r.transfer_count("success") == 0
