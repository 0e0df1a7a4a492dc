"""GrokReader: log lines to records with Grok expressions (NiFi's GrokReader).

Every line that matches one of the Grok Expressions (the first that matches wins)
starts a record: its captures as string fields, the line itself in ``_raw``. A line
that matches none is handled by No Match Behavior: appended to the previous record
(a Java stack-trace line — ``\\tat ...``, ``Caused by: ...``, ``... 5 more``,
``x.y.SomeException: ...`` — goes to its ``stackTrace`` field, any other line to its
last non-null field), skipped, or made a record holding only ``_raw``.

Input is read line by line and records are emitted in batches, so memory stays flat
in the input size (one pending record is held back, as a later line may extend it).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import pyarrow as pa
from flowengine.processors.grok import Grok, GrokError, load_patterns, problem

from flowengine import (
    AllowableValue,
    ConfigurationContext,
    ControllerService,
    PropertyDescriptor,
    validators,
)

from ._api import RecordError, RecordReader, RecordReaderFactory
from ._common import NAME, TEXT, SchemaAccess, schema_properties
from .schema import conform

__all__ = ["GrokReader"]

STRING_FIELDS = "string-fields-from-grok-expression"
APPEND = "append-to-previous-message"
SKIP = "skip-line"
RAW = "raw-line"
STACK_TRACE = "stackTrace"
RAW_FIELD = "_raw"
_BATCH = 8192
_STACK_LINE = re.compile(
    r"^(?:\s+at\s|\s*Caused by:|\s+\.\.\.\s+\d+\s+more|\s*Suppressed:|"
    r"[\w$.]+(?:Exception|Error|Throwable)(?::|$))"
)

_, _TEXT_PROP, _REGISTRY_PROP, _NAME_PROP = schema_properties(TEXT, NAME)


class _GrokRecordReader(RecordReader):
    def __init__(
        self,
        source: BinaryIO,
        groks: list[Grok],
        names: list[str],
        behavior: str,
        charset: str,
        declared: pa.Schema | None,
    ) -> None:
        self._text = io.TextIOWrapper(
            source, encoding=charset, errors="replace", newline=None
        )
        self._groks = groks
        self._names = names
        self._behavior = behavior
        self._inferred = pa.schema([pa.field(n, pa.string()) for n in names])
        self._declared = declared

    @property
    def schema(self) -> pa.Schema:
        return self._declared if self._declared is not None else self._inferred

    def _match(self, line: str) -> dict[str, Any] | None:
        for grok in self._groks:
            m = grok.regex.search(line)
            if m is not None:
                captures = grok.captures(m)
                if not grok.simple:  # several captures of one field: a list -> text
                    captures = {k: _text(v) for k, v in captures.items()}
                return captures
        return None

    def _batch(self, rows: list[dict[str, Any]], first: int) -> pa.RecordBatch:
        batch = pa.RecordBatch.from_pylist(rows, schema=self._inferred)
        if self._declared is not None:
            batch = conform(batch, self._declared, first)
        return batch

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        rows: list[dict[str, Any]] = []
        pending: dict[str, Any] | None = None
        done = 0
        fields = [n for n in self._names if n not in (STACK_TRACE, RAW_FIELD)]
        for raw in self._text:
            line = raw.rstrip("\r\n")
            captures = self._match(line)
            if captures is not None:
                captures[RAW_FIELD] = line
                if pending is not None:
                    rows.append(pending)
                pending = captures
            elif self._behavior == RAW:
                if pending is not None:
                    rows.append(pending)
                pending = {RAW_FIELD: line}
            elif self._behavior == APPEND and pending is not None:
                if _STACK_LINE.match(line):
                    old = pending.get(STACK_TRACE)
                    pending[STACK_TRACE] = line if old is None else f"{old}\n{line}"
                else:
                    last = next(
                        (f for f in reversed(fields) if pending.get(f) is not None),
                        None,
                    )
                    if last is not None:
                        pending[last] = f"{_text(pending[last])}\n{line}"
                pending[RAW_FIELD] = f"{pending[RAW_FIELD]}\n{line}"
            # SKIP, or APPEND with no previous record: the line is dropped
            if len(rows) >= _BATCH:
                yield self._batch(rows, done + 1)
                done += len(rows)
                rows = []
        if pending is not None:
            rows.append(pending)
        if rows:
            yield self._batch(rows, done + 1)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


class GrokReader(RecordReaderFactory, ControllerService):
    """Reads log lines as records with Grok expressions (NiFi's GrokReader).

    The default schema (Use String Fields From Grok Expression) has one string field per
    named capture of the expressions, in order, then ``stackTrace`` and ``_raw``; with
    Schema Text or Schema Name the records are cast to the declared schema. Only named
    captures become fields. An unknown pattern name is rejected when the flow is
    validated, with its column and a hint.
    """

    tags = (
        "grok",
        "logs",
        "logfiles",
        "parse",
        "unstructured",
        "text",
        "record",
        "reader",
        "regex",
        "pattern",
        "logstash",
    )

    SCHEMA_ACCESS_STRATEGY = PropertyDescriptor(
        "schema_access_strategy",
        "Where the schema comes from.",
        display_name="Schema Access Strategy",
        default=STRING_FIELDS,
        required=True,
        allowable_values=(
            AllowableValue(
                STRING_FIELDS,
                "Use String Fields From Grok Expression",
                "The schema will be derived by using the field names present in all configured Grok Expressions. All schema fields will have a String type and will be marked as nullable. The schema will also include a `stackTrace` field, and a `_raw` field containing the input line string value.",
            ),
            AllowableValue(
                TEXT, "Use 'Schema Text' Property", "The schema declared in Schema Text"
            ),
            AllowableValue(
                NAME,
                "Use 'Schema Name' Property",
                "The schema a Schema Registry holds under Schema Name",
            ),
        ),
    )
    SCHEMA_TEXT = _TEXT_PROP
    SCHEMA_REGISTRY = _REGISTRY_PROP
    SCHEMA_NAME = _NAME_PROP
    GROK_PATTERNS = PropertyDescriptor(
        "grok_patterns",
        "Grok Patterns to use for parsing logs. If not specified, a built-in default "
        "Pattern file will be used. Comma-separated pattern files, or the definitions "
        "themselves (one 'NAME regex' per line).",
        display_name="Grok Patterns",
    )
    GROK_EXPRESSION = PropertyDescriptor(
        "grok_expression",
        "Specifies the format of a log line in Grok format. This allows the Record Reader "
        "to understand how to parse each log line. The property supports one or more "
        "Grok expressions, one per line; the first that matches a line is used.",
        display_name="Grok Expressions",
        required=True,
        validators=(validators.NON_EMPTY,),
    )
    NO_MATCH_BEHAVIOR = PropertyDescriptor(
        "no_match_behavior",
        "If a line of text is encountered and it does not match the given Grok "
        "Expression, and it is not part of a stack trace, this property specifies how "
        "the text should be processed.",
        display_name="No Match Behavior",
        default=APPEND,
        required=True,
        allowable_values=(
            AllowableValue(
                APPEND,
                "Append to Previous Message",
                "The line of text that does not match the Grok Expression will be appended to the last field of the prior message.",
            ),
            AllowableValue(
                SKIP,
                "Skip Line",
                "The line of text that does not match the Grok Expression will be skipped.",
            ),
            AllowableValue(
                RAW,
                "Raw Line",
                "The line of text that does not match the Grok Expression will only be added to the _raw field.",
            ),
        ),
    )
    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "The character set of the log lines.",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        validators=(validators.CHARACTER_SET,),
    )

    def _compile(self, context: ConfigurationContext) -> list[Grok]:
        patterns = load_patterns(context.property(self.GROK_PATTERNS).value)
        lines = [
            x
            for x in (context.property(self.GROK_EXPRESSION).value or "").splitlines()
            if x.strip()
        ]
        return [Grok(x, patterns, named_only=True) for x in lines]

    def on_enabled(self, context: ConfigurationContext) -> None:
        try:
            self._groks = self._compile(context)
        except (GrokError, OSError) as exc:
            raise ValueError(f"Grok Expressions: {problem(exc)}") from None
        names: list[str] = []
        for g in self._groks:
            names.extend(n for n in g.field_names if n not in names)
        self._names = [
            *(n for n in names if n not in (STACK_TRACE, RAW_FIELD)),
            STACK_TRACE,
            RAW_FIELD,
        ]
        self._behavior = context.property(self.NO_MATCH_BEHAVIOR).value or APPEND
        self._charset = context.property(self.CHARACTER_SET).value or "UTF-8"
        self._access = SchemaAccess(context)

    def create_reader(
        self,
        source: BinaryIO,
        attributes: Mapping[str, str] | None = None,
        *,
        on_invalid: str = "error",
    ) -> RecordReader:
        try:
            declared = self._access.schema_for(attributes)
        except (RecordError, ValueError) as exc:
            raise RecordError(str(exc)) from None
        return _GrokRecordReader(
            source, self._groks, self._names, self._behavior, self._charset, declared
        )
