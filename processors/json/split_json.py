"""SplitJson: one FlowFile per element of the array a JsonPath selects."""

from __future__ import annotations

import uuid

from flowengine import (
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)
from flowengine.expression.jayway import PathNotFound, compile_path

from ._common import (
    ERROR_ATTRIBUTE,
    JSONPATH,
    NULL_LITERAL,
    NULL_VALUE_REPRESENTATION,
    BadJson,
    longest_string,
    parse,
    representation,
)

__all__ = ["SplitJson"]


class SplitJson(Processor):
    """Splits the array selected by JsonPath Expression into one FlowFile per
    element (strings as they are, objects/arrays as JSON, null as Null Value
    Representation), with ``fragment.identifier``, ``fragment.index``,
    ``fragment.count`` and ``segment.original.filename``; the input goes to
    ``original`` with the identifier, count and filename too. Content that is not
    JSON (position in ``json.error``), a path not found, or a result that is not an
    array go to ``failure``.
    """

    tags = ("json", "split", "jsonpath")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
split:
  type: SplitJson
  properties:
    JsonPath Expression: $.items
"""

    JSON_PATH = PropertyDescriptor(
        "jsonpath_expression",
        "A JsonPath expression that indicates the array element to split into JSON/"
        "scalar fragments.",
        display_name="JsonPath Expression",
        required=True,
        validators=(JSONPATH,),
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

    ORIGINAL = Relationship(
        "original",
        "The original FlowFile that was split into segments. If the "
        "FlowFile fails processing, nothing will be sent to this relationship",
    )
    SPLIT = Relationship(
        "split",
        "All segments of the original FlowFile will be routed to this relationship",
    )
    FAILURE = Relationship(
        "failure",
        "If a FlowFile fails processing for any reason (for example, the "
        "FlowFile is not valid JSON or the specified path does not exist), it will be "
        "routed to this relationship",
    )

    def on_scheduled(self, context: ProcessContext) -> None:
        self._path = compile_path(context.property(self.JSON_PATH).value or "")
        null = context.property(self.NULL_VALUE_REPRESENTATION).value
        self._null = "null" if null == NULL_LITERAL else ""
        self._max_str = context.property(self.MAX_STRING_LENGTH).as_data_size() or 0

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            self._split(session, ff)

    def _split(self, session: ProcessSession, ff: FlowFile) -> None:
        data = session.read(ff)
        try:
            doc = parse(data)
            if len(data) > self._max_str and longest_string(doc, self._max_str):
                raise BadJson(
                    f"a string is longer than Max String Length ({self._max_str})"
                )
            try:
                found = self._path.read(doc)
            except PathNotFound as exc:
                raise BadJson(
                    f"JsonPath {self._path.text} could not be found: {exc}"
                ) from exc
            if not isinstance(found, list):
                raise BadJson(f"JsonPath {self._path.text} did not return an array")
        except BadJson as exc:
            session.transfer(
                session.put_attribute(ff, ERROR_ATTRIBUTE, str(exc)), self.FAILURE
            )
            return
        ident = str(uuid.uuid4())
        count = str(len(found))
        name = ff.attributes.get("filename", "")
        splits = []
        for i, element in enumerate(found):
            child = session.create(ff)
            child = session.write(child, representation(element, self._null).encode())
            splits.append(
                session.put_attributes(
                    child,
                    {
                        "fragment.identifier": ident,
                        "fragment.index": str(i),
                        "fragment.count": count,
                        "segment.original.filename": name,
                    },
                )
            )
        original = session.put_attributes(
            ff,
            {
                "fragment.identifier": ident,
                "fragment.count": count,
                "segment.original.filename": name,
            },
        )
        session.transfer(splits, self.SPLIT)
        session.transfer(original, self.ORIGINAL)
