"""CSVReader and CSVRecordSetWriter on pyarrow's streaming CSV reader and writer.

The reader parses block by block (``pyarrow.csv.open_csv``), so memory stays bounded by
the block size whatever the file size. Malformed rows (wrong column count, bad quoting)
and values that do not convert raise :class:`RecordError` naming the line; readers opened
with ``on_invalid="skip"`` (ValidateRecord) collect malformed rows instead.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from flowengine import (
    AllowableValue,
    ConfigurationContext,
    ControllerService,
    PropertyDescriptor,
    validators,
)

from ._api import (
    Attributes,
    RecordError,
    RecordReader,
    RecordReaderFactory,
    RecordSetWriter,
    RecordSetWriterFactory,
    WriteResult,
)
from ._common import (
    INFER,
    INHERIT,
    NAME,
    TEXT,
    SchemaAccess,
    arrow_input,
    schema_properties,
)
from .schema import as_batches, conform, first_bad_index, format_type

__all__ = ["CSVReader", "CSVRecordSetWriter", "InvalidRow"]

_BLOCK = 1 << 20


def _char(value: str | None) -> str:
    """Unescape a one-character property (``\\t`` for tab)."""
    if not value:
        return ""
    return (
        codecs.decode(value, "unicode_escape")
        if "\\" in value and len(value) > 1
        else value
    )


def _one_char(
    name: str, label: str, default: str | None, description: str
) -> PropertyDescriptor:
    return PropertyDescriptor(name, description, display_name=label, default=default)


CUSTOM = "custom"
#: NiFi's CSV Format presets: (value separator, quote, escape)
_PRESETS = {
    "rfc-4180": (",", '"', ""),
    "excel": (",", '"', ""),
    "tdf": ("\t", '"', ""),
    "mysql": ("\t", "", "\\"),
}


def _format_descriptor() -> PropertyDescriptor:
    return PropertyDescriptor(
        "csv_format",
        "A preset of separator, quote and escape (Custom Format: use those properties).",
        display_name="CSV Format",
        default=CUSTOM,
        allowable_values=(
            AllowableValue(
                CUSTOM,
                "Custom Format",
                "Value Separator, Quote and Escape Character as set",
            ),
            AllowableValue(
                "rfc-4180", "RFC 4180", "Comma separated, double quotes, quotes doubled"
            ),
            AllowableValue("excel", "Microsoft Excel", "As Excel writes CSV"),
            AllowableValue("tdf", "Tab-Delimited", "Tab separated, double quotes"),
            AllowableValue(
                "mysql", "MySQL Format", "Tab separated, no quotes, backslash escapes"
            ),
        ),
    )


def _dialect(
    context: ConfigurationContext, delimiter: Any, quote: Any, escape: Any
) -> tuple[str, str, str]:
    preset = _PRESETS.get(context.property("csv_format").value or CUSTOM)
    if preset is not None:
        return preset
    return (
        _char(context.property(delimiter).value) or ",",
        _char(context.property(quote).value),
        _char(context.property(escape).value),
    )


class InvalidRow:
    """A malformed row a lenient reader skipped: its line (when known) and text."""

    __slots__ = ("line", "reason", "text")

    def __init__(self, line: int | None, text: str, reason: str) -> None:
        self.line = line
        self.text = text
        self.reason = reason

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "a row"
        return f"{where}: {self.reason}: {self.text[:200]!r}"


def _size_text(size: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


class _CSVRecordReader(RecordReader):
    def __init__(
        self,
        factory: CSVReader,
        source: BinaryIO,
        schema: pa.Schema | None,
        on_invalid: str,
    ) -> None:
        self._factory = factory
        self._source = source
        self._declared = schema
        self._on_invalid = on_invalid
        self.invalid_rows: list[InvalidRow] = []
        self._rows = 0
        # Lenient readers report skipped rows by line, which only serial parsing knows.
        self._reader: Any = None
        source.seek(0)
        if not source.read(4096).strip():  # empty content: no records (NiFi's view)
            self._schema = schema if schema is not None else pa.schema([])
            self._binary_column = -1
            return
        self._reader = self._open(use_threads=on_invalid != "skip")
        self._schema = schema if schema is not None else self._reader.schema
        self._check_binary(self._reader.schema)

    def _open(
        self,
        use_threads: bool,
        as_strings: bool = False,
        handler: Any = None,
        raw: bool = False,
        typed: pa.Schema | None = None,
    ) -> Any:
        f = self._factory
        schema = self._declared
        typed = typed if typed is not None else schema
        read = pcsv.ReadOptions(
            use_threads=use_threads,
            block_size=f.block_size,
            skip_rows=f.skip_rows,
            autogenerate_column_names=not f.header and schema is None,
            column_names=None if f.header or schema is None else schema.names,
            encoding=f.encoding,
        )
        parse = pcsv.ParseOptions(
            delimiter=f.delimiter,
            quote_char=f.quote or False,
            escape_char=f.escape or False,
            double_quote=True,
            newlines_in_values=f.newlines_in_values,
            ignore_empty_lines=True,
            invalid_row_handler=handler or self._invalid,
        )
        types: dict[str, pa.DataType] = {}
        if typed is not None:
            types = {
                n: (pa.string() if as_strings else t)
                for n, t in zip(typed.names, typed.types, strict=True)
            }
        convert = pcsv.ConvertOptions(
            column_types=types,
            null_values=f.null_values,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["true", "True", "TRUE"],
            false_values=["false", "False", "FALSE"],
            timestamp_parsers=f.timestamp_parsers,
            include_columns=typed.names if typed is not None else None,
            include_missing_columns=typed is not None,
        )
        self._source.seek(0)
        try:
            return pcsv.open_csv(
                arrow_input(self._source),
                read_options=read,
                parse_options=parse,
                convert_options=convert,
            )
        except pa.ArrowInvalid as exc:
            if raw:
                raise
            raise self._locate(exc) from None

    def _invalid(self, row: Any) -> str:
        reason = f"expected {row.expected_columns} columns, got {row.actual_columns}"
        self.invalid_rows.append(InvalidRow(row.number, row.text, reason))
        return "skip" if self._on_invalid == "skip" else "error"

    def _check_binary(self, schema: pa.Schema) -> None:
        if (
            self._declared is None
            and self._factory.encoding.lower().replace("-", "") == "utf8"
        ):
            for i, t in enumerate(schema.types):
                if pa.types.is_binary(t):
                    self._binary_column = i
                    return
        self._binary_column = -1

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        declared = self._declared
        while self._reader is not None:
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                raise self._locate(exc) from None
            first = self._rows + 1
            self._rows += batch.num_rows
            if self._binary_column >= 0:
                raise self._undecodable(batch, first)
            self._check_quotes(batch)
            if declared is not None:
                batch = conform(batch, declared, first)
            yield batch

    def _check_quotes(self, batch: pa.RecordBatch) -> None:
        """Without newlines in values, a line break inside a value can only come from
        an unterminated quote that merged the following lines into it (or swallowed the
        rest of its block): fail at the first such record rather than pass it as data."""
        if not batch.num_rows or self._factory.newlines_in_values:
            return
        first = self._rows - batch.num_rows + 1
        found: tuple[int, str, str] | None = None
        for i, col in enumerate(batch.columns):
            if not pa.types.is_string(col.type):
                continue
            hits = pc.match_substring_regex(col, "[\r\n]")
            if not pc.any(hits).as_py():
                continue
            index = pc.index(hits, True).as_py()
            if found is None or index < found[0]:
                found = (index, batch.schema.names[i], col[index].as_py())
        if found is None:
            return
        index, name, value = found
        record = first + index
        line = self._line_of(record)
        raise RecordError(
            f"line {line} (record {record}): unterminated quote in field {name!r}: "
            f"{value[:60]!r} (line breaks in values need Allow Newlines in Values)",
            line=line,
            row=record,
        )

    def _line_of(self, record: int) -> int:
        f = self._factory
        return f.skip_rows + (1 if f.header else 0) + record

    def _undecodable(self, batch: pa.RecordBatch, first: int) -> RecordError:
        col = batch.column(self._binary_column)
        bad = first_bad_index(col, pa.string()) or 0
        row = first + bad
        name = batch.schema.names[self._binary_column]
        return RecordError(
            f"line {self._line_of(row)} (record {row}): field {name!r} has bytes that are not valid {self._factory.encoding}",
            line=self._line_of(row),
            row=row,
        )

    def _locate(self, exc: Exception) -> RecordError:
        """Turn a pyarrow error into one naming the line (rescanning on the error path)."""
        old = getattr(self, "_reader", None)
        if old is not None:  # stop its read-ahead before the source is read again
            old.close()
            self._reader = None
        if self.invalid_rows:
            bad = self.invalid_rows[-1]
            if (
                bad.line is None
            ):  # parallel parsing does not number rows: rescan serially
                found: list[Any] = []

                def first(row: Any) -> str:
                    found.append(row)
                    return "error"

                try:
                    for _ in self._open(False, handler=first, raw=True):
                        pass
                except pa.ArrowInvalid:
                    pass
                if found:
                    bad.line = found[0].number
            return RecordError(f"malformed CSV {bad}", line=bad.line)
        text = str(exc)
        if (
            "straddles two block boundaries" in text
            or "Empty CSV file or block" in text
        ):
            return self._too_long()
        typed = (
            self._declared
            if self._declared is not None
            else getattr(self, "_schema", None)
        )
        if "conversion error" in text and typed is not None:
            loc = self._locate_conversion(typed)
            if loc is not None:
                return loc
        return RecordError(f"invalid CSV: {text}")

    def _too_long(self) -> RecordError:
        """pyarrow's reason when a line does not fit in one block ("Empty CSV file or
        block", "straddling object"): name the first line longer than the block, read
        in pieces of at most a block (memory stays bounded), and the property."""
        size = self._factory.block_size
        hint = (
            f"is longer than the Block Size ({_size_text(size)}): raise the CSVReader's "
            "Block Size property above the longest line"
        )
        self._source.seek(0)
        line = 1
        while piece := self._source.readline(size + 1):
            if len(piece) > size and not piece.endswith(b"\n"):
                return RecordError(f"line {line}: the line {hint}", line=line)
            if piece.endswith(b"\n"):
                line += 1
        return RecordError(f"a record (its quoted line breaks included) {hint}")

    def _locate_conversion(self, typed: pa.Schema) -> RecordError | None:
        row = 0
        try:  # streamed again, every column as text, then cast column by column
            for batch in self._open(False, as_strings=True, raw=True, typed=typed):
                found = self._misfit(batch, row, typed)
                if found is not None:
                    return found
                row += batch.num_rows
        except pa.ArrowInvalid:
            return None
        return None

    def _misfit(
        self, batch: pa.RecordBatch, row: int, typed: pa.Schema
    ) -> RecordError | None:
        hint = (
            ""
            if self._declared is not None
            else " (the type inferred from the first block; declare a schema to change it)"
        )
        for f in typed:
            col = batch.column(batch.schema.get_field_index(f.name))
            bad = first_bad_index(col, f.type)
            if bad is not None:
                rec = row + bad + 1
                line = self._line_of(rec)
                return RecordError(
                    f"line {line} (record {rec}): field {f.name!r} value {col[bad].as_py()!r} "
                    f"does not fit {format_type(f.type)}{hint}",
                    line=line,
                    row=rec,
                )
        return None


class CSVReader(RecordReaderFactory, ControllerService):
    """Parses CSV into records, streaming block by block (pyarrow's CSV reader).

    The schema is inferred from the data (types from the first block, names from the
    header) or declared in Schema Text; declared fields are matched to header names.
    """

    tags = (
        "csv",
        "parse",
        "record",
        "reader",
        "delimited",
        "comma",
        "separated",
        "values",
    )

    SCHEMA_ACCESS_STRATEGY, SCHEMA_TEXT, SCHEMA_REGISTRY, SCHEMA_NAME = (
        schema_properties(INFER, TEXT, NAME)
    )
    CSV_FORMAT = _format_descriptor()
    HEADER = PropertyDescriptor(
        "treat_first_line_as_header",
        "The first line names the columns.",
        display_name="Treat First Line as Header",
        default="true",
        validators=(validators.BOOLEAN,),
    )
    SKIP_ROWS = PropertyDescriptor(
        "skip_rows",
        "Lines to skip before the header (or the first record).",
        display_name="Skip Header Lines",
        default="0",
        validators=(validators.NON_NEGATIVE_INTEGER,),
    )
    DELIMITER = _one_char(
        "value_separator",
        "Value Separator",
        ",",
        "The character between values (\\t for tab).",
    )
    QUOTE = _one_char(
        "quote_character", "Quote Character", '"', "The character that quotes values."
    )
    ESCAPE = _one_char(
        "escape_character",
        "Escape Character",
        "",
        "The character that escapes the next one (none by default; quotes are doubled).",
    )
    NULL_STRING = PropertyDescriptor(
        "null_string",
        "A value that means null (unquoted).",
        display_name="Null String",
    )
    NEWLINES = PropertyDescriptor(
        "allow_newlines_in_values",
        "Quoted values may contain line breaks (slower parsing when true).",
        display_name="Allow Newlines in Values",
        default="false",
        validators=(validators.BOOLEAN,),
    )
    TIMESTAMP_FORMAT = PropertyDescriptor(
        "timestamp_format",
        "strptime format of timestamps (ISO 8601 is always accepted).",
        display_name="Timestamp Format",
    )
    CHARSET = PropertyDescriptor(
        "character_set",
        "Encoding of the input.",
        display_name="Character Set",
        default="UTF-8",
        validators=(validators.CHARACTER_SET,),
    )
    BLOCK_SIZE = PropertyDescriptor(
        "block_size",
        "Bytes parsed per batch.",
        display_name="Block Size",
        default="1 MB",
        validators=(validators.DATA_SIZE,),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self.access = SchemaAccess(context)
        self.header = bool(context.property(self.HEADER).as_bool())
        self.skip_rows = int(context.property(self.SKIP_ROWS).as_int() or 0)
        self.delimiter, self.quote, self.escape = _dialect(
            context, self.DELIMITER, self.QUOTE, self.ESCAPE
        )
        self.null_string = context.property(self.NULL_STRING).value
        self.null_values = [self.null_string] if self.null_string else [""]
        self.newlines_in_values = bool(context.property(self.NEWLINES).as_bool())
        fmt = context.property(self.TIMESTAMP_FORMAT).value
        self.timestamp_parsers: list[Any] = [pcsv.ISO8601] + ([fmt] if fmt else [])
        self.encoding = codecs.lookup(
            context.property(self.CHARSET).value or "utf-8"
        ).name
        self.block_size = int(
            context.property(self.BLOCK_SIZE).as_data_size() or _BLOCK
        )

    def create_reader(
        self,
        source: BinaryIO,
        attributes: Attributes | None = None,
        *,
        on_invalid: str = "error",
    ) -> RecordReader:
        """Open a reader; ``on_invalid="skip"`` collects malformed rows in ``invalid_rows``."""
        return _CSVRecordReader(
            self, source, self.access.schema_for(attributes), on_invalid
        )


class _CSVWriter(RecordSetWriter):
    def __init__(
        self,
        factory: CSVRecordSetWriter,
        sink: BinaryIO,
        schema: pa.Schema,
        declared: pa.Schema | None,
    ) -> None:
        self._factory = factory
        self._sink = sink
        self._schema = declared or schema
        self._declared = declared
        self._writer: Any = None
        self.record_count = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        for b in as_batches(batch):
            self._write(b)

    def _write(self, batch: pa.RecordBatch) -> None:
        f = self._factory
        if self._declared is not None:
            batch = conform(batch, self._declared, self.record_count + 1)
        if self._writer is None:
            options = pcsv.WriteOptions(
                include_header=f.header,
                delimiter=f.delimiter,
                quoting_style=f.quoting,
            )
            self._writer = pcsv.CSVWriter(
                self._sink, batch.schema, write_options=options
            )
        self._writer.write(batch)
        self.record_count += batch.num_rows

    def finish(self) -> WriteResult:
        if self._writer is None:  # no records: still write the header
            self._writer = pcsv.CSVWriter(
                self._sink,
                self._schema,
                write_options=pcsv.WriteOptions(
                    include_header=self._factory.header,
                    delimiter=self._factory.delimiter,
                ),
            )
        self._writer.close()
        return WriteResult(
            self.record_count, {"mime.type": CSVRecordSetWriter.mime_type}
        )


class CSVRecordSetWriter(RecordSetWriterFactory, ControllerService):
    """Writes records as CSV (pyarrow's CSV writer): header, delimiter, quoting."""

    tags = (
        "csv",
        "result",
        "set",
        "recordset",
        "record",
        "writer",
        "serializer",
        "row",
        "tsv",
        "tab",
        "separated",
        "delimited",
    )
    mime_type = "text/csv"

    SCHEMA_ACCESS_STRATEGY, SCHEMA_TEXT, SCHEMA_REGISTRY, SCHEMA_NAME = (
        schema_properties(INHERIT, TEXT, NAME)
    )
    CSV_FORMAT = _format_descriptor()
    HEADER = PropertyDescriptor(
        "include_header_line",
        "Write a header line.",
        display_name="Include Header Line",
        default="true",
        validators=(validators.BOOLEAN,),
    )
    DELIMITER = _one_char(
        "value_separator",
        "Value Separator",
        ",",
        "The character between values (\\t for tab).",
    )
    QUOTE_MODE = PropertyDescriptor(
        "quote_mode",
        "When values are quoted.",
        display_name="Quote Mode",
        default="needed",
        allowable_values=(
            AllowableValue("needed", "Quote When Needed", "Quote values that need it"),
            AllowableValue(
                "all_valid", "Quote All Values", "Quote every non-null value"
            ),
            AllowableValue(
                "none", "Do Not Quote", "Never quote (values must not need it)"
            ),
        ),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self.access = SchemaAccess(context)
        self.header = bool(context.property(self.HEADER).as_bool())
        fmt = context.property(self.CSV_FORMAT).value or CUSTOM
        self.delimiter = (
            _PRESETS[fmt][0]
            if fmt in _PRESETS
            else _char(context.property(self.DELIMITER).value) or ","
        )
        self.quoting = (
            "none"
            if fmt == "mysql"
            else context.property(self.QUOTE_MODE).value or "needed"
        )

    def create_writer(
        self, sink: BinaryIO, schema: pa.Schema, attributes: Attributes | None = None
    ) -> RecordSetWriter:
        return _CSVWriter(self, sink, schema, self.access.schema_for(attributes))
