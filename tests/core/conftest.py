"""Small processors used to pin engine behaviour (defined once for the core tests)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from flowengine import (
    InputRequirement,
    ProcessContext,
    ProcessException,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)


class Source(Processor):
    """Emits ``count`` FlowFiles per trigger with content ``item-N``."""

    input_requirement = InputRequirement.FORBIDDEN
    COUNT = PropertyDescriptor(
        "count", default="1", validators=(validators.POSITIVE_INTEGER,)
    )
    SUCCESS = Relationship("success")
    default_schedule = {"period": 0.0}

    def on_scheduled(self, context: ProcessContext) -> None:
        self.n = 0

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for _ in range(context.property(self.COUNT).as_int() or 1):
            ff = session.create()
            ff = session.write(ff, f"item-{self.n}".encode())
            ff = session.put_attribute(ff, "n", str(self.n))
            self.n += 1
            session.transfer(ff, self.SUCCESS)


class Pass(Processor):
    """Moves a batch to success."""

    input_requirement = InputRequirement.REQUIRED
    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ffs = session.get(context.batch_size)
        if ffs:
            session.transfer(ffs, self.SUCCESS)


class Sink(Processor):
    """Removes what it gets, remembering contents (optionally slowly)."""

    input_requirement = InputRequirement.REQUIRED
    DELAY = PropertyDescriptor(
        "delay", default="0 sec", validators=(validators.TIME_PERIOD,)
    )
    seen: list[bytes]

    def on_scheduled(self, context: ProcessContext) -> None:
        self.seen = []

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        delay = context.property(self.DELAY).as_duration() or 0.0
        for ff in session.get(context.batch_size):
            self.seen.append(session.read(ff))
            session.remove(ff)
        if delay:
            time.sleep(delay)


class FailOnce(Processor):
    """Raises on the first trigger that has input, then passes FlowFiles to success."""

    input_requirement = InputRequirement.REQUIRED
    SUCCESS = Relationship("success")

    def __init__(self) -> None:
        self.failed = 0
        self.kind: type[Exception] = RuntimeError

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ffs = session.get(context.batch_size)
        if not ffs:
            return
        ffs = [session.put_attribute(f, "touched", "yes") for f in ffs]
        if not self.failed:
            self.failed += 1
            raise self.kind("boom")
        session.transfer(ffs, self.SUCCESS)


class RetryUntil(Processor):
    """Routes each FlowFile to a self-loop 'retry' (penalized) until it was seen N times."""

    input_requirement = InputRequirement.REQUIRED
    TIMES = PropertyDescriptor(
        "times", default="2", validators=(validators.POSITIVE_INTEGER,)
    )
    SUCCESS = Relationship("success")
    RETRY = Relationship("retry")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        times = context.property(self.TIMES).as_int() or 2
        for ff in session.get(context.batch_size):
            n = int(ff.get("tries") or 0) + 1
            ff = session.put_attribute(ff, "tries", str(n))
            if n < times:
                session.transfer(session.penalize(ff), self.RETRY)
            else:
                session.transfer(ff, self.SUCCESS)


class Concurrency(Processor):
    """Records how many triggers overlap (sync: threads; async: coroutines)."""

    input_requirement = InputRequirement.REQUIRED
    SUCCESS = Relationship("success")
    lock = threading.Lock()

    def on_scheduled(self, context: ProcessContext) -> None:
        self.active = 0
        self.peak = 0
        self.threads: set[int] = set()

    def _enter(self) -> None:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.threads.add(threading.get_ident())

    def _leave(self) -> None:
        with self.lock:
            self.active -= 1

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ff = session.get()
        if ff is None:
            return
        self._enter()
        try:
            time.sleep(0.05)
        finally:
            self._leave()
        session.transfer(ff, self.SUCCESS)


class AsyncConcurrency(Concurrency):
    """The async twin: sleeps on the loop."""

    async def on_trigger(
        self, context: ProcessContext, session: ProcessSession
    ) -> None:  # type: ignore[override]
        import anyio

        ff = session.get()
        if ff is None:
            return
        self._enter()
        try:
            await anyio.sleep(0.05)
        finally:
            self._leave()
        session.transfer(ff, self.SUCCESS)


class Raises(Processor):
    """Raises ProcessException for every batch."""

    input_requirement = InputRequirement.REQUIRED
    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        if session.get(10):
            raise ProcessException("cannot process")


@pytest.fixture
def types() -> Any:
    """The helper processor classes."""
    import types as _t

    return _t.SimpleNamespace(
        Source=Source,
        Pass=Pass,
        Sink=Sink,
        FailOnce=FailOnce,
        RetryUntil=RetryUntil,
        Concurrency=Concurrency,
        AsyncConcurrency=AsyncConcurrency,
        Raises=Raises,
    )
