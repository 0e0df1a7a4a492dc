"""Where sync triggers run: declared (run_inline True/False) or measured (None)."""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import anyio

import flowengine
from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

from .conftest import Source


class Recorder(Processor):
    """Takes one FlowFile per trigger and records whether it ran on the loop thread;
    ``sleep_ms`` blocks every trigger, ``slow_at`` blocks only that trigger (1-based)."""

    input_requirement = InputRequirement.REQUIRED
    SLEEP_MS = PropertyDescriptor("sleep_ms", default="0")
    SLOW_AT = PropertyDescriptor("slow_at", default="0")
    SUCCESS = Relationship("success")
    on_loop: ClassVar[list[bool]] = []

    def on_scheduled(self, context: ProcessContext) -> None:
        self.sleep = float(context.property(self.SLEEP_MS).value or 0) / 1000
        self.slow_at = int(context.property(self.SLOW_AT).value or 0)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ff = session.get()
        if ff is None:
            return
        Recorder.on_loop.append(threading.current_thread() is threading.main_thread())
        if self.sleep:
            time.sleep(self.sleep)
        if len(Recorder.on_loop) == self.slow_at:
            time.sleep(0.05)
        session.transfer(ff, self.SUCCESS)


class WorkerOnly(Recorder):
    """The same, declared to block: always in worker threads."""

    run_inline = False


def _run(
    kind: type[Processor], n: int = 60, errors: int = 0, **props: Any
) -> list[bool]:
    """Run ``n`` FlowFiles through ``kind``; check it ended with ``errors`` errors."""
    Recorder.on_loop = []
    schedule = props.pop("schedule", {})
    f = flowengine.Flow("placement")
    f.add_processor("src", Source, {"count": 1}, schedule={"max_triggers": n})
    f.add_processor(
        "rec",
        kind,
        {k: str(v) for k, v in props.items()},
        auto_terminate=["success"],
        schedule={"batch_size": 1, **schedule},
    )
    f.connect("src", "rec")
    with f.run(timeout=30, administrative_yield=0.01) as res:
        assert res.drained
        assert res.status.processor("rec").errors == errors
    assert len(Recorder.on_loop) == n
    return Recorder.on_loop


def test_short_cpu_bound_triggers_move_to_the_loop_thread() -> None:
    """A plugin that declares nothing starts in worker threads and, after a run of
    short CPU-bound triggers, runs on the loop thread (no GIL contention)."""
    on_loop = _run(Recorder)
    assert on_loop[:8] == [False] * 8
    assert on_loop[-20:] == [True] * 20


def test_blocking_triggers_stay_in_worker_threads() -> None:
    """Triggers that sleep (block) are never moved to the loop thread."""
    assert not any(_run(Recorder, n=30, sleep_ms=2))


def test_a_long_inline_trigger_sends_the_processor_back_for_good() -> None:
    """Once an inline trigger blocks the loop (50 ms), the processor runs in worker
    threads for the rest of the run, however short its triggers are again."""
    on_loop = _run(Recorder, n=80, slow_at=30)
    assert on_loop[29] is True  # the slow one ran inline...
    assert not any(on_loop[30:])  # ...and none after it


def test_declared_or_parallel_processors_are_not_moved() -> None:
    """run_inline = False, or more than one concurrent task, keeps worker threads."""
    assert not any(_run(WorkerOnly))
    assert not any(_run(Recorder, schedule={"concurrent_tasks": 2}))


class NeedsAWorker(Recorder):
    """Works only off the event loop thread (like code calling ``asyncio.run``)."""

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError("cannot be called from a running event loop")
        super().on_trigger(context, session)


def test_a_failing_inline_trigger_sends_the_processor_back() -> None:
    """Code that fails on the loop thread fails once, then runs in workers again."""
    on_loop = _run(NeedsAWorker, n=40, errors=1)
    assert not any(on_loop)  # every recorded (successful) trigger ran in a worker


