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
from typing import TYPE_CHECKING, Any, ClassVar

from ._component import ConfigurableComponent
from ._relationship import Relationship

if TYPE_CHECKING:
    from ._context import ProcessContext
    from ._session import ProcessSession

__all__ = ["InputRequirement", "Processor"]


class InputRequirement(enum.Enum):
    """Whether a processor needs, allows or forbids incoming connections."""

    REQUIRED = "required"
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"


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
