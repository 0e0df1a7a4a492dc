"""Queue swapping: a big queue keeps only its threshold in memory and stays in order."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import flowengine

from .conftest import Collect, Gate, Source, content_of, run_flow, run_until_queued


def _flow(
    total: int, threshold: int | None, batch: int | None, size: int = 20
) -> flowengine.Flow:
    f = flowengine.Flow("swap")
    f.add_processor(
        "src", Source, {"total": str(total), "per_trigger": "1000", "size": str(size)}
    )
    f.add_processor("gate", Gate, {"key": "g"}, schedule={"batch_size": 1000})
    f.add_processor("sink", Collect, {"key": "out"}, schedule={"batch_size": 1000})
    f.connect("src", "gate", back_pressure_objects=10 * total)
    f.connect("gate", "sink", back_pressure_objects=10 * total)
    if threshold is not None:
        f.settings["swap_threshold"] = threshold
    if batch is not None:
        f.settings["swap_batch_size"] = batch
    return f


class _Sampler:
    """Samples how many FlowFiles the first connection holds in memory."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.peak = 0
        self.peak_swapped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def attach(self, runtime: Any) -> None:
        self.conn = next(c for c in runtime.connections if c.id == "src:success->gate")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            c = self.conn
            self.peak = max(
                self.peak, len(c._fifo) + len(c._swap_queue) + len(c._penalized)
            )
            self.peak_swapped = max(self.peak_swapped, c._swapped)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def test_big_queue_swaps_out_and_restores_in_order(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """Beyond the threshold FlowFiles leave memory; after a restart all come back in order."""
    sampler = _Sampler()
    first = run_until_queued(
        _flow(30_000, 2_000, 1_000),
        tmp_path,
        "src:success->gate",
        30_000,
        on_start=sampler.attach,
    )
    sampler.stop()
    (stat,) = [c for c in first.status.connections if c.id == "src:success->gate"]
    first.close()
    assert stat.queued_count == 30_000
    assert stat.swapped_count >= 30_000 - 2_000 - 1_000
    assert (
        sampler.peak <= 2_000 + 1_000 + 1_000
    )  # active + swap queue + one offered batch
    gate.set()
    run_flow(_flow(30_000, 2_000, 1_000), tmp_path).close()
    got = records["out"]
    assert [int(a["n"]) for a, _ in got] == list(range(30_000))
    assert all(body == content_of(int(a["n"]), 20) for a, body in got[::997])


def test_swap_in_during_a_run_keeps_fifo_order(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """A queue that swapped out while its consumer was held drains in FIFO order."""
    sampler = _Sampler()
    opener = threading.Timer(2.0, gate.set)
    opener.start()
    try:
        run_flow(_flow(12_000, 1_000, 500), tmp_path, on_start=sampler.attach).close()
    finally:
        opener.cancel()
        sampler.stop()
    assert sampler.peak_swapped > 0
    assert [int(a["n"]) for a, _ in records["out"]] == list(range(12_000))


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_million_flowfile_queue_has_bounded_rss(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """1,000,000 queued FlowFiles with the default threshold: RSS grows by well under
    what holding them in memory takes (~500 MB)."""
    import psutil

    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], proc.memory_info().rss)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    start = time.monotonic()
    try:
        first = run_until_queued(
            _flow(1_000_000, None, None, size=0),
            tmp_path,
            "src:success->gate",
            1_000_000,
            timeout=600,
        )
    finally:
        stop.set()
        t.join()
    (stat,) = [c for c in first.status.connections if c.id == "src:success->gate"]
    first.close()
    grown_mb = (peak[0] - base) / 1024**2
    print(
        f"queued={stat.queued_count} swapped={stat.swapped_count} rss_growth_mb={grown_mb:.0f} seconds={time.monotonic() - start:.1f}"
    )
    assert stat.queued_count == 1_000_000
    assert stat.swapped_count >= 1_000_000 - 30_000
    assert grown_mb < 200


def test_swapping_with_a_prioritizer_delivers_everything_once(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """A prioritized queue that swaps still delivers every FlowFile exactly once."""
    f = flowengine.Flow("swap-prio")
    f.add_processor("src", Source, {"total": "5000", "per_trigger": "500"})
    f.add_processor("gate", Gate, {"key": "g"}, schedule={"batch_size": 100})
    f.add_processor("sink", Collect, {"key": "out"}, schedule={"batch_size": 100})
    f.connect(
        "src",
        "gate",
        back_pressure_objects=0,
        prioritizers=["NewestFlowFileFirstPrioritizer"],
    )
    f.connect("gate", "sink")
    f.settings.update(swap_threshold=500, swap_batch_size=250)
    opener = threading.Timer(1.0, gate.set)
    opener.start()
    try:
        run_flow(f, tmp_path).close()
    finally:
        opener.cancel()
    assert sorted(int(a["n"]) for a, _ in records["out"]) == list(range(5000))


def test_swapped_flowfiles_expire_and_release_their_content(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """FlowFiles that expired while swapped out are dropped (EXPIRE) when swapped back in."""
    from .conftest import content_files, referenced

    f = flowengine.Flow("swap-expire")
    f.add_processor(
        "src", Source, {"total": "3000", "per_trigger": "500", "size": "50"}
    )
    f.add_processor("gate", Gate, {"key": "g"}, schedule={"batch_size": 100})
    f.add_processor("sink", Collect, {"key": "out"})
    f.connect("src", "gate", back_pressure_objects=0, expiration="1 sec")
    f.connect("gate", "sink")
    f.settings.update(swap_threshold=500, swap_batch_size=250)
    opener = threading.Timer(2.5, gate.set)
    opener.start()
    try:
        res = run_flow(f, tmp_path)
    finally:
        opener.cancel()
    expired = res.provenance.query(event_type="EXPIRE")
    res.close()
    assert len(expired) + len(records.get("out", [])) == 3000
    assert len(expired) > 2000
    assert referenced(tmp_path) == (0, set())
    assert content_files(tmp_path) == set()


def test_equal_priorities_with_swapping_deliver_everything_once(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    """A queue of equal priorities that swaps out and in delivers every FlowFile once."""
    f = flowengine.Flow("swap-ties")
    f.add_processor("src", Source, {"total": "3000", "per_trigger": "300"})
    f.add_processor("tag", "UpdateAttribute", {"priority": "1"})
    f.add_processor("gate", Gate, {"key": "g"}, schedule={"batch_size": 50})
    f.add_processor("sink", Collect, {"key": "out"})
    f.connect("src", "tag")
    f.connect(
        "tag",
        "gate",
        back_pressure_objects=0,
        prioritizers=["PriorityAttributePrioritizer"],
    )
    f.connect("gate", "sink")
    f.settings.update(swap_threshold=200, swap_batch_size=100)
    opener = threading.Timer(1.0, gate.set)
    opener.start()
    try:
        res = run_flow(f, tmp_path)
    finally:
        opener.cancel()
    assert res.drained
    res.close()
    assert sorted(int(a["n"]) for a, _ in records["out"]) == list(range(3000))


class _Endpoint:
    """The two ends of a bare connection: only wake-ups are needed."""

    name = "end"

    def notify(self) -> None:
        """Nothing to wake."""


def test_swapped_in_index_never_collides_with_a_new_arrival(tmp_path: Path) -> None:
    """A swapped-in FlowFile and a new arrival with equal priority order without error."""
    from flowengine._api._flowfile import FlowFile
    from flowengine._clock import Clock
    from flowengine._engine._connection import Connection
    from flowengine._repository._durable import open_durable_repositories
    from flowengine._repository._repository import CommitDelta

    repos = open_durable_repositories(
        tmp_path,
        flow="x",
        provenance=False,
        settings={"swap_threshold": 2, "swap_batch_size": 2},
    )
    try:
        end: Any = _Endpoint()
        conn = Connection(
            "q",
            end,
            ["success"],
            end,
            clock=Clock(),
            prioritizers=["PriorityAttributePrioritizer"],
            swap=repos.flowfiles.swap_store("q"),
        )

        def place(name: str) -> None:
            ff = FlowFile(
                {"uuid": name, "filename": name, "path": "./", "priority": "1"}, None
            )
            repos.flowfiles.commit(CommitDelta(placed=[("q", ff)]))
            conn.offer([ff])

        for name in "abcd":  # c and d are swapped out
            place(name)
        assert conn.statistics().swapped_count == 2
        assert len(conn.poll(2)) == 2  # a, b
        assert len(conn.poll(1)) == 1  # swaps c, d in; takes one
        place("e")  # joins the swapped-in one in memory with an equal priority
        assert len(conn.poll(5)) == 2
    finally:
        repos.flowfiles.close()
        repos.content.close()
