"""ExtractGrok: match a Grok expression against content, captures to attributes or JSON."""

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
    validators,
)

from ._common import compile_grok, problem
from ._grok import Grok, GrokError

__all__ = ["ExtractGrok"]

FLOWFILE_ATTRIBUTE = "flowfile-attribute"
FLOWFILE_CONTENT = "flowfile-content"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return "" if value is None else str(value)


class ExtractGrok(Processor):
    """Evaluates a Grok expression against the content (up to Maximum Buffer Size) and
    writes the captures as ``grok.<field>`` attributes or as a JSON object replacing the
    content; FlowFiles that do not match go to ``unmatched`` unchanged.

    An unknown pattern name, or an expression that does not compile, is rejected at
    validation with its column and a hint. With Named captures only false every
    ``%{PATTERN}`` is captured under its pattern name too (java-grok's rule); with Keep
    Empty Captures false captures that are empty or did not participate are dropped.
    """

    tags = ("grok", "log", "text", "parse", "delimit", "extract")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False
    writes_attributes = {
        "grok.XXX": "each capture, when Destination is flowfile-attribute"
    }
    example = """\
parse_access_log:
  type: ExtractGrok
  properties:
    Grok Expression: '%{COMMONAPACHELOG}'
    Named captures only: 'true'
"""

    GROK_EXPRESSION = PropertyDescriptor(
        "grok_expression",
        "Grok expression. If other Grok patterns are referenced in this expression, they "
        "must be provided in the Grok Patterns File if set or exist in the default Grok "
        "patterns",
        display_name="Grok Expression",
        required=True,
        validators=(validators.NON_EMPTY,),
    )
    GROK_PATTERNS = PropertyDescriptor(
        "grok_patterns",
        "Custom Grok pattern definitions: comma-separated pattern files, or the "
        "definitions themselves (one 'NAME regex' per line).",
        display_name="Grok Patterns",
    )
    DESTINATION = PropertyDescriptor(
        "destination",
        "Control if Grok output value is written as a new flowfile attributes, in this "
        "case each of the Grok identifier that is matched in the flowfile will be added "
        'as an attribute, prefixed with "grok." or written in the flowfile content. '
        "Writing to flowfile content will overwrite any existing flowfile content.",
        display_name="Destination",
        default=FLOWFILE_ATTRIBUTE,
        required=True,
        allowable_values=(
            AllowableValue(
                FLOWFILE_ATTRIBUTE, FLOWFILE_ATTRIBUTE, "captures as grok.* attributes"
            ),
            AllowableValue(
                FLOWFILE_CONTENT, FLOWFILE_CONTENT, "captures as a JSON object"
            ),
        ),
    )
    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "The Character Set in which the file is encoded",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        validators=(validators.CHARACTER_SET,),
    )
    MAX_BUFFER_SIZE = PropertyDescriptor(
        "maximum_buffer_size",
        "Specifies the maximum amount of data to buffer (per file) in order to apply the "
        "Grok expressions. Files larger than the specified maximum will not be fully "
        "evaluated.",
        display_name="Maximum Buffer Size",
        default="1 MB",
        required=True,
        validators=(validators.DATA_SIZE,),
    )
    NAMED_CAPTURES_ONLY = PropertyDescriptor(
        "named_captures_only",
        "Only store named captures from grok",
        display_name="Named captures only",
        default="false",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    KEEP_EMPTY_CAPTURES = PropertyDescriptor(
        "keep_empty_captures",
        "If true, then empty capture values will be included in the returned capture map.",
        display_name="Keep Empty Captures",
        default="true",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    MATCHED = Relationship(
        "matched",
        "FlowFiles are routed to this relationship when the Grok Expression is successfully evaluated and the FlowFile is modified as a result",
    )
    UNMATCHED = Relationship(
        "unmatched",
        "FlowFiles are routed to this relationship when no provided Grok Expression matches the content of the FlowFile",
    )

    def _compile(self, context: ProcessContext) -> Grok:
        return compile_grok(
            context.property(self.GROK_EXPRESSION).value or "",
            context.property(self.GROK_PATTERNS).value,
            bool(context.property(self.NAMED_CAPTURES_ONLY).as_bool()),
        )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        try:
            self._compile(context)
        except (GrokError, OSError) as exc:
            return [f"Grok Expression: {problem(exc)}"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._grok = self._compile(context)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        grok = self._grok
        charset = context.property(self.CHARACTER_SET).value or "UTF-8"
        limit = context.property(self.MAX_BUFFER_SIZE).as_data_size() or (1 << 20)
        to_content = context.property(self.DESTINATION).value == FLOWFILE_CONTENT
        keep_empty = bool(context.property(self.KEEP_EMPTY_CAPTURES).as_bool())
        for ff in session.get(context.batch_size):
            with session.open(ff) as stream:
                data = stream.read(limit)
            text = data.decode(charset, errors="replace")
            captures = grok.match(text)
            if captures is None:
                session.transfer(ff, self.UNMATCHED)
                continue
            if not keep_empty:
                captures = {
                    k: v for k, v in captures.items() if v not in (None, "", [])
                }
            if to_content:
                ff = session.write(
                    ff,
                    json.dumps(captures, ensure_ascii=False).encode(
                        charset, errors="replace"
                    ),
                )
                ff = session.put_attribute(ff, "mime.type", "application/json")
                session.provenance.modify_content(ff)
            else:
                ff = session.put_attributes(
                    ff, {f"grok.{k}": _text(v) for k, v in captures.items()}
                )
            session.transfer(ff, self.MATCHED)
