"""Processors and helpers for the durability tests (real repositories, real restarts)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

#: what Collect processors saw, by their ``key`` property
RECORDS: dict[str, list[tuple[dict[str, str], bytes]]] = {}
#: Gate processors pass FlowFiles only while their event is set
GATES: dict[str, threading.Event] = {}


class Source(Processor):
    """Emits ``total`` FlowFiles (``per_trigger`` at a time) with content ``item-N`` padded
    to ``size`` bytes; how many it emitted is state committed with the FlowFiles."""

    input_requirement = InputRequirement.FORBIDDEN
    TOTAL = PropertyDescriptor(
        "total", default="10", validators=(validators.POSITIVE_INTEGER,)
    )
    PER_TRIGGER = PropertyDescriptor(
        "per_trigger", default="1", validators=(validators.POSITIVE_INTEGER,)
    )
    SIZE = PropertyDescriptor(
        "size", default="0", validators=(validators.NON_NEGATIVE_INTEGER,)
    )
    SUCCESS = Relationship("success")
    default_schedule = {"period": 0.0}

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        total = context.property(self.TOTAL).as_int() or 0
        per = context.property(self.PER_TRIGGER).as_int() or 1
        size = context.property(self.SIZE).as_int() or 0
        n = int(session.get_state().get("n", "0"))
        if n >= total:
            context.exhausted()
            return
        for _ in range(min(per, total - n)):
            ff = session.create()
            ff = session.write(ff, content_of(n, size))
            ff = session.put_attribute(ff, "n", str(n))
            session.transfer(ff, self.SUCCESS)
            n += 1
        session.set_state({"n": str(n)})


def content_of(n: int, size: int = 0) -> bytes:
    """The content Source gives FlowFile ``n``."""
    head = f"item-{n}-".encode()
    if size <= len(head):
        return head
    return head + bytes((n + i) % 251 for i in range(size - len(head)))


class Gate(Processor):
    """Passes its input to success while ``GATES[key]`` is set, else yields."""

    input_requirement = InputRequirement.REQUIRED
    KEY = PropertyDescriptor("key", required=True)
    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        if not GATES[context.property(self.KEY).value or ""].is_set():
            context.yield_(0.05)
            return
        ffs = session.get(context.batch_size)
        if ffs:
            session.transfer(ffs, self.SUCCESS)


class Collect(Processor):
    """Records attributes and content of what it gets in ``RECORDS[key]``, then drops it."""

    input_requirement = InputRequirement.REQUIRED
    KEY = PropertyDescriptor("key", required=True)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        seen = RECORDS.setdefault(context.property(self.KEY).value or "", [])
        for ff in session.get(context.batch_size):
            seen.append((dict(ff.attributes), session.read(ff)))
            session.remove(ff)


class Split3(Processor):
    """Splits each FlowFile's content into 3 parts (children by offset), drops the parent."""

    input_requirement = InputRequirement.REQUIRED
    SPLITS = Relationship("splits")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ff = session.get()
        if ff is None:
            return
        third = ff.size // 3
        for i in range(3):
            length = third if i < 2 else ff.size - 2 * third
            child = session.clone(ff, i * third, length)
            session.transfer(session.put_attribute(child, "part", str(i)), self.SPLITS)
        session.remove(ff)


class Merge3(Processor):
    """Joins 3 FlowFiles (ordered by ``part``) into one child."""

    input_requirement = InputRequirement.REQUIRED
    MERGED = Relationship("merged")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        if session.queue_size()[0] < 3:
            return
        parts = sorted(session.get(3), key=lambda f: f.get("part") or "")
        merged = session.create(parts)
        merged = session.write(merged, b"".join(session.read(p) for p in parts))
        session.remove(parts)
        session.transfer(merged, self.MERGED)


class CrashAfterWrite(Processor):
    """Writes new content (small and large) for its input, then the process dies by
    SIGKILL: a crash between content write and repository commit."""

    input_requirement = InputRequirement.REQUIRED
    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ffs = session.get(10)
        if not ffs:
            return
        for ff in ffs:
            ff = session.write(ff, b"small rewrite")
            ff = session.write(
                ff, iter([b"x" * 65536] * 8)
            )  # 512 KiB: a file of its own
            session.transfer(ff, self.SUCCESS)
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """A closed gate registered as ``GATES['g']``."""
    ev = threading.Event()
    GATES["g"] = ev
    yield ev
    GATES.pop("g", None)


@pytest.fixture
def records() -> Iterator[dict[str, list[tuple[dict[str, str], bytes]]]]:
    """A fresh RECORDS table."""
    RECORDS.clear()
    yield RECORDS
    RECORDS.clear()


def content_files(state_dir: Path | str) -> set[str]:
    """Resource files in a state directory's content repository."""
    root = Path(state_dir) / "content"
    if not root.is_dir():
        return set()
    return {f"{p.parent.name}/{p.name}" for p in root.glob("*/*")}


def referenced(state_dir: Path | str) -> tuple[int, set[str]]:
    """(FlowFile rows, resources they reference) in a state directory."""
    import sqlite3

    con = sqlite3.connect(Path(state_dir) / "flowfiles.db")
    try:
        rows = con.execute("SELECT COUNT(*) FROM flowfiles").fetchone()[0]
        res = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT resource FROM flowfiles WHERE resource IS NOT NULL"
            )
        }
    finally:
        con.close()
    return int(rows), res


def run_flow(flow: Any, state_dir: Path | str, **kw: Any) -> Any:
    """Run ``flow`` durably in ``state_dir`` (until drained unless told otherwise)."""
    kw.setdefault("until_drained", True)
    kw.setdefault("timeout", 60)
    return flow.run(durable=True, state_dir=str(state_dir), **kw)


def run_until_queued(
    flow: Any, state_dir: Path | str, connection: str, count: int, **kw: Any
) -> Any:
    """Run ``flow`` durably until ``connection`` holds ``count`` FlowFiles, then stop it
    gracefully (what is queued stays in the repository for the next run)."""
    stop = threading.Event()

    def watch(runtime: Any) -> None:
        conn = next(c for c in runtime.connections if c.id == connection)
        while not stop.wait(0.01):
            if conn.queued_count >= count:
                runtime.request_stop()
                return

    def on_start(runtime: Any) -> None:
        threading.Thread(target=watch, args=(runtime,), daemon=True).start()
        if extra is not None:
            extra(runtime)

    extra = kw.pop("on_start", None)
    try:
        return flow.run(
            durable=True,
            state_dir=str(state_dir),
            until_drained=False,
            timeout=kw.pop("timeout", 120),
            on_start=on_start,
            **kw,
        )
    finally:
        stop.set()
