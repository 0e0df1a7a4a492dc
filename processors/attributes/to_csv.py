"""AttributesToCSV: a FlowFile's attributes as one CSV line (NiFi §9.1)."""

from __future__ import annotations

import re
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

__all__ = ["AttributesToCSV"]

DATA_ATTRIBUTE = "CSVData"
SCHEMA_ATTRIBUTE = "CSVSchema"
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def _escape(value: str) -> str:
    """CSV-escape as Apache Commons ``escapeCsv``: quote only when needed."""
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


class AttributesToCSV(Processor):
    """Renders selected attribute values as one CSV line, into ``CSVData`` or content.

    Selection is that of AttributesToJSON (list + full-match regex, all when both are
    empty, core attributes optional). *Include Schema* adds the attribute names:
    ``CSVSchema`` as an attribute, or a header line before the values in content.
    Values are quoted only when they contain a comma, quote or line break.
    """

    tags = ("csv", "attributes", "flowfile")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
to_csv:
  type: AttributesToCSV
  properties:
    attribute_list: filename, record.count
    include_schema: "true"
"""

    ATTRIBUTE_LIST = PropertyDescriptor(
        "attribute_list",
        "Comma-separated, case-sensitive attribute names to include; empty (with no "
        "regular expression) means all attributes.",
        display_name="Attribute List",
    )
    ATTRIBUTES_REGEX = sel.regex_property(
        "Attributes whose names fully match this regular expression are included too."
    )
    DESTINATION = sel.destination(DATA_ATTRIBUTE)
    INCLUDE_CORE = sel.include_core()
    NULL_VALUE = sel.null_value("'null'")
    INCLUDE_SCHEMA = PropertyDescriptor(
        "include_schema",
        "Also write the attribute names: the 'CSVSchema' attribute, or a header line "
        "in content.",
        display_name="Include Schema",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    writes_attributes = {
        DATA_ATTRIBUTE: "CSV representation of the attributes",
        SCHEMA_ATTRIBUTE: "CSV representation of the attribute names (Include Schema)",
    }

    SUCCESS = Relationship("success", "Successfully converted attributes to CSV")
    FAILURE = Relationship("failure", "Failed to convert attributes to CSV")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._sel = sel.Selection.of(
            context,
            attribute_list=self.ATTRIBUTE_LIST,
            regex=self.ATTRIBUTES_REGEX,
            destination=self.DESTINATION,
            include_core=self.INCLUDE_CORE,
            null_value=self.NULL_VALUE,
        )
        self._schema = bool(context.property(self.INCLUDE_SCHEMA).as_bool())

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        out: list[Any] = []
        for ff in session.get(context.batch_size):
            selected = self._sel.select(ff.attributes)
            data = ",".join(
                _escape(("null" if self._sel.null else "") if val is None else val)
                for val in selected.values()
            )
            schema = ",".join(_escape(k) for k in selected)
            if self._sel.to_content:
                text = f"{schema}\n{data}" if self._schema else data
                ff = session.write(ff, text.encode())
                ff = session.put_attribute(ff, "mime.type", "text/csv")
            else:
                attrs = {DATA_ATTRIBUTE: data}
                if self._schema:
                    attrs[SCHEMA_ATTRIBUTE] = schema
                ff = session.put_attributes(ff, attrs)
            out.append(ff)
        session.transfer(out, self.SUCCESS)
