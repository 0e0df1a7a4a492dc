"""The on-disk content repository: shared claim files, streaming, counting, cleanup."""

from __future__ import annotations

import errno
import io
import os
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import flowengine
from flowengine._api._content import ContentClaim
from flowengine._errors import ContentRepositoryFullError
from flowengine._repository._durable import FileContentRepository

from .conftest import content_files, referenced, run_flow


def test_small_contents_share_claim_files(tmp_path: Path) -> None:
    """10,000 contents of 100 bytes land in a few ~50 KB files, each readable."""
    repo = FileContentRepository(tmp_path)
    claims = [repo.write_bytes(bytes([i % 256]) * 100) for i in range(10_000)]
    assert len(content_files_of(tmp_path)) <= 25
    assert all(
        repo.read(claims[i]) == bytes([i % 256]) * 100 for i in range(0, 10_000, 101)
    )
    with repo.open(claims[7]) as f:
        f.seek(50)
        assert f.read() == bytes([7]) * 50
    repo.decref_many(claims)
    repo.close()
    assert content_files_of(tmp_path) == set()
    assert repo.resource_count() == 0


def test_large_content_is_streamed_into_its_own_file(tmp_path: Path) -> None:
    """A 20 MB content written in chunks is never buffered whole and gets its own file."""
    repo = FileContentRepository(tmp_path)
    chunk = b"z" * 65536
    tracemalloc.start()
    try:
        w = repo.writer()
        for _ in range(320):
            w.write(chunk)
        w.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    claim = w.claim
    assert claim is not None and claim.length == 320 * 65536 and claim.offset == 0
    assert peak < 2 * 1024**2
    assert (tmp_path / claim.resource).stat().st_size == claim.length
    with repo.open(claim) as f:
        assert f.read(10) == b"z" * 10
    repo.decref(claim)
    repo.close()
    assert not (tmp_path / claim.resource).exists()


def test_aborted_writer_leaves_nothing(tmp_path: Path) -> None:
    """An aborted spilled writer removes its file; nothing is counted."""
    repo = FileContentRepository(tmp_path)
    w = repo.writer()
    w.write(b"a" * 200_000)
    w.abort()
    assert w.claim is None
    assert content_files_of(tmp_path) == set()
    assert repo.resource_count() == 0
    repo.close()


def test_released_claims_are_deleted_after_the_barrier(tmp_path: Path) -> None:
    """Cleanup deletes a released file only after the durability barrier ran."""
    calls: list[int] = []
    repo = FileContentRepository(
        tmp_path,
        barrier=lambda: calls.append(len(content_files_of(tmp_path))),
        max_appendable=10,
    )
    c = repo.write_bytes(b"x" * 100)
    repo.incref(c)
    repo.decref(c)
    assert repo.claimant_count(c) == 1
    repo.decref(c)
    repo.cleanup()
    assert calls == [1]  # the file still existed when the barrier ran
    assert content_files_of(tmp_path) == set()
    repo.close()


def test_orphaned_files_are_reclaimed_at_start(tmp_path: Path) -> None:
    """Files no committed FlowFile references are deleted when the repository opens."""
    (tmp_path / "01").mkdir()
    (tmp_path / "01" / "1-1").write_bytes(b"kept")
    (tmp_path / "01" / "1-2").write_bytes(b"orphan")
    repo = FileContentRepository(tmp_path, claim_counts={"01/1-1": 1})
    assert repo.reclaimed == 1
    assert content_files_of(tmp_path) == {"01/1-1"}
    assert repo.read(ContentClaim("01/1-1", 0, 4)) == b"kept"
    repo.close()


def test_size_limit_refuses_writes_and_recovers(tmp_path: Path) -> None:
    """Past max_size writes raise ContentRepositoryFullError; freeing space lets them resume."""
    repo = FileContentRepository(tmp_path, max_size=10_000, max_appendable=1_000)
    claims = [repo.write_bytes(b"q" * 1_000) for _ in range(10)]
    with pytest.raises(ContentRepositoryFullError, match="full"):
        repo.write_bytes(b"q" * 1_000)
    with pytest.raises(ContentRepositoryFullError):
        repo.write_chunks([b"q" * 600] * 3)
    repo.decref_many(claims)
    repo.cleanup()
    assert repo.read(repo.write_bytes(b"back")) == b"back"
    repo.close()


