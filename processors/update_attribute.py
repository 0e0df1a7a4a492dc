"""UpdateAttribute: sets and deletes attributes with Expression Language."""

from __future__ import annotations

import re
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
    validators,
)

__all__ = ["UpdateAttribute"]

_NO_STATE = "Do not store state"
_LOCAL_STATE = "Store state locally"


class UpdateAttribute(Processor):
    """Updates the attributes of FlowFiles using Expression Language.

    Each dynamic property names an attribute and gives its new value. All values are
    evaluated against the FlowFile's *incoming* attributes (one property never sees
    another's result), as in NiFi. Delete Attributes Expression removes every attribute
    whose name fully matches the regex; deletion wins over updates.

    With Store State ``Store state locally`` the processor keeps a value per dynamic
    property in its state (durable in a durable run): the expressions see it through
    ``getStateValue('name')`` (Stateful Variables Initial Value until something was
    stored), and every FlowFile's new values are stored for the next one, so
    ``count = ${getStateValue('count'):plus(1)}`` counts FlowFiles. Cache Value Lookup
    Cache Size is accepted so NiFi flows keep working; it sizes a cache of NiFi's
    internals and changes nothing here (expressions are compiled once).
    """

    tags = ("attributes", "modification", "update", "delete", "Expression Language")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
tag:
  type: UpdateAttribute
  properties:
    extension: "${filename:substringAfterLast('.')}"
    stage: raw
"""

    DELETE_ATTRIBUTES = PropertyDescriptor(
        "delete_attributes_expression",
        "Regular expression; attributes whose names match are deleted. "
        "uuid, filename and path are never deleted.",
        display_name="Delete Attributes Expression",
        validators=(validators.REGEX,),
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    STORE_STATE = PropertyDescriptor(
        "store_state",
        "Whether dynamic properties read and write the processor's state "
        "(getStateValue) or not.",
        display_name="Store State",
        required=True,
        default=_NO_STATE,
        allowable_values=(
            AllowableValue(_NO_STATE, description="Attributes only"),
            AllowableValue(
                _LOCAL_STATE,
                description="Each property's last value is kept in state, for "
                "getStateValue and across restarts",
            ),
        ),
    )
    STATEFUL_INITIAL_VALUE = PropertyDescriptor(
        "stateful_variables_initial_value",
        "The value getStateValue returns for a property nothing was stored for yet "
        "(may be empty).",
        display_name="Stateful Variables Initial Value",
        depends_on=("store_state", (_LOCAL_STATE,)),
    )
    CACHE_SIZE = PropertyDescriptor(
        "canonical_value_lookup_cache_size",
        "Accepted for NiFi flows (NiFi's cache of canonical values); no effect here.",
        display_name="Cache Value Lookup Cache Size",
        required=True,
        default="100",
        validators=(validators.POSITIVE_INTEGER,),
    )
    dynamic_properties = DynamicProperties(
        "Sets the attribute named by the property to the evaluated value.",
        name="An attribute to set",
        value="Its new value (Expression Language)",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    SUCCESS = Relationship(
        "success", "All FlowFiles after their attributes are updated"
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if (
            context.property(self.STORE_STATE).value == _LOCAL_STATE
            and context.schedule.concurrent_tasks > 1
        ):
            return [
                "Store State 'Store state locally' needs schedule concurrent_tasks 1: "
                "each FlowFile sees the values the previous one stored"
            ]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._literal: dict[str, str] = {}
        self._exprs: list[tuple[str, Any]] = []
        for name, pv in context.dynamic_properties.items():
            expr = pv.expression
            if expr.is_literal:
                self._literal[name] = expr.literal_value or ""
            else:
                self._exprs.append((name, expr))
        pattern = context.property(self.DELETE_ATTRIBUTES).evaluate().value
        self._delete = re.compile(pattern) if pattern else None
        self._stateful = context.property(self.STORE_STATE).value == _LOCAL_STATE
        self._initial = context.property(self.STATEFUL_INITIAL_VALUE).value or ""

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        if self._stateful:
            self._trigger_with_state(context, session)
            return
        literal, exprs, delete = self._literal, self._exprs, self._delete
        put = session.put_attributes
        done = []
        for ff in session.get(context.batch_size):
            if exprs:
                values = dict(literal)
                for name, expr in exprs:
                    values[name] = expr.evaluate(ff)
            else:
                values = literal
            if values:
                ff = put(ff, values)
            if delete is not None:
                ff = session.remove_attributes(ff, delete)
            done.append(ff)
        session.transfer(done, self.SUCCESS)

    def _trigger_with_state(
        self, context: ProcessContext, session: ProcessSession
    ) -> None:
        """One FlowFile after the other, each seeing the values the previous one
        stored; the state is written with the session's commit (rolled back with it)."""
        state = dict(session.get_state())
        for name in (*self._literal, *(n for n, _ in self._exprs)):
            state.setdefault(name, self._initial)
        done = []
        for ff in session.get(context.batch_size):
            values = dict(self._literal)
            for name, expr in self._exprs:
                values[name] = expr.evaluate(ff, state=state)
            state.update(values)
            if values:
                ff = session.put_attributes(ff, values)
            if self._delete is not None:
                ff = session.remove_attributes(ff, self._delete)
            done.append(ff)
        session.transfer(done, self.SUCCESS)
        session.set_state(state)
