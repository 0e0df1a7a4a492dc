"""JsonTreeReader and JsonRecordSetWriter: JSON lines or a JSON array, nested types.

Reading uses pyarrow's streaming JSON reader (``open_json``), block by block. JSON lines
(one object per line, the fast path) stream as they are; a top-level array is turned into
JSON lines element by element on the fly (Python's C decoder finds element boundaries),
so arrays stream too, at Python speed. Writing turns batches into JSON text with DuckDB's
``to_json`` (vectorized, nested types included), or Python's ``json`` when pretty-printing.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from flowengine import (
    AllowableValue,
    ConfigurationContext,
    ControllerService,
    PropertyDescriptor,
    validators,
)

from . import duck
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
from .csv_format import InvalidRow, _size_text
from .schema import as_batches, conform

__all__ = ["JsonRecordSetWriter", "JsonTreeReader"]

_CHUNK = 1 << 20
#: a decode error this close to the end of the buffer may be a value cut by the buffer
_TRUNCATION_MARGIN = 64
_MAX_RECORD = 20 << 20
#: content up to this size is read in Python (per-FlowFile set-up dominates there)
_SMALL = 64 << 10
#: batches up to this many records are written by Python's json (DuckDB's set-up
#: dominates there), when ``_plain`` says both would write the same text
_SMALL_BATCH = 256
_TOO_DEEP = "the value is nested too deeply to be read"
#: records per chunk when types are widened in Python
_WIDEN_ROWS = 10_000


def _first_char(source: BinaryIO) -> bytes:
    source.seek(0)
    while True:
        chunk = source.read(4096)
        if not chunk:
            source.seek(0)
            return b""
        stripped = chunk.lstrip(b" \t\r\n\xef\xbb\xbf")
        if stripped:
            source.seek(0)
            return stripped[:1]


class _ArrayAsLines(io.RawIOBase):
    """A readable stream of JSON lines made from a stream holding one JSON array."""

    def __init__(self, source: BinaryIO, max_record: int = _MAX_RECORD) -> None:
        super().__init__()
        self._source = source
        self._max = max_record
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._json = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._consumed_lines = 0
        self._mark = 0  # newlines of the buffer are counted up to here...
        self._mark_lines = 0  # ...and there are this many (line numbers cost O(1))
        self._started = False
        self._done = False
        self._eof = False
        self._out = b""
        self.records = 0

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        if self._eof:
            return False
        raw = self._source.read(_CHUNK)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise RecordError(
                f"JSON is not valid UTF-8 near line {self._line()}: {exc.reason}"
            ) from None
        if not raw:
            self._eof = True
        self._consumed_lines = self._line() - 1
        self._mark = self._mark_lines = 0
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        return bool(raw)

    def _line(self) -> int:
        """The 1-based line of the position (counted incrementally: positions only
        move forward within a buffer)."""
        pos = self._pos
        if pos < self._mark:
            self._mark = self._mark_lines = 0
        self._mark_lines += self._buf.count("\n", self._mark, pos)
        self._mark = pos
        return self._consumed_lines + self._mark_lines + 1

    def _skip(self, chars: str) -> str:
        while True:
            buf, pos = self._buf, self._pos
            while pos < len(buf) and buf[pos] in chars:
                pos += 1
            self._pos = pos
            if pos < len(buf) or not self._fill():
                return self._buf[self._pos] if self._pos < len(self._buf) else ""

    def _decode(self) -> tuple[Any, str | None]:
        """Decode the value at the position: ``(value, None)``, or ``(None, reason)``
        when it is not valid JSON. Reads more input only when the error may come from
        the buffer ending mid-value, so a bad element early in a large array is found
        without reading the rest."""
        while True:
            try:
                value, end = self._json.raw_decode(self._buf, self._pos)
                if end == len(self._buf) and not self._eof:
                    raise json.JSONDecodeError("maybe truncated", self._buf, end)
            except RecursionError:
                return None, _TOO_DEEP
            except json.JSONDecodeError as exc:
                maybe_truncated = exc.pos >= len(
                    self._buf
                ) - _TRUNCATION_MARGIN or exc.msg.startswith("Unterminated string")
                if maybe_truncated and not self._eof:
                    if len(self._buf) - self._pos > self._max:
                        line = self._line()
                        raise RecordError(
                            f"line {line} (record {self.records + 1}): the record is "
                            f"longer than Max String Length ({_size_text(self._max)})",
                            line=line,
                            row=self.records + 1,
                        ) from None
                    self._fill()  # (moves the buffer: decode again, also at the end)
                    continue
                if exc.pos >= len(self._buf):
                    return None, "the input ends inside a value"
                return None, exc.msg
            self._pos = end
            return value, None

    def _element_end(self) -> int:
        """Where the (invalid) element at the position ends: the next ``,`` or ``]``
        outside strings and brackets, or the end of the input."""
        depth, in_string, escaped = 0, False, False
        i = self._pos
        while True:
            buf = self._buf
            while i < len(buf):
                ch = buf[i]
                if in_string:
                    if escaped:
                        escaped = False
                    elif ch == "\\":
                        escaped = True
                    elif (
                        ch == '"' or ch == "\n"
                    ):  # (a raw newline ends a broken string)
                        in_string = False
                elif ch == '"':
                    in_string = True
                elif ch in "{[":
                    depth += 1
                elif ch in "}]":
                    if depth == 0:
                        return i
                    depth -= 1
                elif ch == "," and depth == 0:
                    return i
                i += 1
            offset = i - self._pos
            if not self._fill():
                return len(self._buf)
            i = self._pos + offset

    def _produce(self) -> bytes:
        out: list[str] = []
        size = 0
        while size < _CHUNK and not self._done:
            if not self._started:
                if self._skip(" \t\r\n") != "[":
                    raise RecordError(f"line {self._line()}: expected a JSON array")
                self._pos += 1
                self._started = True
            c = self._skip(" \t\r\n,")
            if c == "]":
                self._pos += 1
                if self._skip(" \t\r\n") != "":
                    raise RecordError(
                        f"line {self._line()}: unexpected data after the JSON array"
                    )
                self._done = True
                break
            if c == "":
                raise RecordError(f"line {self._line()}: the JSON array is not closed")
            value, reason = self._decode()
            if reason is not None:
                line = self._line()  # (a failed decode leaves it at the element)
                raise RecordError(
                    f"invalid JSON at line {line} (record {self.records + 1}): {reason}",
                    line=line,
                    row=self.records + 1,
                )
            if not isinstance(value, dict):
                line = self._line()  # (where the element ends)
                raise RecordError(
                    f"line {line}: array element {self.records + 1} is not a JSON object",
                    line=line,
                    row=self.records + 1,
                )
            self.records += 1
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            out.append(text)
            size += len(text)
        return ("\n".join(out) + "\n").encode("utf-8") if out else b""

    def elements(self) -> Iterator[tuple[int, bytes, str | None]]:
        """Lenient reading: ``(line, text, reason)`` per element, the text one line of
        compact JSON; an element that is not valid JSON comes as written with the
        reason (``text`` may then span lines), and reading goes on after it."""
        ws = " \t\r\n"
        try:
            if self._skip(ws) != "[":
                yield self._line(), self._rest(), "expected a JSON array"
                return
            self._pos += 1
            while True:
                c = self._skip(ws + ",")
                line = self._line()
                if c == "]":
                    self._pos += 1
                    if self._skip(ws) != "":
                        line = self._line()
                        yield line, self._rest(), "unexpected data after the JSON array"
                    return
                if c == "":
                    yield line, b"", "the JSON array is not closed"
                    return
                value, reason = self._decode()
                if reason is None:
                    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
                    yield line, text.encode("utf-8"), None
                    continue
                # A failed decode leaves the position at the element, and so does
                # reading on (which moves the buffer): the element starts there.
                end = self._element_end()
                raw = self._buf[self._pos : end].rstrip()
                self._pos = end
                yield line, raw.encode("utf-8"), f"invalid JSON: {reason}"
                if end >= len(self._buf) and self._eof:
                    return  # (it ran to the end: the array is not closed either)
        except RecordError as exc:  # undecodable bytes: the rest cannot be read
            yield self._line(), b"", str(exc)

    def _rest(self) -> bytes:
        while self._fill():
            pass
        rest, self._pos = self._buf[self._pos :], len(self._buf)
        return rest.strip().encode("utf-8")

    def readinto(self, b: Any) -> int:
        while not self._out:
            if self._done:
                return 0
            self._out = self._produce()
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


class _Empty(RecordError):
    """An array without elements (pyarrow calls it an empty stream)."""

    def __init__(self) -> None:
        super().__init__("no records")


def _has_timestamp(schema: pa.Schema) -> bool:
    return any(_untimed_type(t) != t for t in schema.types)


def _untimed_type(t: pa.DataType) -> pa.DataType:
    """``t`` with every timestamp (at any depth) made a string."""
    if pa.types.is_timestamp(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_untimed_type(f.type)) for f in t])
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_untimed_type(t.value_type)))
    return t


def _untimed(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_type(_untimed_type(f.type)) for f in schema])


class _Conflict(RecordError):
    """Inference met a field whose type changes between records."""

    def __init__(self) -> None:
        super().__init__("field types differ between records")


def _wider(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The type both ``a`` and ``b`` values fit: Arrow's permissive promotion (null to
    anything, int to double, struct fields merged), else string (the JSON text)."""
    if a == b:
        return a
    try:
        merged = pa.unify_schemas(
            [pa.schema([("v", a)]), pa.schema([("v", b)])],
            promote_options="permissive",
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.string()
    t = merged.field("v").type
    # (permissive promotion may turn numbers into strings or decimals: only numbers to
    # double, null to anything and merged structs/lists are kept)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pa.string()
    return t


def _as_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _column(values: list[Any], type_: pa.DataType | None) -> pa.Array:
    """``values`` as an Arrow array of ``type_`` (inferred when None); a column whose
    values have no common type becomes the JSON text of each value."""
    if type_ is not None and pa.types.is_string(type_):
        return pa.array([_as_text(v) for v in values], pa.string())
    try:
        return pa.array(values, type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_as_text(v) for v in values], pa.string())


