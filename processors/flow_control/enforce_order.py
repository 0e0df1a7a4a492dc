"""EnforceOrder: lets FlowFiles of a group through in the order of an integer attribute."""

from __future__ import annotations

import time

from flowengine import (
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)
from flowengine import validators as v

__all__ = ["EnforceOrder"]

FLOWFILE = ExpressionLanguageScope.FLOWFILE_ATTRIBUTES
STARTED_AT = "EnforceOrder.startedAt"
RESULT = "EnforceOrder.result"
DETAIL = "EnforceOrder.detail"
EXPECTED = "EnforceOrder.expectedOrder"


class EnforceOrder(Processor):
    """Routes FlowFiles of each group (Group Identifier) to ``success`` in the order of
    their Order Attribute, starting at Initial Order: the expected one goes to success,
    later ones to ``wait`` (loop it back here), earlier ones to ``skipped``.

    A FlowFile that waited longer than Wait Timeout goes to ``overtook`` and the group
    moves on past it; an order above Maximum Order, or not an integer, goes to
    ``failure``. The next expected order of each group is processor state, committed with
    the FlowFiles, so it survives a restart; a group untouched for Inactive Timeout is
    forgotten.
    """

    tags = ("sort", "order")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
order:
  type: EnforceOrder
  properties:
    group_identifier: "${batch.id}"
    order_attribute: seq
    initial_order: "1"
connections:
  - order:wait -> order
"""

    GROUP_IDENTIFIER = PropertyDescriptor(
        "group_identifier",
        "Which group a FlowFile belongs to (ordered separately).",
        display_name="Group Identifier",
        default="${filename}",
        required=True,
        expression_language=FLOWFILE,
    )
    ORDER_ATTRIBUTE = PropertyDescriptor(
        "order_attribute",
        "The attribute holding the FlowFile's integer order.",
        display_name="Order Attribute",
        required=True,
    )
    INITIAL_ORDER = PropertyDescriptor(
        "initial_order",
        "The first order expected in a new group.",
        display_name="Initial Order",
        default="0",
        required=True,
        expression_language=FLOWFILE,
    )
    MAXIMUM_ORDER = PropertyDescriptor(
        "maximum_order",
        "Orders above it go to failure; unset: no maximum.",
        display_name="Maximum Order",
        expression_language=FLOWFILE,
    )
    BATCH_COUNT = PropertyDescriptor(
        "batch_count",
        "How many FlowFiles one trigger orders.",
        display_name="Batch Count",
        default="1000",
        required=True,
        validators=(v.POSITIVE_INTEGER,),
    )
    WAIT_TIMEOUT = PropertyDescriptor(
        "wait_timeout",
        "How long a FlowFile waits for its predecessors before overtaking them.",
        display_name="Wait Timeout",
        default="10 min",
        required=True,
        validators=(v.TIME_PERIOD,),
    )
    INACTIVE_TIMEOUT = PropertyDescriptor(
        "inactive_timeout",
        "A group with no FlowFile for this long is forgotten (its state removed).",
        display_name="Inactive Timeout",
        default="30 min",
        required=True,
        validators=(v.TIME_PERIOD,),
    )
    writes_attributes = {
        STARTED_AT: "when the FlowFile first reached this processor (ms since the epoch)",
        RESULT: "the relationship it went to",
        DETAIL: "why (failure, skipped, overtook)",
        EXPECTED: "the order the group expected (wait, skipped, overtook)",
    }

    SUCCESS = Relationship("success", "In order")
    WAIT = Relationship("wait", "Waiting for its predecessors (route back here)")
    OVERTOOK = Relationship(
        "overtook", "Waited past Wait Timeout and overtook its predecessors"
    )
    SKIPPED = Relationship("skipped", "Its order had already passed")
    FAILURE = Relationship("failure", "No group, a bad order, or above Maximum Order")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._order_attr = context.property(self.ORDER_ATTRIBUTE).value or ""
        self._batch = context.property(self.BATCH_COUNT).as_int() or 1000
        self._wait_ms = int(
            (context.property(self.WAIT_TIMEOUT).as_duration() or 600) * 1000
        )
        self._inactive_ms = int(
            (context.property(self.INACTIVE_TIMEOUT).as_duration() or 1800) * 1000
        )

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(self._batch)
        if not flowfiles:
            return
        now = int(time.time() * 1000)
        state = session.get_state()
        out: dict[str, list[FlowFile]] = {}

        def route(ff: FlowFile, rel: str, **extra: str) -> None:
            attrs = {RESULT: rel, **extra}
            out.setdefault(rel, []).append(session.put_attributes(ff, attrs))

        groups: dict[str, list[tuple[int, FlowFile]]] = {}
        for ff in flowfiles:
            if ff.get(STARTED_AT) is None:
                ff = session.put_attribute(ff, STARTED_AT, str(now))
            group = context.property(self.GROUP_IDENTIFIER).evaluate(ff).value or ""
            if not group:
                route(ff, "failure", **{DETAIL: "Group Identifier evaluated to blank"})
                continue
            raw = ff.get(self._order_attr)
            try:
                order = int(raw or "")
            except ValueError:
                route(ff, "failure", **{DETAIL: f"Order Attribute {self._order_attr!r} is not an integer: {raw!r}"})  # fmt: skip
                continue
            maximum_text = context.property(self.MAXIMUM_ORDER).evaluate(ff).value
            if maximum_text and order > int(maximum_text):
                route(ff, "failure", **{DETAIL: f"order {order} is above Maximum Order {maximum_text}"})  # fmt: skip
                continue
            if f"{group}.target" not in state:
                initial = context.property(self.INITIAL_ORDER).evaluate(ff).value
                state[f"{group}.target"] = str(int(initial or "0"))
            groups.setdefault(group, []).append((order, ff))
        for group, members in groups.items():
            target = int(state[f"{group}.target"])
            members.sort(key=lambda m: m[0])
            waiting: list[tuple[int, FlowFile]] = []
            for order, ff in members:
                if order < target:
                    route(ff, "skipped", **{EXPECTED: str(target), DETAIL: f"order {order} has passed"})  # fmt: skip
                elif order == target:
                    route(ff, "success")
                    target += 1
                else:
                    waiting.append((order, ff))
            # the oldest waiter past Wait Timeout overtakes; then its successors may follow
            while waiting:
                order, ff = waiting[0]
                if order == target:
                    route(ff, "success")
                    target += 1
                elif now - int(ff.get(STARTED_AT) or now) > self._wait_ms:
                    route(ff, "overtook", **{EXPECTED: str(target), DETAIL: f"waited longer than Wait Timeout for order {target}"})  # fmt: skip
                    target = order + 1
                else:
                    break
                waiting.pop(0)
            for _, ff in waiting:
                route(ff, "wait", **{EXPECTED: str(target)})
            state[f"{group}.target"] = str(target)
            state[f"{group}.updatedAt"] = str(now)
        for key in [k for k in state if k.endswith(".updatedAt")]:
            if now - int(state[key]) > self._inactive_ms:
                group = key[: -len(".updatedAt")]
                state.pop(key)
                state.pop(f"{group}.target", None)
        session.set_state(state)
        for rel, ffs in out.items():
            session.transfer(ffs, rel)
