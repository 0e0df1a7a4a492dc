"""AttributesToJSON: a FlowFile's attributes as one JSON object (NiFi §9.1)."""

from __future__ import annotations

import json
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

from . import _select as sel

__all__ = ["AttributesToJSON"]

ESCAPED = "Escaped"
NESTED = "Nested"
JSON_ATTRIBUTE = "JSONAttributes"
ERROR_ATTRIBUTE = "AttributesToJSON.error"


class AttributesToJSON(Processor):
    """Renders selected attributes as a JSON object, into ``JSONAttributes`` or content.

    Selection follows NiFi: the *Attributes List* (absent names become ``""`` or
    ``null``) plus attributes fully matching *Attributes Regular Expression*; all
    attributes when both are empty. With *JSON Handling Strategy* ``Nested`` a value
    that looks like a JSON object or array is embedded as JSON rather than as an escaped
    string; one that does not parse sends the FlowFile to ``failure``. Writing to content
    sets ``mime.type`` to ``application/json``; attribute-only output never copies
    content.
    """

    tags = ("json", "attributes", "flowfile")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
to_json:
  type: AttributesToJSON
  properties:
    attributes_list: filename, kafka.key
    destination: flowfile-content
  auto_terminate: [failure]
"""

    ATTRIBUTES_LIST = PropertyDescriptor(
        "attributes_list",
        "Comma-separated, case-sensitive attribute names to include; empty (with no "
        "regular expression) means all attributes.",
        display_name="Attributes List",
    )
    ATTRIBUTES_REGEX = sel.regex_property(
        "Attributes whose names fully match this regular expression are included too."
    )
    DESTINATION = sel.destination(JSON_ATTRIBUTE)
    INCLUDE_CORE = sel.include_core()
    NULL_VALUE = sel.null_value("JSON null")
    JSON_HANDLING = PropertyDescriptor(
        "json_handling_strategy",
        "How attribute values that contain JSON are written.",
        display_name="JSON Handling Strategy",
        default=ESCAPED,
        required=True,
        allowable_values=(
            AllowableValue(ESCAPED, None, "as an escaped JSON string"),
            AllowableValue(NESTED, None, "as nested JSON"),
        ),
    )
    PRETTY_PRINT = PropertyDescriptor(
        "pretty_print",
        "Indent the output (only with Destination flowfile-content).",
        display_name="Pretty Print",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
        depends_on=("destination", (sel.DESTINATION_CONTENT,)),
    )
    writes_attributes = {
        JSON_ATTRIBUTE: "JSON representation of the attributes",
        ERROR_ATTRIBUTE: "why the FlowFile went to failure",
    }

    SUCCESS = Relationship("success", "Successfully converted attributes to JSON")
    FAILURE = Relationship("failure", "Failed to convert attributes to JSON")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._sel = sel.Selection.of(
            context,
            attribute_list=self.ATTRIBUTES_LIST,
            regex=self.ATTRIBUTES_REGEX,
            destination=self.DESTINATION,
            include_core=self.INCLUDE_CORE,
            null_value=self.NULL_VALUE,
        )
        self._nested = context.property(self.JSON_HANDLING).value == NESTED
        pretty = self._sel.to_content and context.property(self.PRETTY_PRINT).as_bool()
        # Jackson's compact form has no spaces; its pretty printer writes " : "
        self._dump_kw: dict[str, Any] = (
            {"indent": 2, "separators": (",", " : ")}
            if pretty
            else {"separators": (",", ":")}
        )

    def _document(self, attrs: Any) -> str:
        selected = self._sel.select(attrs)
        doc: dict[str, Any] = {}
        for k, val in selected.items():
            if val is None:
                doc[k] = None if self._sel.null else ""
            elif self._nested and val[:1] in ("{", "["):
                doc[k] = json.loads(val)
            else:
                doc[k] = val
        return json.dumps(doc, ensure_ascii=False, **self._dump_kw)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ok: list[Any] = []
        failed: list[Any] = []
        for ff in session.get(context.batch_size):
            try:
                text = self._document(ff.attributes)
            except ValueError as exc:
                reason = f"attribute value is not valid JSON: {exc}"
                context.logger.warning(
                    "attributes_to_json_failed", uuid=ff.uuid, reason=reason
                )
                failed.append(session.put_attribute(ff, ERROR_ATTRIBUTE, reason))
                continue
            if self._sel.to_content:
                ff = session.write(ff, text.encode())
                ff = session.put_attribute(ff, "mime.type", "application/json")
            else:
                ff = session.put_attribute(ff, JSON_ATTRIBUTE, text)
            ok.append(ff)
        if ok:
            session.transfer(ok, self.SUCCESS)
        if failed:
            session.transfer(failed, self.FAILURE)
