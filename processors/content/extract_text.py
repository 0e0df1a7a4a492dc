"""ExtractText: puts regex capture groups of the content into attributes."""

from __future__ import annotations

import re
import unicodedata

from flowengine import (
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

from ._text import (
    CHARACTER_SET,
    decode_lenient,
    java_pattern,
    read_prefix,
    regex_group_check,
)

__all__ = ["ExtractText"]

MAX_GROUPS = 40


def _flag(name: str, display: str, description: str) -> PropertyDescriptor:
    return PropertyDescriptor(
        name,
        description,
        display_name=display,
        default="false",
        required=True,
        validators=(validators.BOOLEAN,),
    )


class ExtractText(Processor):
    """Evaluates one Java regex per dynamic property against the content and puts
    the capture groups into attributes named after the property.

    For a property ``name``: the first capture group goes to ``name`` and every
    group *n* to ``name.n`` (group 0, the whole match, as ``name.0`` while Include
    Capture Group 0 is true); groups that did not take part or matched nothing are
    left out, values are cut to Maximum Capture Group Length. With Enable repeating
    capture group, later matches continue the numbering (``name.3``, ``name.4`` ... for
    a two-group regex). With Enable named group support, named groups are
    ``name.<group name>``. Only the first Maximum Buffer Size bytes are examined;
    bytes not valid in Character Set read as U+FFFD, as in NiFi. ``matched`` when any
    attribute was set, else ``unmatched`` (no attributes).
    """

    tags = ("evaluate", "extract", "Text", "Regular Expression", "regex")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
extract:
  type: ExtractText
  properties:
    order: "order=(\\\\d+)"
"""

    CHARACTER_SET = CHARACTER_SET
    MAX_BUFFER_SIZE = PropertyDescriptor(
        "maximum_buffer_size",
        "How much of the start of the content the regexes see; the rest is not "
        "evaluated.",
        display_name="Maximum Buffer Size",
        default="1 MB",
        required=True,
        validators=(validators.DATA_SIZE,),
    )
    MAX_CAPTURE_GROUP_LENGTH = PropertyDescriptor(
        "maximum_capture_group_length",
        "Longest value of a capture group attribute; longer values are truncated.",
        display_name="Maximum Capture Group Length",
        default="1024",
        validators=(validators.POSITIVE_INTEGER,),
    )
    CANON_EQ = _flag(
        "enable_canonical_equivalence",
        "Enable Canonical Equivalence",
        "Characters match when their canonical decompositions match (content and "
        "regex are NFC-normalized).",
    )
    CASE_INSENSITIVE = _flag(
        "enable_case_insensitive_matching",
        "Enable Case-insensitive Matching",
        "Match letters regardless of case (also (?i)).",
    )
    COMMENTS = _flag(
        "permit_whitespace_and_comments_in_pattern",
        "Permit Whitespace and Comments in Pattern",
        "Ignore whitespace and #-comments in the regex (also (?x)).",
    )
    DOTALL = _flag(
        "enable_dotall_mode",
        "Enable DOTALL Mode",
        "'.' also matches line terminators (also (?s)).",
    )
    LITERAL = _flag(
        "enable_literal_parsing_of_the_pattern",
        "Enable Literal Parsing of the Pattern",
        "The regex is literal text: metacharacters have no meaning.",
    )
    MULTILINE = _flag(
        "enable_multiline_mode",
        "Enable Multiline Mode",
        "'^' and '$' match at line terminators too (also (?m)).",
    )
    UNICODE_CASE = _flag(
        "enable_unicode_aware_case_folding",
        "Enable Unicode-aware Case Folding",
        "With case-insensitive matching, fold case the Unicode way, not ASCII only "
        "(also (?u)).",
    )
    UNICODE_CHARACTER_CLASS = _flag(
        "enable_unicode_predefined_character_classes",
        "Enable Unicode Predefined Character Classes",
        "\\w, \\d, \\s ... match Unicode characters, not ASCII only (also (?U)).",
    )
    UNIX_LINES = _flag(
        "enable_unix_lines_mode",
        "Enable Unix Lines Mode",
        "Only \\n is a line terminator for '.', '^' and '$' (also (?d)).",
    )
    INCLUDE_GROUP_ZERO = PropertyDescriptor(
        "include_capture_group_0",
        "Also put the whole match (group 0) into <name>.0.",
        display_name="Include Capture Group 0",
        default="true",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    REPEATING = PropertyDescriptor(
        "enable_repeating_capture_group",
        "Extract every match, not only the first.",
        display_name="Enable repeating capture group",
        aliases=("extract-text-enable-repeating-capture-group",),
        default="false",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    NAMED_GROUPS = PropertyDescriptor(
        "enable_named_group_support",
        "Name attributes of named groups <name>.<group name>; every group must then "
        "be named.",
        display_name="Enable named group support",
        aliases=("extract-text-enable-named-groups",),
        default="false",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    dynamic_properties = DynamicProperties(
        "Evaluates the regex against the content; its capture groups become "
        "attributes named after the property.",
        name="A FlowFile attribute",
        value="A Java regular expression with one or more capturing groups",
        value_validators=(regex_group_check(0, MAX_GROUPS),),
    )

    MATCHED = Relationship("matched", "FlowFiles where a regex matched")
    UNMATCHED = Relationship("unmatched", "FlowFiles where no regex matched")

    def _flags(self, context: ProcessContext) -> int:
        def on(d: PropertyDescriptor) -> bool:
            return bool(context.property(d).as_bool())

        flags = 0
        if on(self.CASE_INSENSITIVE):
            flags |= re.IGNORECASE
        if on(self.COMMENTS):
            flags |= re.VERBOSE
        if on(self.DOTALL):
            flags |= re.DOTALL
        if on(self.MULTILINE):
            flags |= re.MULTILINE
        # Java's classes and case folding are ASCII unless asked otherwise
        if not (on(self.UNICODE_CASE) or on(self.UNICODE_CHARACTER_CLASS)):
            flags |= re.ASCII
        return flags

    def _compile(self, context: ProcessContext, regex: str) -> re.Pattern[str]:
        if context.property(self.CANON_EQ).as_bool():
            regex = unicodedata.normalize("NFC", regex)
        if context.property(self.LITERAL).as_bool():
            return re.compile(re.escape(regex), self._flags(context))
        return java_pattern(regex, self._flags(context))

    def custom_validate(self, context: ProcessContext) -> list[str]:
        problems = []
        zero = context.property(self.INCLUDE_GROUP_ZERO).as_bool()
        named = context.property(self.NAMED_GROUPS).as_bool()
        for name, pv in context.dynamic_properties.items():
            try:
                pat = self._compile(context, pv.value or "")
            except ValueError as exc:
                problems.append(f"dynamic property {name!r}: {exc}")
                continue
            if not zero and pat.groups < 1:
                problems.append(
                    f"dynamic property {name!r}: the regex needs at least one "
                    "capturing group when Include Capture Group 0 is false"
                )
            if named and len(pat.groupindex) != pat.groups:
                problems.append(
                    f"dynamic property {name!r}: with Enable named group support "
                    "every capturing group must be named"
                )
        return problems

    def on_scheduled(self, context: ProcessContext) -> None:
        self._patterns = [
            (name, self._compile(context, pv.value or ""))
            for name, pv in context.dynamic_properties.items()
        ]
        self._charset = context.property(self.CHARACTER_SET).value or "UTF-8"
        self._max = context.property(self.MAX_BUFFER_SIZE).as_data_size() or 0
        self._cap = context.property(self.MAX_CAPTURE_GROUP_LENGTH).as_int() or 1024
        self._start = 0 if context.property(self.INCLUDE_GROUP_ZERO).as_bool() else 1
        self._repeat = bool(context.property(self.REPEATING).as_bool())
        self._named = bool(context.property(self.NAMED_GROUPS).as_bool())
        self._canon = bool(context.property(self.CANON_EQ).as_bool())

    def extract(self, text: str) -> dict[str, str]:
        """The attributes the regexes produce for ``text``."""
        results: dict[str, str] = {}
        cap = self._cap
        for base, pattern in self._patterns:
            names = {i: n for n, i in pattern.groupindex.items()} if self._named else {}
            offset = 0  # group numbering continues across repeated matches
            for m in pattern.finditer(text):
                first = offset == 0
                for i in range(self._start if first else 1, pattern.groups + 1):
                    value = m.group(i)
                    if not value:
                        continue
                    value = value[:cap]
                    label = names.get(i, str(i + offset)) if first else str(i + offset)
                    results[f"{base}.{label}"] = value
                    if i == 1 and first:
                        results[base] = value
                offset += pattern.groups
                if not self._repeat:
                    break
        return results

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        matched: list[FlowFile] = []
        unmatched: list[FlowFile] = []
        for ff in session.get(context.batch_size):
            with session.open(ff) as src:
                data = read_prefix(src, self._max)
            text = decode_lenient(data, self._charset)
            if self._canon:
                text = unicodedata.normalize("NFC", text)
            results = self.extract(text)
            if results:
                ff = session.put_attributes(ff, results)
                matched.append(ff)
            else:
                unmatched.append(ff)
        session.transfer(matched, self.MATCHED)
        session.transfer(unmatched, self.UNMATCHED)
