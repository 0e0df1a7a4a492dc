"""Time as the engine sees it, injectable so scheduler tests never sleep.

The engine reads time only through a :class:`Clock`: ``monotonic()`` for penalties, yields
and schedules; ``time_ms()`` for FlowFile dates and expiration; ``sleep()`` to wait.
:class:`VirtualClock` jumps forward instead of sleeping (in the spirit of trio's
``MockClock(autojump_threshold=0)``), so a test with a 30 sec penalty runs in milliseconds.
"""

from __future__ import annotations

import time

import anyio
import anyio.lowlevel

__all__ = ["Clock", "SystemClock", "VirtualClock"]


class Clock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


SystemClock = Clock


class VirtualClock(Clock):
    """A clock whose sleeps advance virtual time instead of waiting.

    ``sleep(d)`` moves the clock to at least ``start + d`` and yields to the event loop
    once. Good enough for penalties, yields and timer schedules in tests; real I/O still
    takes real time.
    """

    def __init__(self, start_ms: int | None = None) -> None:
        self._offset = 0.0
        self._base_mono = time.monotonic()
        self._base_wall = time.time() if start_ms is None else start_ms / 1000

    def monotonic(self) -> float:
        return self._base_mono + self._offset

    def time_ms(self) -> int:
        return int((self._base_wall + self._offset) * 1000)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        self._offset += seconds

    async def sleep(self, seconds: float) -> None:
        target = self._offset + max(seconds, 0.0)
        await anyio.lowlevel.checkpoint()
        if self._offset < target:
            self._offset = target
