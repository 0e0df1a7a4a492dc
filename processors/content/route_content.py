"""RouteOnContent: routes FlowFiles by Java regexes evaluated against their content."""

from __future__ import annotations

import re
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
    validators,
)

from ._text import (
    CHARACTER_SET,
    decode_lenient,
    java_pattern,
    read_prefix,
    regex_group_check,
)

__all__ = ["RouteOnContent"]

MATCH_ALL = "content must match exactly"
MATCH_SUBSEQUENCE = "content must contain match"


class RouteOnContent(Processor):
    """Routes each FlowFile to the relationship of every dynamic property whose regex
    matches its content (cloned when several match), or to ``unmatched``.

    Match Requirement decides whether the regex must match the whole content or be
    found in it. Only the first Content Buffer Size bytes are examined; bytes not valid
    in Character Set read as U+FFFD, as in NiFi. Regexes may use Expression Language
    (evaluated per FlowFile).
    """

    tags = ("route", "content", "regex", "regular expression", "find", "text")
    input_requirement = InputRequirement.REQUIRED

    MATCH_REQUIREMENT = PropertyDescriptor(
        "match_requirement",
        "Whether the regex must match the entire content or only a part of it.",
        display_name="Match Requirement",
        default=MATCH_ALL,
        required=True,
        allowable_values=(
            AllowableValue(MATCH_ALL, MATCH_ALL, "The regex matches all of it"),
            AllowableValue(
                MATCH_SUBSEQUENCE, MATCH_SUBSEQUENCE, "The regex is found in it"
            ),
        ),
    )
    CHARACTER_SET = CHARACTER_SET
    BUFFER_SIZE = PropertyDescriptor(
        "content_buffer_size",
        "How much of the start of the content the regexes see.",
        display_name="Content Buffer Size",
        default="1 MB",
        required=True,
        validators=(validators.DATA_SIZE,),
    )
    dynamic_properties = DynamicProperties(
        "Routes FlowFiles whose content matches the regex to the relationship of the "
        "same name.",
        name="A relationship name",
        value="A Java regular expression",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        value_validators=(regex_group_check(),),
    )
    UNMATCHED = Relationship("unmatched", "FlowFiles that match no regex")

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        return [
            cls.UNMATCHED,
            *(Relationship(n, f"FlowFiles whose content matches {n}") for n in dynamic),
        ]

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if not context.dynamic_properties:
            return ["at least one regex (dynamic property) is required"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._full = context.property(self.MATCH_REQUIREMENT).value == MATCH_ALL
        self._charset = context.property(self.CHARACTER_SET).value or "UTF-8"
        self._max = context.property(self.BUFFER_SIZE).as_data_size() or 0
        self._props = list(context.dynamic_properties.items())

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        routed: dict[str, list[Any]] = {}
        for ff in session.get(context.batch_size):
            with session.open(ff) as src:
                text = decode_lenient(read_prefix(src, self._max), self._charset)
            hits = []
            for name, pv in self._props:
                try:
                    pattern = java_pattern(pv.evaluate(ff).value or "")
                except ValueError as exc:
                    # an EL-built regex that does not compile: this property cannot
                    # match; say so without losing the FlowFile
                    context.bulletin("warning", f"{name}: {exc}", ff)
                    continue
                if _matches(pattern, text, self._full):
                    hits.append(name)
            if not hits:
                hits = ["unmatched"]
            for extra in hits[1:]:
                routed.setdefault(extra, []).append(session.clone(ff))
            routed.setdefault(hits[0], []).append(ff)
        for rel, flowfiles in routed.items():
            session.transfer(flowfiles, rel)


def _matches(pattern: re.Pattern[str], text: str, full: bool) -> bool:
    return (pattern.fullmatch(text) if full else pattern.search(text)) is not None