def test_import_file_copies_small_and_large_files(tmp_path: Path) -> None:
    """Small files join a shared claim file; large ones get their own copy; the source
    stays untouched and independent of the copy."""
    repo = FileContentRepository(tmp_path / "repo", max_appendable=1_000)
    small, large = tmp_path / "small", tmp_path / "large"
    small.write_bytes(b"s" * 500)
    large.write_bytes(bytes(range(256)) * 10_000)
    c_small = repo.import_file(small)
    c_large = repo.import_file(large)
    assert repo.read(c_small) == b"s" * 500
    assert repo.read(c_large) == large.read_bytes()
    assert c_large.offset == 0 and c_large.length == 2_560_000
    assert os.stat(tmp_path / "repo" / c_large.resource).st_ino != large.stat().st_ino
    large.write_bytes(b"changed")  # the copy does not follow the source
    assert repo.read(c_large)[:3] == bytes([0, 1, 2])
    assert repo.used_bytes == 500 + 2_560_000
    repo.decref_many([c_small, c_large])
    repo.close()
    assert content_files_of(tmp_path / "repo") == set()
    assert small.read_bytes() == b"s" * 500


def test_import_file_links_and_release_keeps_the_source(tmp_path: Path) -> None:
    """``link`` shares the file (same inode, nothing copied); releasing the claim
    removes only the repository's name; a deleted source leaves the content intact."""
    repo = FileContentRepository(tmp_path / "repo", max_appendable=1_000)
    src = tmp_path / "big.csv"
    src.write_bytes(b"row\n" * 100_000)
    claim = repo.import_file(src, link=True)
    stored = tmp_path / "repo" / claim.resource
    assert stored.stat().st_ino == src.stat().st_ino and src.stat().st_nlink == 2
    src.unlink()  # Completion Strategy 'Delete File'
    assert repo.read(claim) == b"row\n" * 100_000
    kept = tmp_path / "kept.csv"
    kept.write_bytes(b"k" * 5_000)
    other = repo.import_file(kept, link=True)
    repo.decref_many([claim, other])
    repo.close()
    assert not stored.exists()
    assert kept.read_bytes() == b"k" * 5_000 and kept.stat().st_nlink == 1


