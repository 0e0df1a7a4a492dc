"""ListFile, FetchFile, GetFile and PutFile (NiFi semantics)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import flowengine
from flowengine.testing import TestRunner


def age(path: Path, seconds: float = 5) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def make(dirpath: Path, names: list[str]) -> None:
    dirpath.mkdir(parents=True, exist_ok=True)
    for n in names:
        p = dirpath / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"content of {n}")
        age(p)


def listed(r: TestRunner) -> list[str]:
    return sorted(f["path"] + f["filename"] for f in r.flowfiles_for("success"))


def test_list_file_emits_each_file_once_across_restarts(tmp_path: Path) -> None:
    """Listing state survives: a second listing emits only new files."""
    make(tmp_path / "in", ["a.txt", "b.txt", "sub/c.txt", ".hidden"])
    r = TestRunner("ListFile")
    r.set_property("input_directory", str(tmp_path / "in"))
    r.run()
    assert listed(r) == ["./a.txt", "./b.txt", "sub/c.txt"]
    ff = r.flowfiles_for("success")[0]
    assert ff["absolute.path"].endswith("in" + os.sep)
    assert ff["file.size"] == str(len("content of a.txt"))
    r.clear_transferred()
    r.run()
    assert listed(r) == []
    make(tmp_path / "in", ["d.txt"])
    r.run()
    assert listed(r) == ["./d.txt"]


def test_list_file_same_timestamp_files_are_not_missed(tmp_path: Path) -> None:
    """A file with the same mtime as the last listed one is still listed later."""
    make(tmp_path / "in", ["a.txt"])
    t = (tmp_path / "in" / "a.txt").stat().st_mtime
    r = TestRunner("ListFile")
    r.set_property("input_directory", str(tmp_path / "in"))
    r.run()
    (tmp_path / "in" / "b.txt").write_text("b")
    os.utime(tmp_path / "in" / "b.txt", (t, t))
    r.clear_transferred()
    r.run()
    assert listed(r) == ["./b.txt"]


def test_list_file_filters(tmp_path: Path) -> None:
    """File filter, no recursion, minimum size and age apply."""
    make(tmp_path / "in", ["a.csv", "b.txt", "sub/c.csv"])
    (tmp_path / "in" / "new.csv").write_text("fresh")
    r = TestRunner("ListFile")
    r.set_property("input_directory", str(tmp_path / "in"))
    r.set_property("file_filter", r".*\.csv")
    r.set_property("recurse_subdirectories", "false")
    r.set_property("minimum_file_age", "2 sec")
    r.run()
    assert listed(r) == ["./a.csv"]


def test_fetch_file_reads_and_completes(tmp_path: Path) -> None:
    """FetchFile streams the content, then deletes or moves the source after commit."""
    make(tmp_path / "in", ["a.txt", "b.txt"])
    r = TestRunner("FetchFile")
    r.set_property("completion_strategy", "Move File")
    r.set_property("move_destination_directory", str(tmp_path / "done"))
    r.enqueue(b"", {"absolute.path": str(tmp_path / "in"), "filename": "a.txt"})
    r.enqueue(b"", {"absolute.path": str(tmp_path / "in"), "filename": "missing.txt"})
    r.run()
    r.flowfiles_for("success")[0].assert_content_equals(b"content of a.txt")
    assert (tmp_path / "done" / "a.txt").exists() and not (
        tmp_path / "in" / "a.txt"
    ).exists()
    nf = r.flowfiles_for("not.found")[0]
    assert "missing.txt" in (nf.get("fetch.failure.reason") or "")
    assert [
        str(e.event_type) for e in r.provenance_events() if str(e.event_type) == "FETCH"
    ] == ["FETCH"]


def test_fetch_file_delete_strategy(tmp_path: Path) -> None:
    """Delete File removes the source once fetched."""
    make(tmp_path / "in", ["a.txt"])
    r = TestRunner("FetchFile")
    r.set_property("completion_strategy", "Delete File")
    r.enqueue(b"", {"absolute.path": str(tmp_path / "in"), "filename": "a.txt"})
    r.run()
    r.assert_all_transferred("success", 1)
    assert not (tmp_path / "in" / "a.txt").exists()


def test_fetch_file_link_strategy_in_a_durable_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Import Strategy 'link' hard-links large files into the durable content repository
    (asked of the repository, which copies the small ones); the output is intact, the
    sources are deleted after commit and nothing stays in the repository."""
    from flowengine._repository._durable import FileContentRepository

    linked: list[int] = []
    real_link = FileContentRepository._link

    def spy(self: FileContentRepository, path: object, fd: int) -> object:
        claim = real_link(self, path, fd)  # type: ignore[arg-type]
        linked.append(0 if claim is None else claim.length)
        return claim

    monkeypatch.setattr(FileContentRepository, "_link", spy)
    src = tmp_path / "in"
    src.mkdir()
    payloads = {f"f{i}.bin": os.urandom(200_000 + i) for i in range(3)}
    payloads["tiny.txt"] = b"tiny"
    for name, data in payloads.items():
        (src / name).write_bytes(data)
        age(src / name)
    f = flowengine.Flow("link")
    f.add_processor("list", "ListFile", {"input_directory": str(src)})
    f.add_processor(
        "fetch",
        "FetchFile",
        {"import_strategy": "link", "completion_strategy": "Delete File"},
        auto_terminate=["not.found", "permission.denied", "failure"],
    )
    f.add_processor(
        "put",
        "PutFile",
        {"directory": str(tmp_path / "out")},
        auto_terminate=["success", "failure"],
    )
    f.connect("list", "fetch")
    f.connect("fetch", "put")
    with f.run(timeout=30, durable=True, state_dir=tmp_path / "state") as res:
        assert res.drained and res.ok
    assert sorted(linked) == [200_000, 200_001, 200_002]
    for name, data in payloads.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    assert list(src.iterdir()) == []
    assert [
        p
        for p in (tmp_path / "state").rglob("*")
        if p.is_file() and p.parent.parent.name == "content"
    ] == []


