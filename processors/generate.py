"""GenerateFlowFile: creates FlowFiles with random or custom content (for tests and loads)."""

from __future__ import annotations

import os

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

__all__ = ["GenerateFlowFile"]


class GenerateFlowFile(Processor):
    """Creates FlowFiles with random data or custom text.

    Useful for load testing, configuration and simulation. With ``unique_flowfiles``
    false (the default) every FlowFile of a trigger gets the same payload, which is
    much faster than generating fresh random bytes for each.
    """

    tags = ("test", "random", "generate", "load")
    input_requirement = InputRequirement.FORBIDDEN
    default_schedule = {"period": 60.0}
    # CPU-light (one payload per trigger): skip the worker-thread hop.
    run_inline = True
    example = """\
gen:
  type: GenerateFlowFile
  properties: {custom_text: "hello ${now():format('yyyy')}", batch_size: 10}
  schedule: {max_triggers: 1}
"""

    FILE_SIZE = PropertyDescriptor(
        "file_size",
        "Size of each FlowFile's content when generating random data.",
        display_name="File Size",
        default="0B",
        required=True,
        validators=(validators.DATA_SIZE,),
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    BATCH_SIZE = PropertyDescriptor(
        "batch_size",
        "Number of FlowFiles to create per trigger.",
        display_name="Batch Size",
        default="1",
        required=True,
        validators=(validators.POSITIVE_INTEGER,),
    )
    DATA_FORMAT = PropertyDescriptor(
        "data_format",
        "Whether random data is text (letters and digits) or binary.",
        display_name="Data Format",
        default="Text",
        required=True,
        allowable_values=(AllowableValue("Text"), AllowableValue("Binary")),
    )
    UNIQUE_FLOWFILES = PropertyDescriptor(
        "unique_flowfiles",
        "Generate new random data for every FlowFile (slower) instead of once per trigger.",
        display_name="Unique FlowFiles",
        default="false",
        required=True,
        allowable_values=("true", "false"),
    )
    CUSTOM_TEXT = PropertyDescriptor(
        "custom_text",
        "Text to use as content instead of random data (Data Format Text, not unique); "
        "File Size is then ignored. Evaluated once per trigger.",
        display_name="Custom Text",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "Encoding of the custom text.",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        validators=(validators.CHARACTER_SET,),
    )
    MIME_TYPE = PropertyDescriptor(
        "mime_type",
        "Value of the mime.type attribute of generated FlowFiles.",
        display_name="Mime Type",
    )
    dynamic_properties = DynamicProperties(
        "Adds an attribute to every generated FlowFile. Expression Language sees the new "
        "FlowFile's core attributes (uuid, filename, path).",
        name="An attribute name",
        value="The attribute value",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    writes_attributes = {"mime.type": "set when Mime Type is set"}

    SUCCESS = Relationship("success", "Generated FlowFiles")

    def _payload(self, context: ProcessContext) -> bytes:
        custom = context.property(self.CUSTOM_TEXT)
        binary = context.property(self.DATA_FORMAT).value == "Binary"
        if custom.is_set and not binary:
            charset = context.property(self.CHARACTER_SET).value or "UTF-8"
            return (custom.evaluate().value or "").encode(charset)
        size = context.property(self.FILE_SIZE).evaluate().as_data_size() or 0
        if binary:
            return os.urandom(size)
        alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        raw = os.urandom(size)
        return bytes(alphabet[b % len(alphabet)] for b in raw)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        count = context.property(self.BATCH_SIZE).as_int() or 1
        unique = context.property(self.UNIQUE_FLOWFILES).as_bool()
        static: dict[str, str] = {}
        dynamic = []
        for k, v in context.dynamic_properties.items():
            if v.has_expressions:
                dynamic.append((k, v.expression))
            else:
                static[k] = v.evaluate().value or ""
        mime = context.property(self.MIME_TYPE).value
        if mime:
            static["mime.type"] = mime
        payload = None if unique else self._payload(context)
        made = []
        for _ in range(count):
            ff = session.create()
            data = self._payload(context) if payload is None else payload
            if data:
                ff = session.write(ff, data)
            if dynamic:
                attrs = dict(static)
                for k, expr in dynamic:
                    attrs[k] = expr.evaluate(ff)
                ff = session.put_attributes(ff, attrs)
            elif static:
                ff = session.put_attributes(ff, static)
            made.append(ff)
        session.transfer(made, self.SUCCESS)
