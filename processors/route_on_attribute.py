"""RouteOnAttribute: routes FlowFiles by boolean Expression Language conditions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flowengine import (
    AllowableValue,
    DynamicProperties,
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

__all__ = ["RouteOnAttribute"]

BY_NAME = "Route to Property name"
ALL_MATCH = "Route to 'match' if all match"
ANY_MATCH = "Route to 'match' if any matches"
ROUTE_ATTRIBUTE = "RouteOnAttribute.Route"


class RouteOnAttribute(Processor):
    """Routes FlowFiles by evaluating boolean Expression Language against attributes.

    Each dynamic property is a condition. With *Route to Property name* a FlowFile goes to
    the relationship of every condition it matches (cloned when several match) or to
    ``unmatched``; the other strategies route to ``matched`` when all / any condition
    holds. Writes ``RouteOnAttribute.Route``.
    """

    tags = ("attributes", "routing", "Expression Language", "regexp", "filter")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
route:
  type: RouteOnAttribute
  properties:
    csv: "${filename:endsWith('.csv')}"
    json: "${filename:endsWith('.json')}"
  auto_terminate: [unmatched]
"""

    ROUTING_STRATEGY = PropertyDescriptor(
        "routing_strategy",
        "How conditions decide the relationship.",
        display_name="Routing Strategy",
        default=BY_NAME,
        required=True,
        allowable_values=(
            AllowableValue(BY_NAME, BY_NAME, "One relationship per condition"),
            AllowableValue(
                ALL_MATCH,
                "Route to 'matched' if all match",
                "matched when every condition holds",
            ),
            AllowableValue(
                ANY_MATCH,
                "Route to 'matched' if any matches",
                "matched when any condition holds",
            ),
        ),
    )
    dynamic_properties = DynamicProperties(
        "A condition; with Route to Property name, also a relationship of the same name.",
        name="A relationship name",
        value="A boolean Expression Language condition",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    writes_attributes = {
        "RouteOnAttribute.Route": "the relationship the FlowFile went to"
    }

    UNMATCHED = Relationship("unmatched", "FlowFiles that match no condition")
    MATCHED = Relationship("matched", "FlowFiles that match (all/any strategies)")

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        if properties.get("routing_strategy", BY_NAME) == BY_NAME:
            return [
                cls.UNMATCHED,
                *(Relationship(n, f"FlowFiles matching {n}") for n in dynamic),
            ]
        return [cls.MATCHED, cls.UNMATCHED]

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if not context.dynamic_properties:
            return ["at least one condition (dynamic property) is required"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._strategy = context.property(self.ROUTING_STRATEGY).value
        self._conds: list[tuple[str, Any]] = [
            (name, pv.expression) for name, pv in context.dynamic_properties.items()
        ]

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        conds = self._conds
        put = session.put_attribute
        report = session.provenance.enabled
        routed: dict[str, list[Any]] = {}
        for ff in session.get(context.batch_size):
            if self._strategy == BY_NAME:
                matched = [
                    name for name, expr in conds if expr.evaluate_boolean(ff)
                ] or ["unmatched"]
                for extra in matched[1:]:
                    routed.setdefault(extra, []).append(
                        put(session.clone(ff), ROUTE_ATTRIBUTE, extra)
                    )
                rel = matched[0]
            else:
                results = (expr.evaluate_boolean(ff) for _, expr in conds)
                ok = all(results) if self._strategy == ALL_MATCH else any(results)
                rel = "matched" if ok else "unmatched"
            routed.setdefault(rel, []).append(put(ff, ROUTE_ATTRIBUTE, rel))
        for rel, flowfiles in routed.items():
            if report:
                for ff in flowfiles:
                    session.provenance.route(ff, rel)
            session.transfer(flowfiles, rel)
