"""AvroReader and AvroRecordSetWriter on fastavro (Avro object container files).

Avro is row-oriented, so values pass through Python objects here (fastavro's C decoder
and encoder); batches of ``batch_size`` records keep memory bounded. The reader uses the
schema embedded in the file (or a declared one to read with, as a reader schema); the
writer always embeds the schema, derived from the records or declared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import fastavro
import pyarrow as pa

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
    EMBEDDED,
    INHERIT,
    NAME,
    TEXT,
    SchemaAccess,
    schema_properties,
)
from .avro_types import arrow_to_avro, avro_to_arrow
from .schema import as_batches, conform

__all__ = ["AvroReader", "AvroRecordSetWriter"]


def _has_map(dtype: pa.DataType) -> bool:
    if pa.types.is_map(dtype):
        return True
    if pa.types.is_struct(dtype):
        return any(_has_map(dtype.field(i).type) for i in range(dtype.num_fields))
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return _has_map(dtype.value_type)
    return False


def _maps_to_dicts(value: Any, dtype: pa.DataType) -> Any:
    """Arrow gives maps as lists of (key, value) pairs; Avro wants dicts."""
    if value is None:
        return None
    if pa.types.is_map(dtype):
        return {k: _maps_to_dicts(v, dtype.item_type) for k, v in value}
    if pa.types.is_struct(dtype):
        return {f.name: _maps_to_dicts(value.get(f.name), f.type) for f in dtype}
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return [_maps_to_dicts(v, dtype.value_type) for v in value]
    return value


class _AvroRecordReader(RecordReader):
    def __init__(
        self, source: BinaryIO, declared: pa.Schema | None, batch_size: int
    ) -> None:
        source.seek(0)
        try:
            self._reader = fastavro.reader(source)
        except Exception as exc:  # fastavro raises ValueError/EOFError/its own errors
            raise RecordError(f"not a readable Avro file: {exc}") from None
        try:
            file_schema = avro_to_arrow(self._reader.writer_schema)
        except ValueError as exc:
            raise RecordError(f"unsupported Avro schema: {exc}") from None
        self._declared = declared
        self._schema = declared if declared is not None else file_schema
        self._read_schema = file_schema
        self._batch_size = batch_size

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        rows: list[Any] = []
        count = 0
        it = iter(self._reader)
        while True:
            try:
                rec = next(it)
            except StopIteration:
                break
            except Exception as exc:  # a truncated or corrupt block
                raise RecordError(
                    f"Avro data is unreadable after record {count}: {type(exc).__name__}: {exc}",
                    row=count + 1,
                ) from None
            rows.append(rec)
            count += 1
            if len(rows) >= self._batch_size:
                yield self._batch(rows, count - len(rows) + 1)
                rows = []
        if rows:
            yield self._batch(rows, count - len(rows) + 1)

    def _batch(self, rows: list[Any], first: int) -> pa.RecordBatch:
        try:
            batch = pa.RecordBatch.from_pylist(rows, schema=self._read_schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise RecordError(
                f"Avro records {first}..{first + len(rows) - 1} do not convert: {exc}",
                row=first,
            ) from None
        if self._declared is not None:
            batch = conform(batch, self._declared, first)
        return batch


class AvroReader(RecordReaderFactory, ControllerService):
    """Reads Avro object container files (schema embedded, or a declared reader schema)."""

    tags = (
        "avro",
        "parse",
        "record",
        "row",
        "reader",
        "delimited",
        "comma",
        "separated",
        "values",
    )

    SCHEMA_ACCESS_STRATEGY, SCHEMA_TEXT, SCHEMA_REGISTRY, SCHEMA_NAME = (
        schema_properties(EMBEDDED, TEXT, NAME)
    )
    BATCH_SIZE = PropertyDescriptor(
        "batch_size",
        "Records per batch.",
        display_name="Batch Size",
        default="10000",
        validators=(validators.POSITIVE_INTEGER,),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self.access = SchemaAccess(context)
        self.batch_size = int(context.property(self.BATCH_SIZE).as_int() or 10000)

    def create_reader(
        self,
        source: BinaryIO,
        attributes: Attributes | None = None,
        *,
        on_invalid: str = "error",
    ) -> RecordReader:
        return _AvroRecordReader(
            source, self.access.schema_for(attributes), self.batch_size
        )


class _AvroWriter(RecordSetWriter):
    def __init__(
        self,
        f: AvroRecordSetWriter,
        sink: BinaryIO,
        schema: pa.Schema,
        declared: pa.Schema | None,
    ) -> None:
        self._f = f
        self._sink = sink
        self._schema = declared or schema
        self._declared = declared
        self._parsed = fastavro.parse_schema(arrow_to_avro(self._schema))
        self._writer: Any = None
        self._maps = _has_map(pa.struct(list(self._schema)))
        self._names = [f["name"] for f in arrow_to_avro(self._schema)["fields"]]
        self.record_count = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        for b in as_batches(batch):
            first = self.record_count + 1
            b = conform(b, self._schema, first)
            if self._names != b.schema.names:  # Avro names are [A-Za-z_][A-Za-z0-9_]*
                b = b.rename_columns(self._names)
            rows = b.to_pylist()
            if self._maps:
                rows = [_maps_to_dicts(r, pa.struct(list(self._schema))) for r in rows]
            if self._writer is None:
                self._writer = fastavro.write.Writer(
                    self._sink, self._parsed, codec=self._f.codec
                )
            for i, r in enumerate(rows):
                try:
                    self._writer.write(r)
                except (ValueError, TypeError, OverflowError) as exc:
                    raise RecordError(
                        f"record {first + i} does not fit the Avro schema: {exc}",
                        row=first + i,
                    ) from None
            self.record_count += b.num_rows

    def finish(self) -> WriteResult:
        if self._writer is None:
            self._writer = fastavro.write.Writer(
                self._sink, self._parsed, codec=self._f.codec
            )
        self._writer.flush()
        return WriteResult(
            self.record_count,
            {
                "mime.type": AvroRecordSetWriter.mime_type,
                "avro.schema": json.dumps(arrow_to_avro(self._schema)),
            },
        )


class AvroRecordSetWriter(RecordSetWriterFactory, ControllerService):
    """Writes records as an Avro object container file with the schema embedded."""

    tags = (
        "avro",
        "result",
        "set",
        "writer",
        "serializer",
        "record",
        "recordset",
        "row",
    )
    mime_type = "application/avro-binary"

    SCHEMA_ACCESS_STRATEGY, SCHEMA_TEXT, SCHEMA_REGISTRY, SCHEMA_NAME = (
        schema_properties(INHERIT, TEXT, NAME)
    )
    CODEC = PropertyDescriptor(
        "compression_format",
        "Codec of the Avro blocks (snappy/zstandard would need extra libraries fastavro "
        "does not install).",
        display_name="Compression Format",
        default="NONE",
        allowable_values=(AllowableValue("NONE"), AllowableValue("DEFLATE")),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self.access = SchemaAccess(context)
        codec = context.property(self.CODEC).value or "NONE"
        self.codec = {"NONE": "null", "DEFLATE": "deflate"}[codec]

    def create_writer(
        self, sink: BinaryIO, schema: pa.Schema, attributes: Attributes | None = None
    ) -> RecordSetWriter:
        return _AvroWriter(self, sink, schema, self.access.schema_for(attributes))
