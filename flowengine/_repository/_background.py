"""Health of the repositories' background threads (content cleanup, provenance writer).

Such a thread must never die of an error: a dead content cleaner never deletes released
content again and the disk refills; a dead provenance writer silently stops provenance.
Each loop catches the error of a round, reports it here, backs off and retries. This
module owns what the rest of the engine sees of that: one WARN log line and one bulletin
when a thread starts failing (or its error changes), an INFO line and a bulletin when it
recovers, and a :class:`~flowengine._status.BackgroundTaskStatus` snapshot for the flow
status, the status lines, the live view and the run summary.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from .._api._flowfile import now_ms
from .._logging import engine_logger
from .._status import BackgroundTaskStatus, Bulletin

__all__ = ["BackgroundHealth", "next_backoff"]

#: bulletins kept per background thread (as for processors)
MAX_BULLETINS = 20
#: a failure repeating with the same error is logged at most this often (seconds)
LOG_EVERY = 10.0


def next_backoff(current: float, *, first: float, limit: float) -> float:
    """The pause before the next retry: ``first``, then doubling up to ``limit``."""
    return min(limit, max(first, current * 2))


class BackgroundHealth:
    """Thread-safe failure/recovery record of one background thread.

    Args:
        name: the thread's name as shown in status (``content-cleanup``).
        failed_event: the WARN log event of a failed round.
        recovered_event: the INFO log event of the first good round after failures.
    """

    def __init__(self, name: str, *, failed_event: str, recovered_event: str) -> None:
        self.name = name
        self._failed_event = failed_event
        self._recovered_event = recovered_event
        self._log = engine_logger(component=name)
        self._lock = threading.Lock()
        self._last_error: str | None = None
        self._last_error_ms: int | None = None
        self._recovered_ms: int | None = None
        self._failures = 0
        self._streak = 0
        self._logged_at = -1e9
        self._unlogged = 0
        self._bulletins: deque[Bulletin] = deque(maxlen=MAX_BULLETINS)

    @property
    def last_error(self) -> str | None:
        """The error of the failure in progress (None while healthy)."""
        return self._last_error

    def failed(self, exc: BaseException, retry_in: float | None, **detail: Any) -> None:
        """A round failed; the thread retries in ``retry_in`` seconds (None: at its
        next round, when the caller does not back off itself).

        A WARN line is logged when the failure starts or its message changes, then at
        most every :data:`LOG_EVERY` seconds (with how many rounds failed meanwhile);
        a bulletin is posted when the failure starts or its message changes, so a
        thread retrying the same error for an hour floods neither.
        """
        error = f"{type(exc).__name__}: {exc}"
        now = now_ms()
        mono = time.monotonic()
        with self._lock:
            changed = error != self._last_error
            self._last_error, self._last_error_ms = error, now
            self._failures += 1
            self._streak += 1
            if changed:
                self._bulletins.append(
                    Bulletin(now, "error", self.name, f"{self.name} failing: {error}")
                )
            log = changed or mono - self._logged_at >= LOG_EVERY
            repeated = 0
            if log:
                self._logged_at = mono
                repeated, self._unlogged = self._unlogged, 0
            else:
                self._unlogged += 1
        if log:
            if retry_in is not None:
                detail["retry_in"] = retry_in
            if repeated:
                detail["failed_since_last_log"] = repeated
            self._log.warning(self._failed_event, error=error, **detail)

    def succeeded(self) -> None:
        """A round succeeded: clear the error (a no-op while healthy)."""
        if self._last_error is None:  # the common case, without the lock
            return
        now = now_ms()
        with self._lock:
            if self._last_error is None:
                return
            streak, self._streak = self._streak, 0
            self._unlogged = 0
            self._logged_at = -1e9
            self._last_error = self._last_error_ms = None
            self._recovered_ms = now
            self._bulletins.append(
                Bulletin(
                    now,
                    "info",
                    self.name,
                    f"{self.name} recovered after {streak} failed attempt(s)",
                )
            )
        self._log.info(self._recovered_event, failed_attempts=streak)

    def status(self) -> BackgroundTaskStatus:
        with self._lock:
            return BackgroundTaskStatus(
                name=self.name,
                state="failing" if self._last_error is not None else "ok",
                last_error=self._last_error,
                last_error_ms=self._last_error_ms,
                failures=self._failures,
                recovered_ms=self._recovered_ms,
                bulletins=tuple(self._bulletins),
            )
