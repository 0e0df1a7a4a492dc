"""Schedule: when and how a processor is triggered (NiFi's scheduling settings).

A leaf of the plugin contract (the context shows it to a trigger, the plan and the
scheduler read it); its defaults and checks come from the flow format's declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._flow_format import SCHEDULE as _SCHEDULE
from .._flow_format import Integer

__all__ = ["Schedule"]


@dataclass(frozen=True)
class Schedule:
    """When and how a processor is triggered (NiFi's scheduling settings).

    Attributes:
        strategy: ``timer`` (every ``period``, 0 = as fast as work arrives), ``cron``
            (6-field Quartz/Spring cron with seconds), or ``event`` (only when input arrives).
        period: seconds between triggers for the timer strategy.
        cron: the cron expression for the cron strategy.
        concurrent_tasks: triggers that may run at the same time.
        batch_size: FlowFiles a processor should take per trigger (``context.batch_size``).
        max_triggers: stop triggering after this many (0 = unlimited); a source that
            reaches it is exhausted (run-until-drained).
        yield_duration: how long ``context.yield_()`` pauses the processor.
        penalty_duration: how long ``session.penalize()`` holds a FlowFile back.
        poison_attempts: failed isolated triggers after which a FlowFile that keeps
            failing alone (on a processor without ``failure``) is reported as poison in
            the status and the run summary (see the isolation rule, docs/architecture.md).
    """

    # Defaults and checks come from the flow format's declaration of ``schedule``.
    strategy: str = _SCHEDULE["strategy"].default
    period: float = _SCHEDULE["period"].default
    cron: str | None = _SCHEDULE["cron"].default
    concurrent_tasks: int = _SCHEDULE["concurrent_tasks"].default
    batch_size: int = _SCHEDULE["batch_size"].default
    max_triggers: int = _SCHEDULE["max_triggers"].default
    yield_duration: float = _SCHEDULE["yield_duration"].default
    penalty_duration: float = _SCHEDULE["penalty_duration"].default
    poison_attempts: int = _SCHEDULE["poison_attempts"].default

    def __post_init__(self) -> None:
        strategies = _SCHEDULE.values("strategy")
        if self.strategy not in strategies:
            raise ValueError(
                f"unknown scheduling strategy {self.strategy!r} ({', '.join(strategies)})"
            )
        if self.strategy == "cron" and not self.cron:
            raise ValueError("the cron strategy needs a cron expression")
        for f in _SCHEDULE:
            if isinstance(f.kind, Integer):
                problem = f.kind.range_problem(f.name, getattr(self, f.name))
                if problem:
                    raise ValueError(problem)
