"""ListFileSystem / FetchFileSystem / PutFileSystem over local, memory and S3 URLs."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flowengine.processors.filesystem import (
    FetchFileSystem,
    ListFileSystem,
    PutFileSystem,
)

import flowengine
from flowengine.testing import TestRunner


def test_list_local_directory_once_per_file(tmp_path: Path) -> None:
    """Files are listed with path attributes; a second listing emits only new ones."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.csv").write_text("1")
    (tmp_path / "sub" / "b.csv").write_text("22")
    (tmp_path / ".hidden").write_text("x")
    r = TestRunner(ListFileSystem)
    r.set_property("url", f"file://{tmp_path}")
    r.run(stop_on_finish=False)
    got = {f["filename"]: f for f in r.flowfiles_for("success")}
    assert sorted(got) == ["a.csv", "b.csv"]
    got["b.csv"].assert_attribute_equals("path", "sub/")
    got["b.csv"].assert_attribute_equals("file.size", "2")
    assert got["a.csv"]["fs.url"] == f"file://{tmp_path}/a.csv"
    r.clear_transferred()
    (tmp_path / "c.csv").write_text("3")
    r.run()
    assert [f["filename"] for f in r.flowfiles_for("success")] == ["c.csv"]


def test_fetch_missing_file_routes_to_not_found(tmp_path: Path) -> None:
    """A missing file goes to not.found with an error attribute."""
    r = TestRunner(FetchFileSystem)
    r.enqueue(b"", {"fs.url": f"file://{tmp_path}/nope"})
    r.run()
    r.assert_all_transferred("not.found", 1)
    r.flowfiles_for("not.found")[0].assert_attribute_equals(
        "fs.exception", "FileNotFoundError"
    )


def test_put_conflicts_and_atomic_rename(tmp_path: Path) -> None:
    """PutFileSystem writes the file (no temp file left); an existing one fails with fail."""
    r = TestRunner(PutFileSystem)
    r.set_property("directory_url", f"file://{tmp_path}/out")
    r.enqueue(b"first", {"filename": "x/y.txt"})
    r.run()
    r.assert_all_transferred("success", 1)
    assert (tmp_path / "out" / "x" / "y.txt").read_bytes() == b"first"
    assert [p.name for p in (tmp_path / "out" / "x").iterdir()] == ["y.txt"]
    r2 = TestRunner(PutFileSystem)
    r2.set_property("directory_url", f"file://{tmp_path}/out")
    r2.enqueue(b"second", {"filename": "x/y.txt"})
    r2.run()
    r2.assert_all_transferred("failure", 1)
    assert (tmp_path / "out" / "x" / "y.txt").read_bytes() == b"first"


def test_local_to_s3_and_back_in_one_flow(
    moto: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """One flow moves files local -> S3 (via the AWS service) -> memory:// by URL."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}.txt").write_text(f"content {i}")
    mem = f"memory://fe-{uuid.uuid4().hex[:8]}"
    flow = flowengine.Flow("fs")
    flow.add_service(
        "aws", "AWSCredentialsProviderControllerService", moto.service_properties()
    )
    flow.add_processor("list", "ListFileSystem", {"url": f"file://{src}"})
    fail = ["failure"]
    flow.add_processor(
        "fetch", "FetchFileSystem", {}, auto_terminate=["not.found", *fail]
    )
    flow.add_processor(
        "to_s3",
        "PutFileSystem",
        {"directory_url": f"s3://{bucket}/landing", "aws_credentials_provider": "aws"},
        auto_terminate=fail,
    )
    flow.add_processor(
        "from_s3",
        "FetchFileSystem",
        {"aws_credentials_provider": "aws"},
        auto_terminate=["not.found", *fail],
    )
    flow.add_processor(
        "to_mem",
        "PutFileSystem",
        {"directory_url": mem},
        auto_terminate=["success", *fail],
    )
    flow.connect("list", "fetch")
    flow.connect("fetch", "to_s3", ["success"])
    flow.connect("to_s3", "from_s3", ["success"])
    flow.connect("from_s3", "to_mem", ["success"])
    result = flow.run(until_drained=True, timeout=60)
    assert result.drained
    assert result.ok, result.failures
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["landing/f0.txt", "landing/f1.txt", "landing/f2.txt"]
    import fsspec

    fs = fsspec.filesystem("memory")
    assert fs.cat(f"{mem.split('://')[1]}/f1.txt") == b"content 1"
