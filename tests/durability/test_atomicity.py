"""Commit atomicity across a real crash (SIGKILL between content write and commit)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import flowengine
from flowengine._repository._durable import open_durable_repositories

from .conftest import Collect, Source, content_files, content_of, referenced, run_flow

DRIVER = textwrap.dedent(
    """
    import sys
    import flowengine
    from tests.durability.conftest import CrashAfterWrite, Source

    f = flowengine.Flow("atomic")
    f.add_processor("src", Source, {"total": "30", "per_trigger": "30", "size": "100"})
    f.add_processor("work", CrashAfterWrite, auto_terminate=["success"])
    f.connect("src", "work")
    f.run(durable=True, state_dir=sys.argv[1], until_drained=True, timeout=60)
    """
)


def _flow() -> flowengine.Flow:
    f = flowengine.Flow("atomic")
    f.add_processor("src", Source, {"total": "30", "per_trigger": "30", "size": "100"})
    f.add_processor("work", Collect, {"key": "after"})
    f.connect("src", "work")
    return f


def test_crash_between_content_write_and_commit_leaves_nothing_visible(
    tmp_path: Path, records: dict
) -> None:
    """After a SIGKILL mid-session: only committed FlowFiles, original content, no leaked claim."""
    repo_root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path)],
        cwd=repo_root,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    rows, refs = referenced(tmp_path)
    assert rows == 30  # the source's commit; the crashed session's work is invisible
    before = content_files(tmp_path)
    assert before - refs, (
        "the crashed session wrote a file of its own (it must be reclaimed)"
    )
    repos = open_durable_repositories(
        tmp_path, flow="atomic", provenance=False, settings={}
    )
    try:
        assert content_files(tmp_path) == refs
        assert repos.content.reclaimed >= 1
    finally:
        repos.flowfiles.close()
        repos.content.close()
    result = run_flow(_flow(), tmp_path)
    got = sorted((int(a["n"]), body) for a, body in records["after"])
    assert got == [(n, content_of(n, 100)) for n in range(30)]
    result.close()
    assert referenced(tmp_path) == (0, set())
    assert content_files(tmp_path) == set()


def test_failed_commit_rolls_back_repository_state(tmp_path: Path) -> None:
    """A commit the repository refuses leaves neither rows nor live-map entries behind."""
    from flowengine._api._content import ContentClaim
    from flowengine._api._flowfile import FlowFile
    from flowengine._repository._repository import CommitDelta

    repos = open_durable_repositories(tmp_path, flow="x", provenance=False, settings={})
    ffrepo = repos.flowfiles
    try:
        ff = FlowFile(
            {"uuid": "u1", "filename": "a", "path": "./"}, ContentClaim("00/x", 0, 1)
        )
        ffrepo.commit(CommitDelta(placed=[("q1", ff)]))

        def refuse() -> None:
            raise OSError("simulated failure inside the transaction")

        ffrepo.before_commit = refuse  # type: ignore[attr-defined]
        moved = ff._with_attrs({**ff._attrs, "k": "v"})
        try:
            ffrepo.commit(CommitDelta(placed=[("q2", moved)]))
        except OSError:
            pass
        else:  # pragma: no cover - the failure must surface
            raise AssertionError("commit should have failed")
        ffrepo.before_commit = None  # type: ignore[attr-defined]
        ffrepo.commit(CommitDelta(dropped=[ff]))  # the live map still knows the old row
        assert ffrepo.flowfile_count() == 0  # type: ignore[attr-defined]
    finally:
        ffrepo.close()
        repos.content.close()


def test_concurrent_commits_are_grouped(tmp_path: Path) -> None:
    """Commits from many threads at once share transactions (group commit) and all land."""
    from flowengine._api._flowfile import FlowFile
    from flowengine._repository._repository import CommitDelta

    repos = open_durable_repositories(
        tmp_path, flow="x", provenance=False, settings={"sync": "always"}
    )
    ffrepo = repos.flowfiles

    def worker(k: int) -> None:
        for i in range(50):
            ff = FlowFile({"uuid": f"{k}-{i}", "filename": "f", "path": "./"}, None)
            ffrepo.commit(CommitDelta(placed=[(f"q{k}", ff)]))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        stats = ffrepo.statistics  # type: ignore[attr-defined]
        assert stats["commits"] == 400
        assert stats["groups"] < 400
        assert ffrepo.flowfile_count() == 400  # type: ignore[attr-defined]
    finally:
        ffrepo.close()
        repos.content.close()
