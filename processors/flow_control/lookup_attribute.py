"""LookupAttribute: sets attributes from a lookup service, one key expression each."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
from flowengine.controller_services.cache import CacheUnavailableError
from flowengine.controller_services.records import LookupService

from flowengine import (
    DynamicProperties,
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

__all__ = ["LookupAttribute"]


def _text(value: Any) -> str:
    """An attribute value for a lookup result (a record result as JSON)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, separators=(",", ":"))


class LookupAttribute(Processor):
    """Each dynamic property names an attribute and gives (as Expression Language) the
    key to look up; the value found is put in that attribute.

    A FlowFile with at least one key found goes to ``matched``, otherwise to
    ``unmatched``; with Include Empty Values false an empty value counts as not found.
    The keys of the whole batch are looked up at once (one columnar lookup per dynamic
    property). A failing lookup routes the batch to ``failure`` with ``error.message``;
    an unavailable cache behind the service rolls back and yields instead.
    """

    tags = (
        "lookup",
        "cache",
        "enrich",
        "join",
        "attributes",
        "Attribute Expression Language",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
country:
  type: LookupAttribute
  properties:
    lookup_service: countries
    country.name: "${country.code}"
  auto_terminate: [unmatched]
"""

    LOOKUP_SERVICE = PropertyDescriptor(
        "lookup_service",
        "The lookup service.",
        display_name="Lookup Service",
        required=True,
        service=LookupService,
    )
    INCLUDE_EMPTY_VALUES = PropertyDescriptor(
        "include_empty_values",
        "Put empty (and missing: no) values in the attribute; false: an empty value is "
        "not a match and the attribute is left alone.",
        display_name="Include Empty Values",
        default="true",
        required=True,
        allowable_values=("true", "false"),
    )
    dynamic_properties = DynamicProperties(
        "An attribute to set and the key (Expression Language) to look up for it.",
        name="The name of the attribute to add to the FlowFile",
        value="The key to look up",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )

    MATCHED = Relationship("matched", "At least one key was found")
    UNMATCHED = Relationship("unmatched", "No key was found")
    FAILURE = Relationship("failure", "The lookup failed")

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if not context.dynamic_properties:
            return [
                "at least one attribute to look up (a dynamic property) is required"
            ]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._service = context.property(self.LOOKUP_SERVICE).as_service(LookupService)
        self._empty = context.property(self.INCLUDE_EMPTY_VALUES).as_bool() is not False
        self._keys = list(context.dynamic_properties.items())

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(context.batch_size)
        if not flowfiles:
            return
        found: list[dict[str, str]] = [{} for _ in flowfiles]
        # keys first, outside the try: an expression that fails on one FlowFile's
        # attributes is the engine's to isolate, not a lookup failure of the batch
        keyed = [
            (attr, [pv.evaluate(ff).value for ff in flowfiles])
            for attr, pv in self._keys
        ]
        try:
            for attr, keys in keyed:
                values = self._service.lookup({"key": pa.array(keys, pa.string())})
                for i, value in enumerate(values.to_pylist()):
                    if value is None:
                        continue
                    text = _text(value)
                    if text or self._empty:
                        found[i][attr] = text
        except CacheUnavailableError as exc:
            session.rollback()
            context.bulletin("error", f"the cache is unavailable, will retry: {exc}")
            context.yield_()
            return
        except (
            Exception
        ) as exc:  # the service's own error: the batch cannot be looked up
            context.logger.error("lookup_failed", error=str(exc))
            failed = [
                session.put_attribute(ff, "error.message", f"lookup failed: {exc}")
                for ff in flowfiles
            ]
            session.transfer(failed, self.FAILURE)
            return
        matched: list[FlowFile] = []
        unmatched: list[FlowFile] = []
        for ff, attrs in zip(flowfiles, found, strict=True):
            if attrs:
                matched.append(session.put_attributes(ff, attrs))
            else:
                unmatched.append(ff)
        session.transfer(matched, self.MATCHED)
        session.transfer(unmatched, self.UNMATCHED)
