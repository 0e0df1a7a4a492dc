"""ReplaceText and ReplaceTextWithMapping: rewrite text content, streamed where NiFi streams."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import BinaryIO

from flowengine import (
    AllowableValue,
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)
from flowengine.expression import ExpressionError

from ._text import (
    CHUNK,
    JAVA_REGEX,
    LineTooLongError,
    ReplacementTemplate,
    codec_name,
    iter_text_lines,
    java_pattern,
    line_ending,
    read_prefix,
)

__all__ = ["ReplaceText", "ReplaceTextWithMapping"]

PREPEND = "Prepend"
APPEND = "Append"
SURROUND = "Surround"
REGEX_REPLACE = "Regex Replace"
LITERAL_REPLACE = "Literal Replace"
ALWAYS_REPLACE = "Always Replace"
SUBSTITUTE_VARIABLES = "Substitute Variables"
LINE_BY_LINE = "Line-by-Line"
ENTIRE_TEXT = "Entire text"
ALL = "All"
FIRST_LINE = "First-Line"
LAST_LINE = "Last-Line"
EXCEPT_FIRST_LINE = "Except-First-Line"
EXCEPT_LAST_LINE = "Except-Last-Line"
DEFAULT_REGEX = "(?s)(^.*$)"
_VARIABLE = re.compile(r"(\$?)\$\{([^}]+)\}")
#: strategies that must hold the whole content (or line) in memory
_BUFFERED = (REGEX_REPLACE, LITERAL_REPLACE, SUBSTITUTE_VARIABLES)


class _Bad(ValueError):
    """Input this FlowFile cannot be processed with: it goes to failure."""


def _strategy_values() -> tuple[AllowableValue, ...]:
    return (
        AllowableValue(PREPEND, PREPEND, "Insert Replacement Value at the start"),
        AllowableValue(APPEND, APPEND, "Insert Replacement Value at the end"),
        AllowableValue(
            SURROUND, SURROUND, "Insert Text to Prepend and Text to Append around it"
        ),
        AllowableValue(
            REGEX_REPLACE,
            REGEX_REPLACE,
            "Replace every match of the Search Value regex with the Replacement Value "
            "($1 and ${'$1'} refer to capture groups)",
        ),
        AllowableValue(
            LITERAL_REPLACE, LITERAL_REPLACE, "Replace every occurrence of Search Value"
        ),
        AllowableValue(
            ALWAYS_REPLACE, ALWAYS_REPLACE, "Replace all of it with Replacement Value"
        ),
        AllowableValue(
            SUBSTITUTE_VARIABLES,
            SUBSTITUTE_VARIABLES,
            "Replace ${name} references with the FlowFile's attribute values",
        ),
    )


class ReplaceText(Processor):
    """Updates text content by replacing, prepending, appending or substituting text.

    Evaluation Mode *Line-by-Line* (the default) streams the content one line at a time
    (each line with its ending), applying the strategy to the lines Line-by-Line
    Evaluation Mode selects; a line longer than Maximum Buffer Size sends the FlowFile
    to ``failure``. *Entire text* holds the content in memory for Regex Replace,
    Literal Replace and Substitute Variables, so content over Maximum Buffer Size goes
    to ``failure``; Prepend, Append, Surround and Always Replace stream. Search Value
    is a Java regex; the Replacement Value's Expression Language sees the capture
    groups as ``${'$1'}``; ``$1`` refers to them directly, a reference to a group the
    regex lacks is literal text, and (NiFi's rule) a ``$`` before anything but a digit
    makes the whole evaluated value literal. An empty FlowFile is left untouched in
    Line-by-Line mode. Content that is not valid in Character Set goes to ``failure``
    with ``error.message``.
    """

    tags = ("Text", "Regular Expression", "Update", "Change", "Replace", "Modify")
    input_requirement = InputRequirement.REQUIRED
    writes_attributes = {"error.message": "why the FlowFile went to failure"}
    example = """\
reformat:
  type: ReplaceText
  properties:
    Search Value: "^(.*?),(.*?)$"
    Replacement Value: "${'$2':toUpper()};$1"
"""

    STRATEGY = PropertyDescriptor(
        "replacement_strategy",
        "How and what to replace.",
        display_name="Replacement Strategy",
        default=REGEX_REPLACE,
        required=True,
        allowable_values=_strategy_values(),
    )
    SEARCH_VALUE = PropertyDescriptor(
        "search_value",
        "What to search for: a Java regex (Regex Replace) or literal text "
        "(Literal Replace).",
        display_name="Search Value",
        default=DEFAULT_REGEX,
        required=True,
        validators=(JAVA_REGEX,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("replacement_strategy", (REGEX_REPLACE, LITERAL_REPLACE)),
    )
    REPLACEMENT_VALUE = PropertyDescriptor(
        "replacement_value",
        "The value to insert; with Regex Replace, $1 or ${'$1'} refer to capture "
        "groups.",
        display_name="Replacement Value",
        default="$1",
        required=True,
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    PREPEND_TEXT = PropertyDescriptor(
        "text_to_prepend",
        "Surround: the text before the content or each line.",
        display_name="Text to Prepend",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("replacement_strategy", (SURROUND,)),
    )
    APPEND_TEXT = PropertyDescriptor(
        "text_to_append",
        "Surround: the text after the content or each line.",
        display_name="Text to Append",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("replacement_strategy", (SURROUND,)),
    )
    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "The character set of the content.",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        validators=(validators.CHARACTER_SET,),
    )
    MAX_BUFFER_SIZE = PropertyDescriptor(
        "maximum_buffer_size",
        "Most data held in memory: the whole content (Entire text) or one line "
        "(Line-by-Line). Larger goes to failure.",
        display_name="Maximum Buffer Size",
        default="1 MB",
        required=True,
        validators=(validators.DATA_SIZE,),
    )
    EVALUATION_MODE = PropertyDescriptor(
        "evaluation_mode",
        "Apply the strategy to each line or to the entire text.",
        display_name="Evaluation Mode",
        default=LINE_BY_LINE,
        required=True,
        allowable_values=(
            AllowableValue(LINE_BY_LINE, LINE_BY_LINE, "Each line, streamed"),
            AllowableValue(ENTIRE_TEXT, ENTIRE_TEXT, "The whole content at once"),
        ),
    )
    LINE_MODE = PropertyDescriptor(
        "line_by_line_evaluation_mode",
        "Which lines Line-by-Line applies to (the others are copied unchanged).",
        display_name="Line-by-Line Evaluation Mode",
        default=ALL,
        allowable_values=tuple(
            AllowableValue(v, v, d)
            for v, d in (
                (ALL, "Every line"),
                (FIRST_LINE, "Only the first line (header)"),
                (LAST_LINE, "Only the last line (footer)"),
                (EXCEPT_FIRST_LINE, "All lines but the first"),
                (EXCEPT_LAST_LINE, "All lines but the last"),
            )
        ),
        depends_on=("evaluation_mode", (LINE_BY_LINE,)),
    )

    SUCCESS = Relationship(
        "success", "FlowFiles processed, whether or not text was replaced"
    )
    FAILURE = Relationship(
        "failure",
        "FlowFiles that could not be updated (too large, not valid text, bad "
        "expression)",
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        strategy = context.property(self.STRATEGY).value
        search = context.property(self.SEARCH_VALUE).value or ""
        if strategy == LITERAL_REPLACE and not search:
            return ["Search Value must not be empty for Literal Replace"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._strategy = context.property(self.STRATEGY).value or REGEX_REPLACE
        self._mode = context.property(self.EVALUATION_MODE).value or LINE_BY_LINE
        self._line_mode = context.property(self.LINE_MODE).value or ALL
        self._charset = codec_name(
            context.property(self.CHARACTER_SET).value or "utf-8"
        )
        self._max = context.property(self.MAX_BUFFER_SIZE).as_data_size() or 0
        search = context.property(self.SEARCH_VALUE)
        replacement = context.property(self.REPLACEMENT_VALUE)
        # NiFi: ".*" always replaces; so does the default regex with an empty
        # replacement over the entire text
        if self._strategy == REGEX_REPLACE and (
            (search.value or "") == ".*"
            or (
                search.value == DEFAULT_REGEX
                and self._mode == ENTIRE_TEXT
                and not replacement.value
            )
        ):
            self._strategy = ALWAYS_REPLACE

    # -- per FlowFile ------------------------------------------------------------------
    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ok: list[FlowFile] = []
        for ff in session.get(context.batch_size):
            try:
                ff = self._replace(context, session, ff)
            except (
                _Bad,
                LineTooLongError,
                UnicodeDecodeError,
                UnicodeEncodeError,
                ExpressionError,
            ) as exc:
                reason = (
                    f"content is not valid {self._charset}: {exc}"
                    if isinstance(exc, UnicodeError)
                    else str(exc)
                )
                ff = session.put_attribute(ff, "error.message", reason)
                session.transfer(ff, self.FAILURE)
                continue
            ok.append(ff)
        session.transfer(ok, self.SUCCESS)

    def _replace(
        self, context: ProcessContext, session: ProcessSession, ff: FlowFile
    ) -> FlowFile:
        strategy, mode, charset = self._strategy, self._mode, self._charset
        transform = self._line_function(context, ff)
        if mode == ENTIRE_TEXT:
            if strategy in _BUFFERED:
                if ff.size > self._max:
                    raise _Bad(
                        f"content of {ff.size} bytes exceeds the Maximum Buffer Size "
                        f"of {self._max} bytes"
                    )
                text = session.read(ff).decode(charset)
                new = transform(text)
                if new is text:
                    return ff
                ff = session.write(ff, new.encode(charset))
            else:
                ff = session.rewrite(ff, self._stream_entire(context, ff))
            session.provenance.modify_content(ff)
            return ff
        line_mode = self._line_mode
        limit = self._max if strategy in _BUFFERED else None

        def rewrite(src: BinaryIO, dst: BinaryIO) -> None:
            lines = iter_text_lines(src, charset, limit)
            out: list[str] = []
            size = 0
            for line, first, last in _positions(lines):
                if _selected(line_mode, first, last):
                    line = transform(line)
                out.append(line)
                size += len(line)
                if size >= CHUNK:
                    dst.write("".join(out).encode(charset))
                    out.clear()
                    size = 0
            if out:
                dst.write("".join(out).encode(charset))

        ff = session.rewrite(ff, rewrite)
        session.provenance.modify_content(ff)
        return ff

    def _value(
        self, context: ProcessContext, d: PropertyDescriptor, ff: FlowFile
    ) -> str:
        return context.property(d).evaluate(ff).value or ""

    def _stream_entire(
        self, context: ProcessContext, ff: FlowFile
    ) -> Callable[[BinaryIO, BinaryIO], None]:
        """Prepend / Append / Surround / Always Replace over the whole content."""
        strategy, charset = self._strategy, self._charset
        head = tail = ""
        copy = True
        if strategy == PREPEND:
            head = self._value(context, self.REPLACEMENT_VALUE, ff)
        elif strategy == APPEND:
            tail = self._value(context, self.REPLACEMENT_VALUE, ff)
        elif strategy == SURROUND:
            head = self._value(context, self.PREPEND_TEXT, ff)
            tail = self._value(context, self.APPEND_TEXT, ff)
        else:  # Always Replace
            head = self._value(context, self.REPLACEMENT_VALUE, ff)
            copy = False

        def run(src: BinaryIO, dst: BinaryIO) -> None:
            dst.write(head.encode(charset))
            while copy and (chunk := src.read(CHUNK)):
                dst.write(chunk)
            dst.write(tail.encode(charset))

        return run

    def _line_function(
        self, context: ProcessContext, ff: FlowFile
    ) -> Callable[[str], str]:
        """The strategy as a function of one text (a line, or the entire text)."""
        strategy = self._strategy
        if strategy == REGEX_REPLACE:
            return self._regex_function(context, ff)
        if strategy == LITERAL_REPLACE:
            search = self._value(context, self.SEARCH_VALUE, ff)
            repl = self._value(context, self.REPLACEMENT_VALUE, ff)
            return lambda text: text.replace(search, repl) if search in text else text
        if strategy == SUBSTITUTE_VARIABLES:
            attrs = ff.attributes

            def substitute(m: re.Match[str]) -> str:
                # commons-text StringSubstitutor: $${x} is an escaped ${x}; ${x:-d}
                # falls back to d; an unknown name stays as written
                if m.group(1):
                    return m.group(0)[1:]
                name, sep, default = m.group(2).partition(":-")
                value = attrs.get(name)
                if value is None:
                    return default if sep else m.group(0)
                return value

            return lambda text: _VARIABLE.sub(substitute, text)
        if strategy == SURROUND:
            head = self._value(context, self.PREPEND_TEXT, ff)
            tail = self._value(context, self.APPEND_TEXT, ff)
        else:
            head = tail = self._value(context, self.REPLACEMENT_VALUE, ff)
        if strategy == PREPEND:
            return lambda line: head + line
        if strategy == APPEND:

            def append(line: str) -> str:
                cut = _first_eol(line)
                return line[:cut] + tail + line[cut:]

            return append
        if strategy == SURROUND:

            def surround(line: str) -> str:
                cut = _first_eol(line)
                return head + line[:cut] + tail + line[cut:]

            return surround

        def always(line: str) -> str:  # Always Replace: keep the line ending
            return head + line[line_ending(line) :]

        return always

    def _regex_function(
        self, context: ProcessContext, ff: FlowFile
    ) -> Callable[[str], str]:
        search = context.property(self.SEARCH_VALUE)
        try:
            pattern = java_pattern(search.evaluate(ff).value or "")
        except ValueError as exc:
            raise _Bad(f"Search Value: {exc}") from None
        replacement = context.property(self.REPLACEMENT_VALUE)
        if not replacement.has_expressions:
            try:
                template = ReplacementTemplate(
                    replacement.value or "", pattern, normalize=True
                )
            except ValueError as exc:
                raise _Bad(f"Replacement Value: {exc}") from None
            literal = template.literal
            if literal is not None:
                return lambda text: pattern.sub(lambda m: literal, text)
            expand = template.expand
            return lambda text: pattern.sub(expand, text)
        expr = replacement.expression
        groups = pattern.groups

        def per_match(m: re.Match[str]) -> str:
            extras = {f"${i}": m.group(i) or "" for i in range(groups + 1)}
            evaluated = expr.evaluate(ff, extras=extras)
            try:
                template = ReplacementTemplate(evaluated, pattern, normalize=True)
            except ValueError as exc:
                raise _Bad(f"Replacement Value: {exc}") from None
            return template.expand(m)

        return lambda text: pattern.sub(per_match, text)


def _first_eol(line: str) -> int:
    """NiFi's Append (and Surround's append) inserts before the line's first \\r or
    \\n."""
    for i, c in enumerate(line):
        if c in "\r\n":
            return i
    return len(line)


def _positions(lines: Iterator[str]) -> Iterator[tuple[str, bool, bool]]:
    """Each line with (is first, is last), looking one line ahead."""
    prev: str | None = None
    first = True
    for line in lines:
        if prev is not None:
            yield prev, first, False
            first = False
        prev = line
    if prev is not None:
        yield prev, first, True


def _selected(mode: str, first: bool, last: bool) -> bool:
    if mode == ALL:
        return True
    if mode == FIRST_LINE:
        return first
    if mode == LAST_LINE:
        return last
    if mode == EXCEPT_FIRST_LINE:
        return not first
    return not last  # Except-Last-Line


class ReplaceTextWithMapping(Processor):
    """Replaces text found by a regex with values looked up in a mapping file.

    The Mapping File has one ``key<TAB>value`` pair a line. For each match of Regular
    Expression, the text of Matching Group is looked up; when found, that group's text
    within the match is replaced by the value (which may refer to capture groups as
    ``$1``); otherwise the match stays. The file is re-read when it changed and Mapping
    File Refresh Interval has passed. Content over Maximum Buffer Size, or not valid
    in Character Set, goes to ``failure`` with ``error.message``.
    """

    tags = ("Text", "Regular Expression", "Update", "Change", "Replace", "Mapping")
    input_requirement = InputRequirement.REQUIRED
    writes_attributes = {"error.message": "why the FlowFile went to failure"}

    REGEX = PropertyDescriptor(
        "regular_expression",
        "The Java regex to search for.",
        display_name="Regular Expression",
        default="\\S+",
        required=True,
        validators=(JAVA_REGEX,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    MATCHING_GROUP = PropertyDescriptor(
        "matching_group",
        "The capture group whose text is looked up in the mapping (0: the match).",
        display_name="Matching Group",
        default="0",
        required=True,
        validators=(validators.NON_NEGATIVE_INTEGER,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    MAPPING_FILE = PropertyDescriptor(
        "mapping_file",
        "Path of the file of tab-separated key/value lines.",
        display_name="Mapping File",
        required=True,
        validators=(validators.NON_EMPTY,),
    )
    REFRESH = PropertyDescriptor(
        "mapping_file_refresh_interval",
        "How often to check whether the mapping file changed.",
        display_name="Mapping File Refresh Interval",
        default="60s",
        required=True,
        validators=(validators.TIME_PERIOD,),
    )
    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "The character set of the content.",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        validators=(validators.CHARACTER_SET,),
    )
    MAX_BUFFER_SIZE = PropertyDescriptor(
        "maximum_buffer_size",
        "Largest content held in memory; larger goes to failure.",
        display_name="Maximum Buffer Size",
        default="1 MB",
        required=True,
        validators=(validators.DATA_SIZE,),
    )
    SUCCESS = Relationship("success", "FlowFiles processed, replaced or not")
    FAILURE = Relationship("failure", "FlowFiles that could not be updated")

    def custom_validate(self, context: ProcessContext) -> list[str]:
        path = context.property(self.MAPPING_FILE).value or ""
        if not os.path.isfile(path):
            return [f"Mapping File {path!r} does not exist or is not a file"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._path = context.property(self.MAPPING_FILE).value or ""
        self._refresh = context.property(self.REFRESH).as_duration() or 0.0
        self._charset = codec_name(
            context.property(self.CHARACTER_SET).value or "utf-8"
        )
        self._max = context.property(self.MAX_BUFFER_SIZE).as_data_size() or 0
        self._mapping: dict[str, str] = {}
        self._mtime: float | None = None
        self._checked = 0.0
        self._load()

    def _load(self) -> None:
        """(Re)read the mapping when the file changed; keep the old one if it vanished."""
        try:
            mtime = os.stat(self._path).st_mtime
        except OSError:
            return
        if mtime == self._mtime:
            return
        mapping: dict[str, str] = {}
        with open(self._path, encoding="utf-8") as f:
            for raw in f:
                line = raw.rstrip("\r\n")
                key, sep, value = line.partition("\t")
                if sep and key:
                    mapping[key] = value
        self._mapping, self._mtime = mapping, mtime

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        now = time.monotonic()
        if now - self._checked >= self._refresh:
            self._load()
            self._checked = now
        ok = []
        for ff in session.get(context.batch_size):
            try:
                ff = self._replace(context, session, ff)
            except (_Bad, UnicodeError, ExpressionError, ValueError) as exc:
                ff = session.put_attribute(ff, "error.message", str(exc))
                session.transfer(ff, self.FAILURE)
                continue
            ok.append(ff)
        session.transfer(ok, self.SUCCESS)

    def _replace(
        self, context: ProcessContext, session: ProcessSession, ff: FlowFile
    ) -> FlowFile:
        if ff.size > self._max:
            raise _Bad(
                f"content of {ff.size} bytes exceeds the Maximum Buffer Size of "
                f"{self._max} bytes"
            )
        pattern = java_pattern(context.property(self.REGEX).evaluate(ff).value or "")
        group = int(context.property(self.MATCHING_GROUP).evaluate(ff).value or "0")
        if group > pattern.groups:
            raise _Bad(
                f"Matching Group {group} but the regex has {pattern.groups} group(s)"
            )
        with session.open(ff) as src:
            text = read_prefix(src, ff.size).decode(self._charset)
        new = _map_matches(text, pattern, group, self._mapping)
        if new == text:
            return ff
        ff = session.write(ff, new.encode(self._charset))
        session.provenance.modify_content(ff)
        return ff


def _map_matches(
    text: str, pattern: re.Pattern[str], group: int, mapping: Mapping[str, str]
) -> str:
    templates: dict[str, ReplacementTemplate] = {}

    def replace(m: re.Match[str]) -> str:
        matched = m.group(group)
        value = mapping.get(matched) if matched is not None else None
        if value is None:
            return m.group(0)
        t = templates.get(value)
        if t is None:
            t = templates[value] = ReplacementTemplate(value, pattern)
        start = m.start(group) - m.start()
        end = start + len(matched)
        whole = m.group(0)
        return whole[:start] + t.expand(m) + whole[end:]

    return pattern.sub(replace, text)