class DepthProbe(Processor):
    """Loop-thread consumer recording how deep its input queue is at each trigger
    (it yields on its first, as a consumer that is slow to start)."""

    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    SUCCESS = Relationship("success")
    depths: ClassVar[list[int]] = []
    runtime: ClassVar[Any] = None

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        (conn,) = [
            c for c in DepthProbe.runtime.connections if c.destination.id == "probe"
        ]
        DepthProbe.depths.append(conn.queued_count)
        if len(DepthProbe.depths) == 1:
            context.yield_(0.1)  # a slow start: an eager source would fill the queue
            return
        ffs = session.get(context.batch_size)
        if ffs:
            session.transfer(ffs, self.SUCCESS)


def test_loop_thread_source_does_not_run_ahead_of_a_loop_thread_consumer() -> None:
    """Both on the loop thread: once the consumer works, the source waits while a batch
    is queued (short queues keep FlowFiles in the caches) instead of keeping the queue
    at back pressure."""
    DepthProbe.depths = []
    f = flowengine.Flow("ahead")
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {"batch_size": "100"},
        schedule={"period": "0 sec", "max_triggers": 200, "batch_size": 100},
    )
    f.add_processor(
        "probe", DepthProbe, auto_terminate=["success"], schedule={"batch_size": 100}
    )
    f.connect("gen", "probe")
    with f.run(
        timeout=30, on_start=lambda rt: setattr(DepthProbe, "runtime", rt)
    ) as res:
        assert res.ok and res.drained
        assert res.status.processor("probe").flowfiles_in == 20_000
    # The backlog built up during the slow start is worked off, and then the queue
    # stays short (an eager source keeps it at back pressure, 10,000, to the end).
    assert max(DepthProbe.depths[-20:]) <= 200


def test_loop_thread_cycle_still_drains() -> None:
    """Connections on a cycle are never held back: a retry loop through two loop-thread
    processors runs to the end."""
    f = flowengine.Flow("cycle")
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {"batch_size": "500", "count": "0"},
        schedule={"period": "0 sec", "max_triggers": 4},
    )
    small = {"batch_size": 10}  # a batch ahead is reached at once on every edge
    f.add_processor(
        "inc", "UpdateAttribute", {"count": "${count:plus(1)}"}, schedule=small
    )
    f.add_processor(
        "route", "RouteOnAttribute", {"done": "${count:ge(5)}"}, schedule=small
    )
    f.add_output_port("out")
    f.connect("gen", "inc")
    f.connect("inc", "route")
    f.connect("route", "inc", ["unmatched"])
    f.connect("route", "out", ["done"])
    with f.run(timeout=30, collect_outputs=True) as res:
        assert res.ok and res.drained
        assert [ff["count"] for ff in res.outputs["out"]] == ["5"] * 2000


def test_a_stopped_consumer_lets_its_queue_fill_as_in_nifi() -> None:
    """Holding back is for consumers that are working: with the consumer's group
    stopped, the source fills the queue up to back pressure."""
    f = flowengine.Flow("stopped")
    f.add_processor(
        "gen",
        "GenerateFlowFile",
        {"batch_size": "100"},
        schedule={"period": "0 sec", "max_triggers": 30, "batch_size": 100},
    )
    grp = f.add_group("g")
    grp.add_input_port("in")
    grp.add_processor("tag", "UpdateAttribute", {"t": "1"}, auto_terminate=["success"])
    grp.connect("in", "tag")
    f.connect("gen", "g.in", back_pressure_objects=1000)
    seen: dict[str, int] = {}

    async def main() -> None:
        holder: dict[str, Any] = {}
        async with anyio.create_task_group() as tg:

            async def controller() -> None:
                while "rt" not in holder or holder["rt"].loop is None:  # noqa: ASYNC110 - test polls for the runtime to start
                    await anyio.sleep(0.001)
                rt = holder["rt"]
                rt.stop_group("g")
                await anyio.sleep(0.3)
                seen["queued"] = sum(
                    c.queued_count for c in rt.connections if c.destination.id == "g.in"
                )
                rt.start_group("g")

            tg.start_soon(controller)
            res = await f.run_async(
                timeout=10, on_start=lambda rt: holder.update(rt=rt)
            )
            res.close()

    anyio.run(main)
    assert seen["queued"] >= 1000
