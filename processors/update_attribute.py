"""UpdateAttribute: sets and deletes attributes with Expression Language."""

from __future__ import annotations

import re
from typing import Any

from flowengine import (
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


class UpdateAttribute(Processor):
    """Updates the attributes of FlowFiles using Expression Language.

    Each dynamic property names an attribute and gives its new value. All values are
    evaluated against the FlowFile's *incoming* attributes (one property never sees
    another's result), as in NiFi. Delete Attributes Expression removes every attribute
    whose name fully matches the regex; deletion wins over updates.
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
    dynamic_properties = DynamicProperties(
        "Sets the attribute named by the property to the evaluated value.",
        name="An attribute to set",
        value="Its new value (Expression Language)",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    SUCCESS = Relationship(
        "success", "All FlowFiles after their attributes are updated"
    )

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

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
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
