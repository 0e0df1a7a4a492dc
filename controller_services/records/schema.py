"""Schema declarations: Arrow types in a small readable syntax, or an Avro schema.

A declared schema is a list of ``name: type`` fields separated by commas or newlines::

    id: int64 not null
    name: string
    price: decimal(10, 2)
    seen: timestamp(ms, UTC)
    tags: list<string>
    address: struct<city: string, zip: string>
    scores: map<string, double>

Types: ``bool``/``boolean``, ``int8``..``int64``, ``uint8``..``uint64``, ``float``/
``float32``, ``double``/``float64``, ``halffloat``, ``string``/``utf8``, ``large_string``,
``binary``, ``large_binary``, ``date``/``date32``, ``date64``, ``time32(unit)``,
``time64(unit)``, ``timestamp(unit[, tz])``, ``duration(unit)``, ``decimal(p, s)``,
``list<T>``, ``large_list<T>``, ``struct<...>``, ``map<K, V>``, ``null``. Square brackets
are accepted for arguments and pyarrow's own spelling parses too (``timestamp[us,
tz=UTC]``, ``list<item: string>``), so ``str(pyarrow_type)`` always round-trips. Names with
unusual characters are quoted with ``"``. A text starting with ``{`` (or ``[``, a union) is
an Avro schema in JSON (see :mod:`.avro_types`).
"""

from __future__ import annotations

import json
import re

import pyarrow as pa

from ._api import RecordError, SchemaSyntaxError
from .avro_types import avro_to_arrow

__all__ = [
    "SchemaSyntaxError",
    "as_batches",
    "conform",
    "first_bad_index",
    "format_schema",
    "format_type",
    "parse_schema",
    "parse_type",
]


