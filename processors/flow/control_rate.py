"""ControlRate: throttles FlowFiles by data rate, count or an attribute's value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flowengine import (
    AllowableValue,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)
from flowengine import validators as v

__all__ = ["ControlRate"]

DATA_RATE = "data rate"
FLOWFILE_COUNT = "flowfile count"
ATTRIBUTE_VALUE = "attribute value"
DATA_OR_COUNT = "data rate or flowfile count"
HOLD = "Hold FlowFile"
ROUTE = "Route to 'rate exceeded'"
ERROR_ATTRIBUTE = "ControlRate.error"
_MAX_RATE_CRITERIA = (DATA_RATE, FLOWFILE_COUNT, ATTRIBUTE_VALUE)


@dataclass
class _Window:
    """One throttle: what has passed since ``start`` (a fixed Time Duration window)."""

    start: float
    data: int = 0
    count: int = 0


class ControlRate(Processor):
    """Lets at most *Maximum Rate* through per *Time Duration*, per *Grouping Attribute*.

    The measure is the content size (``data rate``), one per FlowFile (``flowfile
    count``), the integer value of *Rate Controlled Attribute* (``attribute value``), or
    both data and count (``data rate or flowfile count``: whichever limit is reached
    first). Each group value has its own throttle; a window's allowance starts afresh
    when *Time Duration* has elapsed since it opened. A FlowFile that would exceed the
    limit is held in the incoming queue (NiFi's default) or, with *Rate Exceeded
    Strategy* ``Route to 'rate exceeded'``, sent there. The first FlowFile of an empty
    window always passes, so one FlowFile larger than the limit cannot block the queue.
    An ``attribute value`` FlowFile whose attribute is missing or not an integer goes to
    ``failure``.
    """

    tags = ("rate control", "throttle", "rate", "throughput")
    input_requirement = InputRequirement.REQUIRED
    trigger_serially = True
    example = """\
throttle:
  type: ControlRate
  properties:
    rate_control_criteria: flowfile count
    maximum_rate: "100"
    time_duration: 1 min
"""

    RATE_CONTROL_CRITERIA = PropertyDescriptor(
        "rate_control_criteria",
        "What is measured against the maximum.",
        display_name="Rate Control Criteria",
        default=DATA_RATE,
        required=True,
        allowable_values=(
            AllowableValue(DATA_RATE, None, "bytes of content"),
            AllowableValue(FLOWFILE_COUNT, None, "number of FlowFiles"),
            AllowableValue(ATTRIBUTE_VALUE, None, "sum of an attribute's values"),
            AllowableValue(DATA_OR_COUNT, None, "bytes and FlowFiles, either limit"),
        ),
    )
    MAXIMUM_RATE = PropertyDescriptor(
        "maximum_rate",
        "The limit per Time Duration: a data size for 'data rate', an integer "
        "otherwise.",
        display_name="Maximum Rate",
        depends_on=("rate_control_criteria", _MAX_RATE_CRITERIA),
        required=True,
    )
    MAXIMUM_DATA_RATE = PropertyDescriptor(
        "maximum_data_rate",
        "The data-size limit per Time Duration ('data rate or flowfile count').",
        display_name="Maximum Data Rate",
        depends_on=("rate_control_criteria", (DATA_OR_COUNT,)),
        required=True,
        validators=(v.DATA_SIZE,),
    )
    MAXIMUM_FLOWFILE_RATE = PropertyDescriptor(
        "maximum_flowfile_rate",
        "The FlowFile-count limit per Time Duration ('data rate or flowfile count').",
        display_name="Maximum FlowFile Rate",
        depends_on=("rate_control_criteria", (DATA_OR_COUNT,)),
        required=True,
        validators=(v.integer_range(0),),
    )
    RATE_CONTROLLED_ATTRIBUTE = PropertyDescriptor(
        "rate_controlled_attribute",
        "The attribute whose integer value is accumulated ('attribute value').",
        display_name="Rate Controlled Attribute",
        depends_on=("rate_control_criteria", (ATTRIBUTE_VALUE,)),
        required=True,
    )
    TIME_DURATION = PropertyDescriptor(
        "time_duration",
        "The window over which the maximum applies.",
        display_name="Time Duration",
        default="1 min",
        required=True,
        validators=(v.TIME_PERIOD,),
    )
    GROUPING_ATTRIBUTE = PropertyDescriptor(
        "grouping_attribute",
        "FlowFiles are throttled separately for each value of this attribute.",
        display_name="Grouping Attribute",
    )
    RATE_EXCEEDED_STRATEGY = PropertyDescriptor(
        "rate_exceeded_strategy",
        "What happens to a FlowFile that would exceed the rate.",
        display_name="Rate Exceeded Strategy",
        default=HOLD,
        required=True,
        allowable_values=(
            AllowableValue(HOLD, None, "leave it in the incoming queue"),
            AllowableValue(ROUTE, None, "send it to 'rate exceeded'"),
        ),
    )
    writes_attributes = {ERROR_ATTRIBUTE: "why the FlowFile went to failure"}

    SUCCESS = Relationship("success", "FlowFiles within the rate")
    FAILURE = Relationship(
        "failure",
        "FlowFiles whose Rate Controlled Attribute is missing or not a number",
    )
    RATE_EXCEEDED = Relationship(
        "rate exceeded", "FlowFiles over the rate (Route to 'rate exceeded')"
    )

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        rels = [cls.SUCCESS, cls.FAILURE]
        strategy = cls.RATE_EXCEEDED_STRATEGY.normalize(
            properties.get("rate_exceeded_strategy") or HOLD
        )
        if strategy == ROUTE:
            rels.append(cls.RATE_EXCEEDED)
        return rels

    def custom_validate(self, context: ProcessContext) -> list[str]:
        criteria = context.property(self.RATE_CONTROL_CRITERIA).value
        raw = context.property(self.MAXIMUM_RATE).value
        if criteria not in _MAX_RATE_CRITERIA or raw is None:
            return []
        check = v.DATA_SIZE if criteria == DATA_RATE else v.integer_range(0)
        problem = check.check(raw)
        return [f"Maximum Rate: {problem}"] if problem else []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._criteria = context.property(self.RATE_CONTROL_CRITERIA).value
        self._period = context.property(self.TIME_DURATION).as_duration() or 60.0
        self._group_by = context.property(self.GROUPING_ATTRIBUTE).value
        self._attr = context.property(self.RATE_CONTROLLED_ATTRIBUTE).value
        self._route = context.property(self.RATE_EXCEEDED_STRATEGY).value == ROUTE
        self._max_data: int | None = None
        self._max_count: int | None = None
        self._max_attr: int | None = None
        if self._criteria == DATA_RATE:
            self._max_data = context.property(self.MAXIMUM_RATE).as_data_size()
        elif self._criteria == FLOWFILE_COUNT:
            self._max_count = context.property(self.MAXIMUM_RATE).as_int()
        elif self._criteria == ATTRIBUTE_VALUE:
            self._max_attr = context.property(self.MAXIMUM_RATE).as_int()
        else:
            self._max_data = context.property(self.MAXIMUM_DATA_RATE).as_data_size()
            self._max_count = context.property(self.MAXIMUM_FLOWFILE_RATE).as_int()
        self._windows: dict[str, _Window] = {}

    def _window(self, group: str, now: float) -> _Window:
        w = self._windows.get(group)
        if w is None or now - w.start >= self._period:
            w = self._windows[group] = _Window(now)
        return w

    def _admit(self, w: _Window, size: int, amount: int) -> bool:
        """Account ``size`` bytes / ``amount`` units if within the limits."""
        empty = w.data == 0 and w.count == 0
        over = (
            (self._max_data is not None and w.data + size > self._max_data)
            or (self._max_count is not None and w.count + 1 > self._max_count)
            or (self._max_attr is not None and w.count + amount > self._max_attr)
        )
        if over and not empty:
            return False
        w.data += size
        w.count += amount if self._max_attr is not None else 1
        return True

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        now = context.monotonic()
        passed: list[Any] = []
        exceeded: list[Any] = []
        held: list[Any] = []
        reopen: list[float] = []
        failed: list[Any] = []
        for ff in session.get(context.batch_size):
            amount = 1
            if self._criteria == ATTRIBUTE_VALUE:
                raw = ff.get(self._attr or "")
                try:
                    amount = int((raw or "").strip())
                except ValueError:
                    reason = f"attribute {self._attr!r} is not an integer: {raw!r}"
                    failed.append(session.put_attribute(ff, ERROR_ATTRIBUTE, reason))
                    continue
            group = ff.get(self._group_by or "", "") if self._group_by else ""
            window = self._window(group or "", now)
            if self._admit(window, ff.size, amount):
                passed.append(ff)
            elif self._route:
                exceeded.append(ff)
            else:
                held.append(ff)
                reopen.append(window.start + self._period)
        for flowfiles, rel in (
            (passed, self.SUCCESS),
            (exceeded, self.RATE_EXCEEDED),
            (failed, self.FAILURE),
        ):
            if flowfiles:
                session.transfer(flowfiles, rel)
        if held:
            session.transfer(held)  # back to the incoming queue, unpenalized
            # what is held cannot pass before its window reopens: don't spin on it
            context.yield_(max(0.0, min(reopen) - now))
