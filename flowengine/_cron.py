"""Cron schedules with seconds, as NiFi writes them (``0 0/5 * * * ?``).

NiFi's CRON-driven strategy takes six fields (``sec min hour day-of-month month
day-of-week``) with ``?`` for "no specific value". Parsing and iteration are croniter's
(a maintained library that handles this form); this module only adapts it.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["CronSchedule"]


class CronSchedule:
    """A parsed cron expression; ``next_after(t)`` gives the next fire time (epoch s)."""

    def __init__(self, expression: str) -> None:
        from croniter import croniter

        fields = expression.split()
        if len(fields) != 6:
            raise ValueError(
                f"cron expression {expression!r} must have 6 fields "
                "(sec min hour day-of-month month day-of-week), e.g. '0 0/5 * * * ?'"
            )
        try:
            croniter(expression, datetime.now(UTC), second_at_beginning=True)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None
        self.expression = expression

    def next_after(self, epoch_s: float) -> float:
        from croniter import croniter

        start = datetime.fromtimestamp(epoch_s, UTC)
        it = croniter(self.expression, start, second_at_beginning=True)
        nxt: datetime = it.get_next(datetime)
        return nxt.timestamp()
