"""EvaluateJsonPath: Jayway JsonPath expressions against the content, into
attributes or the content."""

from __future__ import annotations

from typing import Any

from flowengine import (
    AllowableValue,
    DynamicProperties,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)
from flowengine.expression.jayway import JaywayPath, PathNotFound, compile_path

from ._common import (
    ERROR_ATTRIBUTE,
    NULL_LITERAL,
    NULL_VALUE_REPRESENTATION,
    BadJson,
    is_scalar,
    jsonpath_check,
    longest_string,
    parse,
    representation,
)

__all__ = ["EvaluateJsonPath"]

CONTENT = "flowfile-content"
ATTRIBUTE = "flowfile-attribute"
AUTO, JSON, SCALAR = "auto-detect", "json", "scalar"
IGNORE, WARN, SKIP = "ignore", "warn", "skip"


class EvaluateJsonPath(Processor):
    """Evaluates one JsonPath per dynamic property (Jayway dialect, as NiFi).

    Destination flowfile-attribute: every result goes to the attribute named after
    its property and the FlowFile to ``matched``; a path not found gives "" (ignore,
    warn -- warn also logs) or no attribute (skip). Destination flowfile-content:
    exactly one property; its result replaces the content (``matched``), a path not
    found routes to ``unmatched``. Return Type scalar (auto-detect's choice for
    attributes) sends a container result to ``failure``; so does content that is
    not JSON (with the parser's position in ``json.error``), nesting too deep to
    parse, or a string longer than Max String Length.
    """

    tags = ("JSON", "evaluate", "JsonPath")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
extract:
  type: EvaluateJsonPath
  properties:
    Destination: flowfile-attribute
    customer.id: $.customer.id
"""

    DESTINATION = PropertyDescriptor(
        "destination",
        "Indicates whether the results of the JsonPath evaluation are written to the "
        "FlowFile content or a FlowFile attribute; with flowfile-content exactly one "
        "JsonPath may be given.",
        display_name="Destination",
        default=CONTENT,
        required=True,
        allowable_values=(AllowableValue(CONTENT), AllowableValue(ATTRIBUTE)),
    )
    RETURN_TYPE = PropertyDescriptor(
        "return_type",
        "Indicates the desired return type of the JSON Path expressions. Selecting "
        "'auto-detect' sets 'json' for flowfile-content and 'scalar' for "
        "flowfile-attribute.",
        display_name="Return Type",
        default=AUTO,
        required=True,
        allowable_values=(
            AllowableValue(AUTO),
            AllowableValue(JSON),
            AllowableValue(SCALAR),
        ),
    )
    PATH_NOT_FOUND = PropertyDescriptor(
        "path_not_found_behavior",
        "Indicates how to handle missing JSON path expressions when destination is "
        "flowfile-attribute. 'warn' logs a warning, 'skip' omits the attribute.",
        display_name="Path Not Found Behavior",
        default=IGNORE,
        required=True,
        allowable_values=(
            AllowableValue(WARN),
            AllowableValue(IGNORE),
            AllowableValue(SKIP),
        ),
    )
    NULL_VALUE_REPRESENTATION = NULL_VALUE_REPRESENTATION
    MAX_STRING_LENGTH = PropertyDescriptor(
        "max_string_length",
        "The maximum allowed length of a string value when parsing the JSON document.",
        display_name="Max String Length",
        default="20 MB",
        required=True,
        validators=(validators.DATA_SIZE,),
    )
    dynamic_properties = DynamicProperties(
        "Evaluates the JsonPath; the result goes to the attribute (or content) named "
        "after the property.",
        name="A FlowFile attribute (if Destination is flowfile-attribute)",
        value="A JsonPath expression",
        value_validators=(jsonpath_check,),
    )

    MATCHED = Relationship(
        "matched",
        "FlowFiles are routed to this relationship when the JsonPath is "
        "successfully evaluated and the FlowFile is modified as a result",
    )
    UNMATCHED = Relationship(
        "unmatched",
        "FlowFiles are routed to this relationship when the JsonPath "
        "does not match the content of the FlowFile and the Destination is set to "
        "flowfile-content",
    )
    FAILURE = Relationship(
        "failure",
        "FlowFiles are routed to this relationship when the JsonPath "
        "cannot be evaluated against the content of the FlowFile; for instance, if "
        "the FlowFile is not valid JSON",
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        count = len(context.dynamic_properties)
        if context.property(self.DESTINATION).value == CONTENT and count != 1:
            return [
                "Destination flowfile-content takes exactly one JsonPath (dynamic "
                f"property), {count} given; hint: use flowfile-attribute for several"
            ]
        if count == 0:
            return ["at least one JsonPath (dynamic property) is required"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._paths: list[tuple[str, JaywayPath]] = [
            (name, compile_path(pv.value or ""))
            for name, pv in context.dynamic_properties.items()
        ]
        self._to_attr = context.property(self.DESTINATION).value == ATTRIBUTE
        rt = context.property(self.RETURN_TYPE).value or AUTO
        self._scalar = rt == SCALAR or (rt == AUTO and self._to_attr)
        self._not_found = context.property(self.PATH_NOT_FOUND).value or IGNORE
        null = context.property(self.NULL_VALUE_REPRESENTATION).value
        self._null = "null" if null == NULL_LITERAL else ""
        self._max_str = context.property(self.MAX_STRING_LENGTH).as_data_size() or 0

    def _evaluate(
        self, context: ProcessContext, ff: FlowFile, doc: Any
    ) -> tuple[Relationship, dict[str, str]]:
        results: dict[str, str] = {}
        for name, path in self._paths:
            try:
                value = path.read(doc)
            except PathNotFound:
                if self._not_found == WARN:
                    context.logger.warning(
                        "json_path_not_found",
                        flowfile=ff.uuid,
                        path=path.text,
                        attribute=name,
                    )
                if not self._to_attr:
                    return self.UNMATCHED, {}
                if self._not_found != SKIP:
                    results[name] = ""
                continue
            if self._scalar and not is_scalar(value):
                context.logger.debug(
                    "json_path_not_scalar", flowfile=ff.uuid, path=path.text
                )
                return self.FAILURE, {
                    ERROR_ATTRIBUTE: f"JsonPath {path.text} returned a JSON "
                    "object or array while Return Type is scalar"
                }
            results[name] = representation(value, self._null)
        return self.MATCHED, results

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        out: dict[str, list[FlowFile]] = {"matched": [], "unmatched": [], "failure": []}
        for ff in session.get(context.batch_size):
            data = session.read(ff)
            try:
                doc = parse(data)
                if len(data) > self._max_str and longest_string(doc, self._max_str):
                    raise BadJson(
                        f"a string is longer than Max String Length ({self._max_str})"
                    )
            except BadJson as exc:
                ff = session.put_attribute(ff, ERROR_ATTRIBUTE, str(exc))
                out["failure"].append(ff)
                continue
            rel, results = self._evaluate(context, ff, doc)
            if rel is self.FAILURE:
                ff = session.put_attributes(ff, results)
            elif rel is self.MATCHED:
                if self._to_attr:
                    ff = session.put_attributes(ff, results)
                else:
                    ff = session.write(ff, next(iter(results.values())).encode())
            out[rel.name].append(ff)
        session.transfer(out["matched"], self.MATCHED)
        session.transfer(out["unmatched"], self.UNMATCHED)
        session.transfer(out["failure"], self.FAILURE)
