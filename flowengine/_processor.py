"""The processor API: what a plugin author subclasses (NiFi's Processor, §3).

A processor declares its properties (:class:`~flowengine.PropertyDescriptor` class
attributes), its relationships (:class:`Relationship` class attributes) and its behaviour
(input requirement, default schedule, attributes read and written). That one declaration
drives validation, the flow JSON Schema, ``flowengine describe`` and ``docs/processors.md``.

``on_trigger`` may be a plain function (run in a worker thread behind the global thread
limiter, like NiFi's timer-driven pool) or ``async def`` (run on the event loop, for I/O).
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ._component import ConfigurableComponent
from ._flow_format import SCHEDULE as _SCHEDULE
from ._flow_format import Integer

if TYPE_CHECKING:
    from ._context import ProcessContext
    from ._session import ProcessSession

__all__ = ["InputRequirement", "Processor", "Relationship", "Schedule"]


@dataclass(frozen=True)
class Relationship:
    """A named outcome a processor routes FlowFiles to.

    Attributes:
        name: lowercase name used in connections (``success``, ``failure``).
        description: when FlowFiles are routed here.
        auto_terminate_default: dropped unless connected (NiFi ``autoTerminateDefault``).
    """

    name: str
    description: str = ""
    auto_terminate_default: bool = False

    def __str__(self) -> str:
        return self.name

    @property
    def is_failure(self) -> bool:
        """A failure-type relationship: FlowFiles auto-terminated here count as failures
        of a run (exit code 3)."""
        n = self.name
        return n.endswith("failure") or n in FAILURE_RELATIONSHIPS


FAILURE_RELATIONSHIPS = frozenset({"failure", "not.found", "permission.denied"})


class InputRequirement(enum.Enum):
    """Whether a processor needs, allows or forbids incoming connections."""

    REQUIRED = "required"
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"


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


class Processor(ConfigurableComponent):
    """Base class of every processor.

    Subclass it, declare ``PropertyDescriptor`` and ``Relationship`` class attributes and
    implement :meth:`on_trigger`. One instance serves all concurrent tasks of a configured
    processor, so keep per-trigger data in locals, not on ``self``.
    """

    #: every declared relationship, in declaration order (filled in automatically)
    relationships: ClassVar[tuple[Relationship, ...]] = ()
    input_requirement: ClassVar[InputRequirement] = InputRequirement.ALLOWED
    #: overrides of :class:`Schedule` defaults for this processor type
    default_schedule: ClassVar[Mapping[str, Any]] = {}
    #: attributes read / written: name -> description (for docs and ``describe``)
    reads_attributes: ClassVar[Mapping[str, str]] = {}
    writes_attributes: ClassVar[Mapping[str, str]] = {}
    #: one trigger at a time whatever ``concurrent_tasks`` says (NiFi @TriggerSerially)
    trigger_serially: ClassVar[bool] = False
    #: triggered even without input (NiFi @TriggerWhenEmpty), e.g. to flush bins
    trigger_when_empty: ClassVar[bool] = False
    #: keeps state through ``context.state`` / ``session.set_state``
    stateful: ClassVar[bool] = False
    #: where a sync ``on_trigger`` runs. ``True``: on the event loop thread (short,
    #: non-blocking, CPU-light triggers). ``False``: always in a worker thread (triggers
    #: that block on I/O or run long, e.g. large files, network calls). ``None`` (the
    #: default): measured — a processor with one concurrent task whose triggers in a
    #: worker keep being short and CPU-bound moves to the loop thread (a Python thread
    #: next to the busy loop thread slows both by ~30% through the GIL), and goes back
    #: to workers for good the first time an inline trigger takes long.
    run_inline: ClassVar[bool | None] = None
    #: a YAML snippet showing typical use (``describe`` prints it)
    example: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        seen: dict[str, Relationship] = {}
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                if isinstance(value, Relationship):
                    seen[value.name] = value
        cls.relationships = tuple(seen.values())

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        """The relationships of a configured instance (declared property values with
        defaults, dynamic properties); override when the configuration creates
        relationships (RouteOnAttribute, QueryRecord)."""
        return cls.relationships

    @classmethod
    def is_async(cls) -> bool:
        return inspect.iscoroutinefunction(cls.on_trigger)

    # -- lifecycle ---------------------------------------------------------------------
    def custom_validate(self, context: ProcessContext) -> list[str]:
        """Cross-property checks, run only when every property is valid on its own."""
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        """Called once before the first trigger (NiFi @OnScheduled)."""

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> Any:
        """Do one unit of work. The framework commits the session afterwards; an
        exception rolls it back (inputs penalized) and is reported as a bulletin."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement on_trigger"
        )

    def on_unscheduled(self, context: ProcessContext) -> None:
        """Called when stopping begins, while triggers may still run (NiFi @OnUnscheduled)."""

    def on_stopped(self, context: ProcessContext) -> None:
        """Called once every trigger has finished (NiFi @OnStopped)."""