class _JsonRecordReader(RecordReader):
    def __init__(
        self,
        factory: JsonTreeReader,
        source: BinaryIO,
        schema: pa.Schema | None,
        on_invalid: str,
    ) -> None:
        self._factory = factory
        self._source = source
        self._declared = schema
        self._array = _first_char(source) == b"["
        self._rows = 0
        self.invalid_rows: list[Any] = []
        self._on_invalid = on_invalid
        self._lenient_batches: Iterator[pa.RecordBatch] | None = None
        self._first: pa.RecordBatch | None = None
        self._reported: pa.Schema | None = None
        self._schema = schema if schema is not None else pa.schema([])
        if self._first_char_empty(source):
            self._reader = None
            self._schema = schema or pa.schema([])
            return
        if not self._array:
            self._check_line_lengths()
        small = self._small() if schema is None else None
        if small is not None:
            # (a few records: Python's parser and Arrow's inference cost microseconds
            # where pyarrow's streaming reader costs a millisecond to set up)
            self._reader = None
            self._schema = small.schema
            self._lenient_batches = iter((small,))
            return
        try:
            self._reader = self._open()
        except _Empty:  # an empty array: no records
            self._reader = None
            self._schema = schema or pa.schema([])
            return
        except _Conflict:
            # NiFi infers over all records and widens a field whose type changes
            # (a CHOICE type): here Arrow's widening where there is one (int and
            # double, null and anything, struct fields merged), else the field is
            # read as text (each value's JSON text). Read in Python, two passes.
            self._reader = None
            self._schema = self._widened_schema()
            self._lenient_batches = self._widened_batches()
            return
        except RecordError:
            if on_invalid != "skip":
                raise
            # The first block does not parse: read leniently from the start. Without
            # a declared schema each chunk of good records is inferred on its own (a
            # value of another type then reaches the validator as a record, and is
            # written out as invalid, rather than being dropped as malformed); the
            # reader reports the first chunk's schema.
            self._reader = None
            self._schema = schema if schema is not None else pa.schema([])
            self._lenient_batches = self._lenient(0)
            self._first = next(self._lenient_batches, None)
            if self._first is not None and schema is None:
                self._reported = self._first.schema
            return
        self._schema = schema if schema is not None else self._reader.schema

    @staticmethod
    def _first_char_empty(source: BinaryIO) -> bool:
        return _first_char(source) == b""

    def _open(self) -> Any:
        self._source.seek(0)
        stream: Any = (
            pa.PythonFile(
                _ArrayAsLines(self._source, self._factory.max_record), mode="r"
            )
            if self._array
            else arrow_input(self._source)
        )
        parse = pj.ParseOptions(
            explicit_schema=self._declared,
            unexpected_field_behavior="ignore"
            if self._declared is not None
            else "infer",
            newlines_in_values=False,
        )
        read = pj.ReadOptions(block_size=self._factory.block_size, use_threads=True)
        try:
            reader = pj.open_json(stream, read_options=read, parse_options=parse)
            if self._declared is None and _has_timestamp(reader.schema):
                # pyarrow infers ISO-looking strings as timestamps, which rewrites
                # their text on output; NiFi infers timestamps only with a Timestamp
                # Format configured: read them again as the strings they are.
                self._stop_stream(reader)
                self._source.seek(0)
                stream = (
                    pa.PythonFile(
                        _ArrayAsLines(self._source, self._factory.max_record), mode="r"
                    )
                    if self._array
                    else arrow_input(self._source)
                )
                parse = pj.ParseOptions(
                    explicit_schema=_untimed(reader.schema),
                    unexpected_field_behavior="infer",
                    newlines_in_values=False,
                )
                reader = pj.open_json(stream, read_options=read, parse_options=parse)
            return reader
        except RecordError:
            raise
        except (pa.ArrowInvalid, OSError) as exc:
            if self._array and "Empty JSON stream" in str(exc):
                raise _Empty from None
            located = self._locate(exc)
            if self._declared is None and "does not fit the schema" in str(located):
                # (every record is JSON: it is a type that changes between records)
                self._stop_stream(stream)
                raise _Conflict from None
            raise located from None

    def _small(self) -> pa.RecordBatch | None:
        """Content of at most ``_SMALL`` bytes read in Python, types inferred as the
        streaming path infers them (``_column``: Arrow's inference, strings stay
        strings, no common type is text); None when it is larger, not plain JSON
        objects, or holds no fields: the streaming path then reads it (and words
        any error)."""
        source = self._source
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
        if size > _SMALL:
            return None
        data = source.read()
        source.seek(0)
        try:
            if self._array:
                rows = json.loads(data)
                if not isinstance(rows, list):
                    return None
            else:
                rows = [json.loads(line) for line in data.splitlines() if line.strip()]
        except (ValueError, RecursionError):
            return None
        if not rows or not all(isinstance(r, dict) for r in rows):
            return None
        if not any(rows):
            return None
        self._rows = len(rows)
        try:  # (one call infers every field, as _column does field by field)
            return pa.RecordBatch.from_struct_array(pa.array(rows))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
        names = list(dict.fromkeys(k for r in rows for k in r))
        arrays = [_column([r.get(n) for r in rows], None) for n in names]
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def _check_line_lengths(self) -> None:
        """Fail on a JSON line longer than Max String Length before anything holds it
        whole (pyarrow, or Python's parser on the error path). One pass in pieces of at
        most the limit: within a piece holding a line break every line is shorter than
        the piece, so only the run across pieces is tracked (C-speed find/rfind)."""
        limit = self._factory.max_record
        source = self._source
        source.seek(0, io.SEEK_END)
        if source.tell() <= limit:
            source.seek(0)
            return
        source.seek(0)
        run, line, piece_size = 0, 1, max(1, min(limit, _CHUNK))
        while piece := source.read(piece_size):
            first = piece.find(b"\n")
            if first < 0:
                run += len(piece)
            else:
                run += first
            if run > limit:
                source.seek(0)
                raise RecordError(
                    f"line {line}: the record is longer than Max String Length "
                    f"({_size_text(limit)})",
                    line=line,
                )
            if first >= 0:
                line += piece.count(b"\n")
                run = len(piece) - piece.rfind(b"\n") - 1
        source.seek(0)

    @staticmethod
    def _stop_stream(stream: Any) -> None:
        close = getattr(stream, "close", None)
        if close is not None:
            close()

    def _objects(self) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """``(line, record, object)`` per record, from the start, decoded in Python;
        a record that is not a JSON object is skipped into ``invalid_rows`` when
        skipping, else raises :class:`RecordError` naming its line."""
        record = 0
        for number, raw, reason in self._records():
            text = raw.strip()
            if reason is None and not text:
                continue
            record += 1
            value: Any = None
            if reason is None:
                try:
                    value = json.loads(text)
                except RecursionError:
                    reason = _TOO_DEEP
                except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                    reason = f"invalid JSON: {exc}"
                else:
                    if not isinstance(value, dict):
                        reason = "not a JSON object"
            if reason is not None:
                if self._on_invalid == "skip":
                    record -= 1
                    self._skip_line(number, raw, reason)
                    continue
                where = (
                    f"line {number}"
                    if reason == "not a JSON object"
                    else f"line {number} (record {record})"
                )
                raise RecordError(f"{where}: {reason}", line=number, row=record)
            yield number, record, value

    def _chunks(self) -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        for _number, _record, value in self._objects():
            chunk.append(value)
            if len(chunk) >= _WIDEN_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _widened_schema(self) -> pa.Schema:
        """The first pass: every field's type over all records, widened."""
        types: dict[str, pa.DataType] = {}
        for chunk in self._chunks():
            names = dict.fromkeys(k for row in chunk for k in row)
            for name in names:
                t = _column([row.get(name) for row in chunk], None).type
                types[name] = _wider(types[name], t) if name in types else t
        self.invalid_rows.clear()  # (the second pass finds them again)
        return pa.schema(list(types.items()))

    def _widened_batches(self) -> Iterator[pa.RecordBatch]:
        schema = self._schema
        for chunk in self._chunks():
            arrays = [
                _column([row.get(f.name) for row in chunk], f.type) for f in schema
            ]
            self._rows += len(chunk)
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    @property
    def schema(self) -> pa.Schema:
        return self._reported if self._reported is not None else self._schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        if self._lenient_batches is not None:
            if self._first is not None:
                yield self._first
            yield from self._lenient_batches
            return
        if self._reader is None:
            return
        while True:
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                return
            except (RecordError, pa.ArrowInvalid, OSError) as exc:
                if self._on_invalid == "skip":
                    yield from self._lenient(self._rows)
                    return
                if isinstance(exc, RecordError):
                    raise
                raise self._locate(exc) from None
            first = self._rows + 1
            self._rows += batch.num_rows
            if self._declared is not None:
                batch = conform(batch, self._declared, first)
            yield batch

    def _records(self) -> Iterator[tuple[int, bytes, str | None]]:
        """``(line, text, reason)`` per record, from the start: the lines of JSON
        lines, or the elements of an array (``reason`` says why one is not JSON)."""
        self._source.seek(0)
        if self._array:
            return _ArrayAsLines(self._source, self._factory.max_record).elements()
        return ((number, raw, None) for number, raw in enumerate(self._source, 1))

    def _lenient(self, skip: int) -> Iterator[pa.RecordBatch]:
        """Re-read the records one by one, collecting those that do not parse (or do
        not fit the schema) in ``invalid_rows``; the first ``skip`` good records were
        already yielded."""
        self._stop()
        good: list[tuple[int, bytes]] = []
        record = 0
        for number, raw, reason in self._records():
            if reason is not None:
                self._skip_line(number, raw, reason)
                continue
            text = raw.strip()
            if not text:
                continue
            try:
                value = json.loads(text)
                if not isinstance(value, dict):
                    raise ValueError("not a JSON object")
            except RecursionError:
                self._skip_line(number, raw, _TOO_DEEP)
                continue
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError too
                self._skip_line(number, raw, f"invalid JSON: {exc}")
                continue
            record += 1
            if record > skip:
                good.append((number, text))
            if len(good) >= 10_000:
                yield from self._parse_lines(good)
                good = []
        if good:
            yield from self._parse_lines(good)

    def _skip_line(self, number: int, raw: bytes, reason: str) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        self.invalid_rows.append(InvalidRow(number, text, reason))

    def _parse_lines(self, lines: list[tuple[int, bytes]]) -> Iterator[pa.RecordBatch]:
        schema = self._schema if len(self._schema) else None
        parse = pj.ParseOptions(
            explicit_schema=schema,
            unexpected_field_behavior="ignore" if schema is not None else "infer",
        )
        try:
            data = b"\n".join(t for _, t in lines) + b"\n"
            table = pj.read_json(io.BytesIO(data), parse_options=parse)
            if schema is None and _has_timestamp(table.schema):  # (see _open)
                untimed = pj.ParseOptions(
                    explicit_schema=_untimed(table.schema),
                    unexpected_field_behavior="infer",
                )
                table = pj.read_json(io.BytesIO(data), parse_options=untimed)
        except pa.ArrowInvalid:
            if len(lines) == 1:
                self._skip_line(lines[0][0], lines[0][1], "does not fit the schema")
                return
            mid = len(lines) // 2
            yield from self._parse_lines(lines[:mid])
            yield from self._parse_lines(lines[mid:])
            return
        for batch in table.to_batches():
            first = self._rows + 1
            self._rows += batch.num_rows
            yield (
                conform(batch, self._declared, first)
                if self._declared is not None
                else batch
            )

    def _stop(self) -> None:
        """Stop pyarrow's read-ahead before the source is read again."""
        close = getattr(self._reader, "close", None)
        if close is not None:
            close()

    def _locate(self, exc: Exception) -> RecordError:
        """Find the bad line with Python's parser (error path only)."""
        if getattr(self, "_reader", None) is not None:
            self._stop()
        if isinstance(exc, RecordError):
            return exc
        cause = exc.__context__
        if isinstance(cause, RecordError):
            return cause
        if self._array:
            return self._locate_element(exc)
        self._source.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        record = 0
        for number, raw in enumerate(self._source, 1):
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as uexc:
                return RecordError(
                    f"line {number}: JSON is not valid UTF-8: {uexc.reason}",
                    line=number,
                )
            if not text.strip():
                continue
            record += 1
            try:
                value = json.loads(text)
            except RecursionError:
                return RecordError(
                    f"line {number} (record {record}): {_TOO_DEEP}",
                    line=number,
                    row=record,
                )
            except json.JSONDecodeError as jexc:
                return RecordError(
                    f"invalid JSON at line {number} (record {record}): {jexc.msg}",
                    line=number,
                    row=record,
                )
            if not isinstance(value, dict):
                return RecordError(
                    f"line {number}: not a JSON object", line=number, row=record
                )
        found = self._first_misfit()
        if found is not None:
            number, record, reason = found
            return RecordError(
                f"line {number} (record {record}): {reason}", line=number, row=record
            )
        return RecordError(
            f"JSON records do not fit the schema (after record {self._rows}): {exc}"
        )

    def _locate_element(self, exc: Exception) -> RecordError:
        """The first array element that is not a JSON object or does not fit."""
        for record, (number, raw, reason) in enumerate(self._records(), 1):
            if reason is not None:
                return RecordError(
                    f"line {number} (record {record}): {reason}",
                    line=number,
                    row=record,
                )
            if not raw.startswith(b"{"):
                return RecordError(
                    f"line {number}: array element {record} is not a JSON object",
                    line=number,
                    row=record,
                )
        found = self._first_misfit()
        if found is not None:
            number, record, reason = found
            return RecordError(
                f"line {number} (record {record}): {reason}", line=number, row=record
            )
        return RecordError(f"invalid JSON records: {exc}")

    def _first_misfit(self) -> tuple[int, int, str] | None:
        """(line, record, reason) of the first line that parses as JSON but not with
        the schema: chunks of lines through pyarrow, halving the failing chunk."""
        schema = (
            self._declared
            if self._declared is not None
            else (self._schema if len(self._schema) else None)
        )
        parse = pj.ParseOptions(
            explicit_schema=schema,
            unexpected_field_behavior="ignore" if schema is not None else "infer",
        )

        def fails(lines: list[tuple[int, int, bytes]]) -> str | None:
            try:
                pj.read_json(
                    io.BytesIO(b"\n".join(t for _, _, t in lines) + b"\n"),
                    parse_options=parse,
                )
            except pa.ArrowInvalid as exc:
                return str(exc)
            return None

        def search(lines: list[tuple[int, int, bytes]]) -> tuple[int, int, str] | None:
            reason = fails(lines)
            if reason is None:
                return None
            while len(lines) > 1:
                head = lines[: len(lines) // 2]
                head_reason = fails(head)
                if head_reason is not None:
                    lines, reason = head, head_reason
                else:
                    lines = lines[len(lines) // 2 :]
                    reason = fails(lines) or reason
            text = reason.split("JSON parse error: ")[-1]
            return lines[0][0], lines[0][1], f"does not fit the schema: {text}"

        chunk: list[tuple[int, int, bytes]] = []
        record = 0
        for number, raw, _reason in self._records():
            if raw.strip():
                record += 1
                chunk.append((number, record, raw.strip()))
            if len(chunk) >= 10_000:
                found = search(chunk)
                if found is not None:
                    return found
                chunk = []
        return search(chunk) if chunk else None


class JsonTreeReader(RecordReaderFactory, ControllerService):
    """Parses JSON objects into records: JSON lines or one top-level array, nested
    objects as structs, arrays as lists; schema inferred or declared."""

    tags = ("json", "tree", "record", "reader", "parser")

    SCHEMA_ACCESS_STRATEGY, SCHEMA_TEXT, SCHEMA_REGISTRY, SCHEMA_NAME = (
        schema_properties(INFER, TEXT, NAME)
    )
    BLOCK_SIZE = PropertyDescriptor(
        "block_size",
        "Bytes parsed per batch (also the window used to infer types).",
        display_name="Block Size",
        default="1 MB",
        validators=(validators.DATA_SIZE,),
    )

    MAX_STRING_LENGTH = PropertyDescriptor(
        "max_string_length",
        "The longest record (one JSON line or array element) read; a longer one fails "
        "its FlowFile rather than being held in memory whole (NiFi bounds string "
        "values with the same name and default).",
        display_name="Max String Length",
        default="20 MB",
        required=True,
        validators=(validators.DATA_SIZE,),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self.access = SchemaAccess(context)
        self.block_size = int(
            context.property(self.BLOCK_SIZE).as_data_size() or _CHUNK
        )
        self.max_record = int(
            context.property(self.MAX_STRING_LENGTH).as_data_size() or _MAX_RECORD
        )

    def create_reader(
        self,
        source: BinaryIO,
        attributes: Attributes | None = None,
        *,
        on_invalid: str = "error",
    ) -> RecordReader:
        return _JsonRecordReader(
            self, source, self.access.schema_for(attributes), on_invalid
        )


ARRAY = "output-array"
ONELINE = "output-oneline"


class _JsonWriter(RecordSetWriter):
    def __init__(
        self, factory: JsonRecordSetWriter, sink: BinaryIO, declared: pa.Schema | None
    ) -> None:
        self._f = factory
        self._sink = sink
        self._declared = declared
        self.record_count = 0
        self._cursor: Any = None

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        for b in as_batches(batch):
            if b.num_rows:
                self._write(b)

    def _texts(self, batch: pa.RecordBatch) -> pa.Array:
        """One JSON text per record, as an Arrow string array."""
        if self._f.pretty:
            return pa.array(
                [
                    json.dumps(r, indent=2, ensure_ascii=False, default=_default)
                    for r in batch.to_pylist()
                ],
                pa.string(),
            )
        # Top-level timestamps as ISO text pyarrow reads back; the rest is DuckDB's to_json.
        cols = [_iso(c) if pa.types.is_timestamp(c.type) else c for c in batch.columns]
        prepared = pa.RecordBatch.from_arrays(cols, names=batch.schema.names)
        return self._duck_texts(prepared)

    def _duck_texts(self, prepared: pa.RecordBatch) -> pa.Array:
        if self._cursor is None:
            self._cursor = duck.cursor()
        try:
            table = self._cursor.sql(
                "SELECT to_json(prepared) FROM prepared"
            ).to_arrow_table()
        except (
            Exception
        ):  # a type DuckDB cannot take (float16, durations...): Python's json
            texts = [
                json.dumps(
                    r, ensure_ascii=False, separators=(",", ":"), default=_default
                )
                for r in prepared.to_pylist()
            ]
            return pa.array(texts, pa.string())
        return table.column(0).combine_chunks()

    def _write(self, batch: pa.RecordBatch) -> None:
        if self._declared is not None:
            batch = conform(batch, self._declared, self.record_count + 1)
        small = _small_texts(batch) if not self._f.pretty else None
        if small is not None:
            sep = "," if self._f.grouping == ARRAY else "\n"
            text = sep.join(small)
            if self._f.grouping == ARRAY:
                self._sink.write(b"[" if self.record_count == 0 else b",")
                self._sink.write(text.encode("utf-8"))
            else:
                self._sink.write((text + "\n").encode("utf-8"))
            self.record_count += batch.num_rows
            return
        texts = self._texts(batch)
        if self._f.grouping == ARRAY:
            sep = ",\n" if self._f.pretty else ","
            self._sink.write(b"[" if self.record_count == 0 else sep.encode())
            data = _joined(texts, sep)
            self._sink.write(data[: len(data) - len(sep)])
        else:
            self._sink.write(_joined(texts, "\n"))
        self.record_count += batch.num_rows

    def finish(self) -> WriteResult:
        if self._f.grouping == ARRAY:
            self._sink.write(b"[]" if self.record_count == 0 else b"]")
        if self._cursor is not None:
            self._cursor.close()
        return WriteResult(
            self.record_count, {"mime.type": JsonRecordSetWriter.mime_type}
        )


#: control characters Python's json escapes as ``\u00xx`` (DuckDB: upper-case hex)
_HEX_ESCAPED = re.compile("[\x00-\x07\x0b\x0e-\x1f]")


#: whether a schema's top-level types are all ones ``_small_texts`` writes
_PLAIN_SCHEMAS: dict[pa.Schema, bool] = {}


def _small_texts(batch: pa.RecordBatch) -> list[str] | None:
    """One JSON text per record by Python's ``json`` for a small batch (DuckDB's
    set-up costs a millisecond a call), when it writes exactly DuckDB's ``to_json``
    text: top-level integers, booleans, nulls, strings without the control characters
    the two escape differently, finite doubles both print without an exponent; else
    None (DuckDB writes it)."""
    if batch.num_rows > _SMALL_BATCH:
        return None
    schema = batch.schema
    plain = _PLAIN_SCHEMAS.get(schema)
    if plain is None:
        plain = all(
            pa.types.is_integer(t)
            or pa.types.is_boolean(t)
            or pa.types.is_null(t)
            or pa.types.is_string(t)
            or pa.types.is_float64(t)
            for t in schema.types
        )
        if len(_PLAIN_SCHEMAS) >= 256:  # (bounded: a flow sees a few schemas)
            _PLAIN_SCHEMAS.clear()
        _PLAIN_SCHEMAS[schema] = plain
    if not plain:
        return None
    rows = batch.to_pylist()
    for row in rows:
        for v in row.values():
            if isinstance(v, str):
                if _HEX_ESCAPED.search(v):
                    return None
            elif isinstance(v, float) and not (v == 0.0 or 1e-4 <= abs(v) < 1e15):
                return None  # (NaN compares false too)
    return [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows]


def _iso(column: pa.Array) -> pa.Array:
    """Timestamps as ISO 8601 text, with the offset when zoned (``2024-01-01T00:00:00Z``)."""
    text = column.cast(pa.string())
    return pc.replace_substring(text, " ", "T", max_replacements=1)


def _joined(texts: pa.Array, sep: str) -> memoryview:
    """Every text followed by ``sep``, as one buffer, without a Python object per record:
    the data buffer of ``text || sep`` is exactly the concatenation."""
    if not pa.types.is_string(texts.type):
        texts = texts.cast(pa.string())
    joined = pc.binary_join_element_wise(texts, pa.scalar("", pa.string()), sep)
    offsets = pa.Array.from_buffers(
        pa.int32(), len(joined) + 1, [None, joined.buffers()[1]], offset=joined.offset
    )
    first, last = offsets[0].as_py(), offsets[len(joined)].as_py()
    return memoryview(joined.buffers()[2])[first:last]


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list):
        return value
    return str(value)


class JsonRecordSetWriter(RecordSetWriterFactory, ControllerService):
    """Writes records as JSON: one array (NiFi's default) or one object per line;
    compact or pretty-printed; nested structs, lists and maps as JSON objects/arrays."""

    tags = ("json", "resultset", "writer", "serialize", "record", "recordset", "row")
    mime_type = "application/json"

    SCHEMA_ACCESS_STRATEGY, SCHEMA_TEXT, SCHEMA_REGISTRY, SCHEMA_NAME = (
        schema_properties(INHERIT, TEXT, NAME)
    )
    OUTPUT_GROUPING = PropertyDescriptor(
        "output_grouping",
        "One JSON array of all records, or one object per line.",
        display_name="Output Grouping",
        default=ARRAY,
        allowable_values=(
            AllowableValue(ARRAY, "Array", "A JSON array of records"),
            AllowableValue(ONELINE, "One Line Per Object", "JSON lines"),
        ),
    )
    PRETTY = PropertyDescriptor(
        "pretty_print_json",
        "Indent the JSON (slower: formatted in Python).",
        display_name="Pretty Print JSON",
        default="false",
        validators=(validators.BOOLEAN,),
        depends_on=("output_grouping", (ARRAY,)),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self.access = SchemaAccess(context)
        self.grouping = context.property(self.OUTPUT_GROUPING).value or ARRAY
        self.pretty = (
            bool(context.property(self.PRETTY).as_bool()) and self.grouping == ARRAY
        )

    def create_writer(
        self, sink: BinaryIO, schema: pa.Schema, attributes: Attributes | None = None
    ) -> RecordSetWriter:
        return _JsonWriter(self, sink, self.access.schema_for(attributes))