def test_move_strategy_requires_a_destination() -> None:
    """Move File without a destination directory is invalid."""
    r = TestRunner("FetchFile")
    r.set_property("completion_strategy", "Move File")
    assert any("move_destination_directory" in p for p in r.validate())


def test_get_file_picks_up_and_deletes(tmp_path: Path) -> None:
    """GetFile creates FlowFiles from files and removes the sources."""
    make(tmp_path / "in", ["a.txt", "b.txt"])
    r = TestRunner("GetFile")
    r.set_property("input_directory", str(tmp_path / "in"))
    r.run()
    assert sorted(f.text for f in r.flowfiles_for("success")) == [
        "content of a.txt",
        "content of b.txt",
    ]
    assert list((tmp_path / "in").iterdir()) == []


def put(
    tmp_path: Path, filename: str, content: bytes = b"data", **props: str
) -> TestRunner:
    r = TestRunner("PutFile")
    r.set_property("directory", str(tmp_path / "out"))
    for k, v in props.items():
        r.set_property(k, v)
    r.enqueue(content, {"filename": filename})
    r.run()
    return r


def test_put_file_writes_and_resolves_conflicts(tmp_path: Path) -> None:
    """PutFile writes; 'fail' refuses an existing file, 'replace' overwrites it."""
    r = put(tmp_path, "a.txt", b"one")
    r.assert_all_transferred("success", 1)
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"one"
    r = put(tmp_path, "a.txt", b"two")
    r.assert_all_transferred("failure", 1)
    assert "already exists" in (
        r.flowfiles_for("failure")[0].get("putfile.failure.reason") or ""
    )
    put(tmp_path, "a.txt", b"three", conflict_resolution_strategy="replace")
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"three"
    put(
        tmp_path, "a.txt", b"four", conflict_resolution_strategy="ignore"
    ).assert_all_transferred("success", 1)
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"three"


def test_put_file_subdirectories_and_permissions(tmp_path: Path) -> None:
    """A relative subpath is created; permissions are applied."""
    put(tmp_path, "sub/dir/x.txt", permissions="rw-r-----").assert_all_transferred(
        "success", 1
    )
    p = tmp_path / "out" / "sub" / "dir" / "x.txt"
    assert p.read_bytes() == b"data"
    assert oct(p.stat().st_mode & 0o777) == "0o640"


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("../../etc/passwd", "contains '..'"),
        ("/etc/passwd", "absolute path"),
        ("sub/../../escape.txt", "contains '..'"),
        ("link/owned.txt", "through a symbolic link"),
    ],
)
def test_put_file_never_writes_outside_its_directory(
    tmp_path: Path, filename: str, reason: str
) -> None:
    """Path traversal attempts go to failure with a reason; nothing is written outside."""
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (out / "link").symlink_to(outside)
    r = put(tmp_path, filename)
    r.assert_all_transferred("failure", 1)
    assert reason in (r.flowfiles_for("failure")[0].get("putfile.failure.reason") or "")
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def _drain_list(directory: Path) -> tuple[int, int]:
    f = flowengine.Flow("list-once")
    f.add_processor(
        "list",
        "ListFile",
        {"input_directory": str(directory)},
        auto_terminate=["success"],
    )
    with f.run(timeout=30) as res:
        assert res.drained and res.ok
        st = res.status.processor("list")
        return st.relationship_counts.get("success", 0), st.triggers


def test_drain_listing_waits_only_for_recent_files(tmp_path: Path) -> None:
    """Until drained, ListFile lists old files in its first trigger; a file modified
    just before start is listed too, after one wait for the listing lag."""
    make(tmp_path / "old", ["a.txt", "b.txt"])
    assert _drain_list(tmp_path / "old") == (2, 1)
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "fresh.txt").write_text("just written")
    assert _drain_list(tmp_path / "new") == (1, 2)


def test_list_fetch_put_flow_until_drained(tmp_path: Path) -> None:
    """ListFile → FetchFile → PutFile copies a tree in drain mode, once."""
    make(tmp_path / "in", ["a.txt", "b.txt", "deep/c.txt"])
    f = flowengine.Flow("copy")
    f.add_processor("list", "ListFile", {"input_directory": str(tmp_path / "in")})
    f.add_processor(
        "fetch",
        "FetchFile",
        auto_terminate=["not.found", "permission.denied", "failure"],
    )
    f.add_processor(
        "put",
        "PutFile",
        {"directory": f"{tmp_path / 'out'}/${{path}}"},
        auto_terminate=["success", "failure"],
    )
    f.connect("list", "fetch")
    f.connect("fetch", "put")
    with f.run(timeout=30) as res:
        assert res.drained and res.ok
    assert sorted(
        p.relative_to(tmp_path / "out").as_posix()
        for p in (tmp_path / "out").rglob("*.txt")
    ) == ["a.txt", "b.txt", "deep/c.txt"]