_SIMPLE: dict[str, pa.DataType] = {
    "null": pa.null(),
    "bool": pa.bool_(),
    "boolean": pa.bool_(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int": pa.int32(),
    "int64": pa.int64(),
    "long": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
    "halffloat": pa.float16(),
    "float16": pa.float16(),
    "float": pa.float32(),
    "float32": pa.float32(),
    "double": pa.float64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "str": pa.string(),
    "utf8": pa.string(),
    "large_string": pa.large_string(),
    "large_utf8": pa.large_string(),
    "binary": pa.binary(),
    "bytes": pa.binary(),
    "large_binary": pa.large_binary(),
    "date": pa.date32(),
    "date32": pa.date32(),
    "date64": pa.date64(),
}
_TOKEN = re.compile(
    r'\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_.$-]*)|"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<num>\d+)|(?P<punct>[:,<>()\[\]=\n]))'
)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- low level -----------------------------------------------------------------------
    def error(self, message: str) -> SchemaSyntaxError:
        line = self.text.count("\n", 0, self.pos) + 1
        col = self.pos - (self.text.rfind("\n", 0, self.pos) + 1) + 1
        return SchemaSyntaxError(f"schema line {line}, column {col}: {message}")

    def skip_blank(self, newlines: bool) -> None:
        chars = " \t\r\n" if newlines else " \t\r"
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def peek(self, newlines: bool = True) -> str:
        self.skip_blank(newlines)
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = self.peek() or "end of text"
            raise self.error(f"expected {char!r}, found {found!r}")
        self.pos += 1

    def accept(self, char: str, newlines: bool = True) -> bool:
        if self.peek(newlines) == char:
            self.pos += 1
            return True
        return False

    def word(self) -> str:
        self.skip_blank(True)
        m = _TOKEN.match(self.text, self.pos)
        if m is None or not (m.group("name") or m.group("quoted") is not None):
            found = self.text[self.pos : self.pos + 10] or "end of text"
            raise self.error(f"expected a name, found {found!r}")
        self.pos = m.end()
        if m.group("quoted") is not None:
            return bytes(m.group("quoted"), "utf-8").decode("unicode_escape")
        return m.group("name")

    def raw_args(self, close: str) -> list[str]:
        end = self.text.find(close, self.pos)
        if end < 0:
            raise self.error(f"missing {close!r}")
        args = [a.strip() for a in self.text[self.pos : end].split(",")]
        self.pos = end + 1
        return args

    # -- grammar -------------------------------------------------------------------------
    def fields(self, close: str | None) -> list[pa.Field]:
        out: list[pa.Field] = []
        while True:
            nxt = self.peek()
            if nxt == "" or (close and nxt == close):
                break
            out.append(self.field())
            if not (
                self.accept(",", newlines=False) or self.accept("\n", newlines=False)
            ):
                if close is None and self.peek() != "":
                    raise self.error(
                        f"expected ',' or a new line, found {self.peek()!r}"
                    )
                if close is not None and self.peek() != close:
                    raise self.error(
                        f"expected ',' or {close!r}, found {self.peek()!r}"
                    )
        return out

    def field(self) -> pa.Field:
        name = self.word()
        self.expect(":")
        dtype = self.type_()
        nullable = True
        save = self.pos
        if self.peek(False) == "n":
            m = re.compile(r"not\s+null\b", re.I).match(self.text, self.pos)
            if m:
                self.pos = m.end()
                nullable = False
            else:
                self.pos = save
        return pa.field(name, dtype, nullable=nullable)

    def type_(self) -> pa.DataType:
        start = self.pos
        name = self.word().lower()
        if name in ("list", "large_list"):
            self.expect("<")
            save = self.pos
            try:  # pyarrow spells list<item: string>
                self.word()
                self.expect(":")
            except SchemaSyntaxError:
                self.pos = save
            item = self.type_()
            self.expect(">")
            return pa.list_(item) if name == "list" else pa.large_list(item)
        if name == "struct":
            self.expect("<")
            members = self.fields(">")
            self.expect(">")
            return pa.struct(members)
        if name == "map":
            self.expect("<")
            key = self.type_()
            self.expect(",")
            value = self.type_()
            self.expect(">")
            return pa.map_(key, value)
        args: list[str] = []
        nxt = self.peek(False)
        if nxt in ("(", "["):
            self.pos += 1
            args = self.raw_args(")" if nxt == "(" else "]")
        try:
            return _build(name, args)
        except (ValueError, TypeError) as exc:
            self.pos = start
            raise self.error(str(exc)) from None


def _unit(args: list[str], default: str) -> str:
    unit = (args[0] if args and args[0] else default).lower()
    if unit not in ("s", "ms", "us", "ns"):
        raise ValueError(f"unknown time unit {unit!r} (s, ms, us, ns)")
    return unit


def _build(name: str, args: list[str]) -> pa.DataType:
    if name in _SIMPLE and (not args or name.startswith("date")):
        return _SIMPLE[name]
    if name == "timestamp":
        tz = args[1] if len(args) > 1 else None
        if tz is not None and tz.startswith("tz="):
            tz = tz[3:]
        return pa.timestamp(_unit(args, "us"), tz=tz or None)
    if name == "duration":
        return pa.duration(_unit(args, "us"))
    if name == "time32":
        return pa.time32(_unit(args, "ms"))
    if name in ("time64", "time"):
        return pa.time64(_unit(args, "us"))
    if name in ("decimal", "decimal128", "decimal256"):
        if len(args) != 2:
            raise ValueError(f"{name} needs (precision, scale)")
        p, s = int(args[0]), int(args[1])
        if name == "decimal256" or p > 38:
            return pa.decimal256(p, s)
        return pa.decimal128(p, s)
    known = sorted(
        {
            *_SIMPLE,
            "timestamp",
            "duration",
            "time32",
            "time64",
            "decimal",
            "list",
            "struct",
            "map",
        }
    )
    raise ValueError(f"unknown type {name!r}; known: {', '.join(known)}")


def parse_type(text: str) -> pa.DataType:
    """One type in the declaration syntax (``decimal(10, 2)``)."""
    p = _Parser(text)
    t = p.type_()
    if p.peek() != "":
        raise p.error(f"unexpected {p.peek()!r} after the type")
    return t


def parse_schema(text: str) -> pa.Schema:
    """A schema from the declaration syntax or from Avro schema JSON.

    Raises:
        SchemaSyntaxError: the text is not a valid declaration (message says where).
    """
    stripped = text.strip()
    if not stripped:
        raise SchemaSyntaxError("the schema text is empty")
    if stripped[0] in "{[":
        try:
            return avro_to_arrow(json.loads(stripped))
        except json.JSONDecodeError as exc:
            raise SchemaSyntaxError(f"Avro schema is not valid JSON: {exc}") from None
    p = _Parser(text)
    fields = p.fields(None)
    if not fields:
        raise SchemaSyntaxError("the schema declares no field")
    names = [f.name for f in fields]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SchemaSyntaxError(f"field(s) declared twice: {', '.join(dupes)}")
    return pa.schema(fields)


def format_type(dtype: pa.DataType) -> str:
    """The declaration spelling of a type (parsed back by :func:`parse_type`)."""
    if pa.types.is_struct(dtype):
        inner = ", ".join(
            _format_field(dtype.field(i)) for i in range(dtype.num_fields)
        )
        return f"struct<{inner}>"
    if pa.types.is_map(dtype):
        return f"map<{format_type(dtype.key_type)}, {format_type(dtype.item_type)}>"
    if pa.types.is_large_list(dtype):
        return f"large_list<{format_type(dtype.value_type)}>"
    if pa.types.is_list(dtype):
        return f"list<{format_type(dtype.value_type)}>"
    if pa.types.is_timestamp(dtype):
        return (
            f"timestamp({dtype.unit}, {dtype.tz})"
            if dtype.tz
            else f"timestamp({dtype.unit})"
        )
    if pa.types.is_decimal(dtype):
        return f"decimal({dtype.precision}, {dtype.scale})"
    if pa.types.is_date32(dtype):
        return "date32"
    if pa.types.is_date64(dtype):
        return "date64"
    if pa.types.is_time(dtype) or pa.types.is_duration(dtype):
        kind = "duration" if pa.types.is_duration(dtype) else str(dtype).split("[")[0]
        return f"{kind}({dtype.unit})"
    return str(dtype)


def _format_field(f: pa.Field) -> str:
    name = (
        f.name
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", f.name)
        else json.dumps(f.name)
    )
    suffix = "" if f.nullable else " not null"
    return f"{name}: {format_type(f.type)}{suffix}"


def format_schema(schema: pa.Schema) -> str:
    """The declaration text of a schema, one field per line."""
    return "\n".join(_format_field(f) for f in schema)


# -- conforming data to a schema -------------------------------------------------------------
def first_bad_index(values: pa.Array, target: pa.DataType) -> int | None:
    """Index of the first value that does not cast to ``target`` (binary search; only
    called on the error path, so the cost of a few extra casts does not matter)."""

    def ok(arr: pa.Array) -> bool:
        try:
            arr.cast(target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return False
        return True

    if ok(values):
        return None
    lo, hi = 0, len(values)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(values.slice(lo, mid - lo)):
            lo = mid
        else:
            hi = mid
    return lo


def conform(
    batch: pa.RecordBatch, schema: pa.Schema, first_row: int = 1
) -> pa.RecordBatch:
    """``batch`` with the columns of ``schema``, cast to its types.

    Missing columns become nulls; extra columns are dropped. Raises :class:`RecordError`
    naming the record (``first_row`` is the 1-based number of the batch's first record)
    and field when a value does not fit or a non-nullable field is null.
    """
    if batch.schema.equals(schema):
        return batch
    cols = []
    for f in schema:
        idx = batch.schema.get_field_index(f.name)
        if idx < 0:
            col = pa.nulls(batch.num_rows, f.type)
        else:
            col = batch.column(idx)
            if not col.type.equals(f.type):
                try:
                    col = col.cast(f.type, safe=True)
                except (
                    pa.ArrowInvalid,
                    pa.ArrowNotImplementedError,
                    pa.ArrowTypeError,
                ) as exc:
                    bad = first_bad_index(batch.column(idx), f.type)
                    row = first_row + (bad or 0)
                    shown = (
                        batch.column(idx)[bad or 0].as_py() if bad is not None else None
                    )
                    raise RecordError(
                        f"record {row}: field {f.name!r} value {shown!r} does not fit {format_type(f.type)}: {exc}",
                        row=row,
                    ) from None
        if not f.nullable and col.null_count:
            row = first_row + col.is_null().index(True).as_py()
            raise RecordError(
                f"record {row}: field {f.name!r} is null but declared not null", row=row
            )
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def as_batches(data: pa.RecordBatch | pa.Table) -> list[pa.RecordBatch]:
    """The record batches of a batch or a table."""
    if isinstance(data, pa.RecordBatch):
        return [data]
    batches: list[pa.RecordBatch] = data.to_batches()
    return batches