def test_import_file_link_falls_back_to_a_copy(tmp_path: Path) -> None:
    """Where a hard link is impossible (here: a directory on another filesystem, faked
    by a failing ``os.link``), the content is copied instead."""
    repo = FileContentRepository(tmp_path / "repo", max_appendable=10)
    src = tmp_path / "f"
    src.write_bytes(b"x" * 1_000)
    real_link = os.link

    def cross_device(*_: object, **__: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    os.link = cross_device  # type: ignore[assignment]
    try:
        claim = repo.import_file(src, link=True)
    finally:
        os.link = real_link
    assert os.stat(tmp_path / "repo" / claim.resource).st_ino != src.stat().st_ino
    assert repo.read(claim) == b"x" * 1_000
    repo.close()


def test_import_file_respects_the_size_limit(tmp_path: Path) -> None:
    """A file larger than the space left raises ContentRepositoryFullError and leaves no
    partial file behind, for a copy and for a link."""
    repo = FileContentRepository(tmp_path / "repo", max_size=100_000, max_appendable=10)
    src = tmp_path / "f"
    src.write_bytes(b"x" * 150_000)
    for link in (False, True):
        with pytest.raises(ContentRepositoryFullError):
            repo.import_file(src, link=link)
        assert content_files_of(tmp_path / "repo") == set()
        assert repo.used_bytes == 0
    repo.close()


def test_export_copies_a_claim_into_a_file_or_stream(tmp_path: Path) -> None:
    """export writes exactly the claim's bytes, at the file's current position, into a
    regular file (kernel copy) or any stream."""
    repo = FileContentRepository(tmp_path / "repo", max_appendable=100)
    small = repo.write_bytes(b"abc")
    small2 = repo.write_bytes(b"defg")
    large = repo.write_bytes(b"L" * 300_000)
    out = tmp_path / "out"
    with open(out, "wb") as f:
        f.write(b">")
        assert repo.export(small2, f) == 4
        assert repo.export(large, f) == 300_000
        f.write(b"<")
    assert out.read_bytes() == b">defg" + b"L" * 300_000 + b"<"
    buf = io.BytesIO()
    assert repo.export(small, buf) == 3 and buf.getvalue() == b"abc"
    with open(out, "ab") as f:  # O_APPEND: the generic path
        repo.export(small, f)
    assert out.read_bytes().endswith(b"<abc")
    repo.close()


def content_files_of(directory: Path) -> set[str]:
    """Resource files directly under a content directory."""
    return {f"{p.parent.name}/{p.name}" for p in directory.glob("*/*")}


def _tiny_flow(n: int) -> flowengine.Flow:
    f = flowengine.Flow("tiny")
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {"batch_size": "1000", "file_size": "100 B"},
        schedule={"max_triggers": n // 1000, "period": "0 sec"},
    )
    f.add_processor("upd", "UpdateAttribute", {"stage": "x"})
    f.add_processor(
        "route",
        "RouteOnAttribute",
        {"x": "${stage:equals('x')}"},
        auto_terminate=["x", "unmatched"],
    )
    f.connect("gen", "upd")
    f.connect("upd", "route")
    return f


def _cleanup_keeps_up(tmp_path: Path, n: int) -> tuple[int, int]:
    peak = [0]
    stop = threading.Event()
    holder: dict[str, Any] = {}

    def sample() -> None:
        while not stop.wait(0.01):
            repo = holder.get("content")
            if repo is not None:
                peak[0] = max(peak[0], repo.files_on_disk())

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        res = run_flow(
            _tiny_flow(n),
            tmp_path,
            timeout=600,
            provenance=False,
            on_start=lambda rt: holder.update(content=rt.content),
        )
    finally:
        stop.set()
        t.join()
    deleted = res._content.deleted if res._content is not None else 0
    res.close()
    assert referenced(tmp_path) == (0, set())
    assert content_files(tmp_path) == set()
    return peak[0], deleted


def test_cleanup_keeps_up_with_many_tiny_flowfiles(tmp_path: Path) -> None:
    """50,000 tiny FlowFiles: released claim files are deleted during the run, not at the end."""
    peak, deleted = _cleanup_keeps_up(tmp_path, 50_000)
    assert deleted >= 50  # of ~100 claim files, most were deleted while the run went on
    assert peak < 60  # at any moment only a few dozen claim files exist


@pytest.mark.slow
def test_cleanup_keeps_up_with_two_million_tiny_flowfiles(tmp_path: Path) -> None:
    """2,000,000 tiny FlowFiles: the number of claim files on disk stays small throughout."""
    peak, deleted = _cleanup_keeps_up(tmp_path, 2_000_000)
    print(f"peak claim files on disk={peak} deleted during run={deleted}")
    assert peak < 200


def test_copies_work_without_copy_file_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the kernel copy is missing (macOS, old kernels) pread/pwrite copy the same."""
    from flowengine._repository._durable import _content

    monkeypatch.setattr(_content, "_kernel_copy", False)
    repo = FileContentRepository(tmp_path / "repo", max_appendable=10)
    src = tmp_path / "f"
    data = os.urandom(3 * 1024**2 + 7)
    src.write_bytes(data)
    claim = repo.import_file(src)
    assert repo.read(claim) == data
    with open(tmp_path / "out", "wb") as f:
        assert repo.export(claim, f) == len(data)
    assert (tmp_path / "out").read_bytes() == data
    repo.close()
