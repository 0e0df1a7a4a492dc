"""Background threads survive errors and show their health (issue 23.6): the content
cleaner and the provenance writer retry with back-off; the status, the status lines,
the summary tables and the bulletins show the error until a round succeeds."""

from __future__ import annotations

import errno
import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

import flowengine
from flowengine._cli._live import background_line, status_fields, status_tables
from flowengine._repository._background import BackgroundHealth
from flowengine._repository._durable import FileContentRepository
from flowengine._status import BackgroundTaskStatus, FlowStatus

from .conftest import Collect, Source, run_flow

pytestmark = pytest.mark.faults


def _wait(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def test_cleaner_survives_a_failing_checkpoint_and_deletes_once_it_recovers(
    tmp_path: Path,
) -> None:
    """The barrier before deletion fails twice (ENOSPC): the cleaner keeps the released
    file, reports the error with its time, retries, then deletes it and clears it."""
    failures = [OSError(errno.ENOSPC, "No space left on device")] * 2

    def barrier() -> None:
        if failures:
            raise failures.pop()

    repo = FileContentRepository(
        tmp_path, barrier=barrier, max_appendable=10, cleanup_interval=0.01
    )
    try:
        claim = repo.write_bytes(b"x" * 100)
        repo.decref(claim)
        assert _wait(lambda: repo.background_status()[0].failing)
        st = repo.background_status()[0]
        assert st.name == "content-cleanup"
        assert st.last_error is not None
        assert "checkpoint" in st.last_error and "No space left" in st.last_error
        assert st.last_error_ms and abs(st.last_error_ms - time.time() * 1000) < 10_000
        assert repo.files_on_disk() == 1  # kept until the barrier succeeds
        assert _wait(lambda: repo.files_on_disk() == 0)  # back-off 0.5 s, then 1 s
        st = repo.background_status()[0]
        assert st.state == "ok" and st.last_error is None and st.last_error_ms is None
        assert st.failures == 2 and st.recovered_ms
        assert [b.level for b in st.bulletins] == ["error", "info"]
        assert "recovered after 2 failed attempt(s)" in st.bulletins[-1].message
        assert repo.last_error is None
    finally:
        repo.close()


def test_a_repeating_error_posts_one_bulletin_and_counts_every_round() -> None:
    """Ten rounds failing alike: one bulletin, ten failures; a new error is a new one."""
    h = BackgroundHealth("t", failed_event="t_failed", recovered_event="t_recovered")
    for _ in range(10):
        h.failed(OSError("disk full"), 1.0)
    h.failed(ValueError("other"), 2.0)
    st = h.status()
    assert st.failing and st.failures == 11 and st.last_error == "ValueError: other"
    assert [b.message for b in st.bulletins] == [
        "t failing: OSError: disk full",
        "t failing: ValueError: other",
    ]
    h.succeeded()
    h.succeeded()  # healthy: a no-op
    st = h.status()
    assert not st.failing and len(st.bulletins) == 3


def _status(*background: BackgroundTaskStatus) -> FlowStatus:
    return FlowStatus("f", 0, (), (), background)


def _render(renderable: object) -> str:
    out = io.StringIO()
    Console(file=out, width=160).print(renderable)
    return out.getvalue()


def test_status_lines_and_tables_show_a_failing_thread_until_it_recovers() -> None:
    """A failing thread: in the status line's background_errors, the background table
    (live view and summary) and the words of the flow_finished line; once it recovered
    the status line drops it and the table says when it recovered."""
    failing = BackgroundTaskStatus(
        "provenance-writer",
        "failing",
        "OSError: [Errno 28] No space",
        1_700_000_000_000,
        3,
    )
    fields = status_fields(_status(failing))
    assert fields["background_errors"] == {
        "provenance-writer": "OSError: [Errno 28] No space"
    }
    text = _render(status_tables(_status(failing)))
    assert "background threads" in text and "OSError: [Errno 28] No space" in text
    assert "failing since" in background_line(failing)
    recovered = BackgroundTaskStatus(
        "provenance-writer", "ok", None, None, 3, 1_700_000_001_000
    )
    assert "background_errors" not in status_fields(_status(recovered))
    assert "recovered" in _render(status_tables(_status(recovered)))
    assert "recovered at" in background_line(recovered)
    healthy = BackgroundTaskStatus("content-cleanup", "ok")
    assert "background threads" not in _render(status_tables(_status(healthy)))


def test_flow_status_lists_the_durable_background_tasks(
    tmp_path: Path, records: dict
) -> None:
    """A durable run's status names its three background tasks, healthy; an in-memory
    run has none."""
    f = flowengine.Flow("bg")
    f.add_processor("src", Source, {"total": "5"})
    f.add_processor("sink", Collect, {"key": "bg"})
    f.connect("src", "sink")
    with run_flow(f, tmp_path / "state") as result:
        names = [t.name for t in result.status.background]
        assert names == ["content-cleanup", "flowfile-checkpoint", "provenance-writer"]
        assert not any(t.failing or t.failures for t in result.status.background)
    with f.run(until_drained=True, timeout=30) as result:
        assert result.status.background == ()
