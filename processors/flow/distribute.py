"""DistributeLoad: spreads FlowFiles over numbered relationships 1..N (NiFi)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flowengine import (
    AllowableValue,
    DynamicProperties,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)
from flowengine import validators as v

__all__ = ["DistributeLoad"]

ROUND_ROBIN = "round robin"
NEXT_AVAILABLE = "next available"
OVERFLOW = "overflow"
ROUTE_ATTRIBUTE = "distribute.load.relationship"


def _count(properties: Mapping[str, str | None]) -> int:
    try:
        return max(1, int((properties.get("number_of_relationships") or "1").strip()))
    except ValueError:
        return 1


class DistributeLoad(Processor):
    """Routes FlowFiles to relationships ``1``..``N`` by *Distribution Strategy*.

    A dynamic property ``5 = 10`` gives relationship ``5`` weight 10: it receives 10
    FlowFiles per round instead of 1. ``round robin`` cycles through the weighted
    sequence, keeping its position across triggers. Writes
    ``distribute.load.relationship``.

    Limitation: the public processor API does not expose per-relationship back
    pressure, and the engine does not trigger a processor while any outgoing connection
    is full. So ``next available`` behaves like ``round robin`` (every relationship is
    available whenever the processor runs), and ``overflow`` routes to the first
    relationship, which in NiFi only overflows to ``2`` when ``1`` is back-pressured.
    NiFi 2.x dropped ``load distribution service``, so it is not offered.
    """

    tags = ("distribute", "load balance", "route", "round robin", "weighted")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
spread:
  type: DistributeLoad
  properties:
    number_of_relationships: "3"
    "1": "2"
"""

    NUMBER_OF_RELATIONSHIPS = PropertyDescriptor(
        "number_of_relationships",
        "How many relationships (named 1..N) the load is distributed to.",
        display_name="Number of Relationships",
        default="1",
        required=True,
        validators=(v.integer_range(1),),
    )
    DISTRIBUTION_STRATEGY = PropertyDescriptor(
        "distribution_strategy",
        "How the load is distributed; relationship '1' has the greatest precedence.",
        display_name="Distribution Strategy",
        default=ROUND_ROBIN,
        required=True,
        allowable_values=(
            AllowableValue(
                ROUND_ROBIN, None, "evenly (by weight); all relationships available"
            ),
            AllowableValue(
                NEXT_AVAILABLE, None, "across available relationships by weight"
            ),
            AllowableValue(OVERFLOW, None, "the first available relationship"),
        ),
    )
    dynamic_properties = DynamicProperties(
        "Weight of a relationship in round robin.",
        name="The relationship name (positive number)",
        value="The relationship Weight (positive number)",
    )
    writes_attributes = {ROUTE_ATTRIBUTE: "the relationship the FlowFile was sent to"}

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        return [
            Relationship(str(i), "Where to route FlowFiles for this relationship index")
            for i in range(1, _count(properties) + 1)
        ]

    def custom_validate(self, context: ProcessContext) -> list[str]:
        n = context.property(self.NUMBER_OF_RELATIONSHIPS).as_int() or 1
        errors = []
        for name, pv in context.dynamic_properties.items():
            if not name.isdigit() or not 1 <= int(name) <= n:
                errors.append(
                    f"dynamic property {name!r} must name a relationship 1..{n}"
                )
            elif not (pv.value or "").strip().isdigit() or int(pv.value or "0") < 1:
                errors.append(f"weight of {name!r} must be a positive integer")
        return errors

    def on_scheduled(self, context: ProcessContext) -> None:
        n = context.property(self.NUMBER_OF_RELATIONSHIPS).as_int() or 1
        weights = {
            int(k): int(pv.value or "1") for k, pv in context.dynamic_properties.items()
        }
        self._strategy = context.property(self.DISTRIBUTION_STRATEGY).value
        self._sequence = [
            str(i) for i in range(1, n + 1) for _ in range(weights.get(i, 1))
        ]
        self._position = 0

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        routed: dict[str, list[Any]] = {}
        seq = self._sequence
        for ff in session.get(context.batch_size):
            if self._strategy == OVERFLOW:
                rel = "1"
            else:
                rel = seq[self._position]
                self._position = (self._position + 1) % len(seq)
            routed.setdefault(rel, []).append(
                session.put_attribute(ff, ROUTE_ATTRIBUTE, rel)
            )
        for rel, flowfiles in routed.items():
            session.transfer(flowfiles, rel)
