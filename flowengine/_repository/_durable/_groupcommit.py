"""Group commit: many threads ask for a durable write, one of them writes for all.

A caller that finds no write in progress becomes the *leader*: it takes every request
queued so far and writes them in one transaction; callers arriving meanwhile queue up and
are written together by the next leader. A lone caller writes at once (no hand-off to a
thread, no timer), and under concurrency the cost of a transaction (and of an fsync with
``sync: always``) is shared by every session in the group.

Every caller returns only once its own request is durable, or raises the error of the
write that carried it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["GroupCommitter"]

T = TypeVar("T")


class GroupCommitter(Generic[T]):
    """Serializes writes of batches of requests (see the module docstring).

    Args:
        write: writes a batch atomically; called by one thread at a time.
    """

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self._write = write
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[T] = []
        self._issued = 0  # tickets handed out
        self._done = 0  # every ticket up to here has been written (or failed)
        self._writing = False
        self._failed: list[tuple[int, int, BaseException]] = []
        self.groups = 0  # number of transactions written (statistics)
        self.requests = 0

    def submit(self, request: T) -> None:
        """Queue ``request`` and return once it is durable (or raise why it is not)."""
        cond = self._cond
        with cond:
            self._issued += 1
            ticket = self._issued
            self._pending.append(request)
            while self._writing and self._done < ticket:
                cond.wait()
            if self._done >= ticket:
                self._raise_if_failed(ticket)
                return
            self._writing = True
            batch, self._pending = self._pending, []
            last = self._issued
        first = last - len(batch) + 1
        error: BaseException | None = None
        try:
            self._write(batch)
        except BaseException as exc:
            error = exc
        with cond:
            self._writing = False
            self._done = last
            self.groups += 1
            self.requests += len(batch)
            if error is not None:
                self._failed.append((first, last, error))
                del self._failed[:-64]  # only recent failures can still be waited on
            cond.notify_all()
        if error is not None:
            raise error

    def _raise_if_failed(self, ticket: int) -> None:
        for lo, hi, exc in self._failed:
            if lo <= ticket <= hi:
                raise exc
