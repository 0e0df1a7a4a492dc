"""ParquetReader and ParquetRecordSetWriter.

Parquet keeps its schema and row-group index in a footer, so the reader needs a seekable
input (content streams are); it then streams row group by row group. The writer buffers
batches until a row group is full (by rows or by bytes) and writes it: row groups of
~1 M rows keep files compact and fast to scan; one group per small batch makes files
larger and slower (measured: 869 tiny groups made a file 1.7x larger).
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

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
    INHERIT,
    NAME,
    TEXT,
    SchemaAccess,
    arrow_input,
    schema_properties,
)
from .schema import as_batches, conform

__all__ = ["ParquetReader", "ParquetRecordSetWriter"]


class _ParquetRecordReader(RecordReader):
    def __init__(self, source: BinaryIO, batch_size: int) -> None:
        try:
            self._file = pq.ParquetFile(arrow_input(source))
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            raise RecordError(f"not a readable Parquet file: {exc}") from None
        self._batch_size = batch_size
        self._schema = self._file.schema_arrow

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        groups = self._file.metadata.num_row_groups
        rows = 0
        for g in range(groups):
            try:
                table = self._file.read_row_group(g)
            except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
                raise RecordError(
                    f"Parquet row group {g} (records {rows + 1}..) is unreadable: {exc}",
                    row=rows + 1,
                ) from None
            rows += table.num_rows
            yield from table.to_batches(self._batch_size)

    def close(self) -> None:
        self._file.close()


class ParquetReader(RecordReaderFactory, ControllerService):
    """Reads Parquet files row group by row group, with the schema stored in the file."""

    tags = ("parquet", "parse", "record", "reader", "row", "columnar")

    BATCH_SIZE = PropertyDescriptor(
        "batch_size",
        "Records per batch handed to processors.",
        display_name="Batch Size",
        default="65536",
        validators=(validators.POSITIVE_INTEGER,),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self.batch_size = int(context.property(self.BATCH_SIZE).as_int() or 65536)

    def create_reader(
        self,
        source: BinaryIO,
        attributes: Attributes | None = None,
        *,
        on_invalid: str = "error",
    ) -> RecordReader:
        return _ParquetRecordReader(source, self.batch_size)


class _ParquetWriter(RecordSetWriter):
    def __init__(
        self,
        f: ParquetRecordSetWriter,
        sink: BinaryIO,
        schema: pa.Schema,
        declared: pa.Schema | None,
    ) -> None:
        self._f = f
        self._sink = sink
        self._schema = declared or schema
        self._declared = declared
        self._writer: Any = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self._inflight: concurrent.futures.Future[None] | None = None
        self._finished = False
        self.record_count = 0

    def _open(self) -> Any:
        f = self._f
        return pq.ParquetWriter(
            self._sink,
            self._schema,
            compression=f.compression,
            use_dictionary=f.dictionary,
            write_statistics=True,
        )

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        for b in as_batches(batch):
            if self._declared is not None:
                b = conform(
                    b, self._declared, self.record_count + self._pending_rows + 1
                )
            elif not b.schema.equals(self._schema):
                b = conform(b, self._schema, self.record_count + self._pending_rows + 1)
            self._pending.append(b)
            self._pending_rows += b.num_rows
            self._pending_bytes += b.nbytes
            if (
                self._pending_rows >= self._f.group_rows
                or self._pending_bytes >= self._f.group_bytes
            ):
                self._flush()

    def _flush(self, final: bool = False) -> None:
        """Write full row groups of exactly ``group_rows`` records (or everything pending
        when cutting by bytes, or at the end); keep the remainder for the next group.

        A group cut before the end is encoded on a background thread while the caller
        goes on reading records (Parquet encoding and CSV/JSON parsing both run in
        Arrow's C++ without the GIL, so the two overlap on two cores); at most one group
        is in flight, which is all the extra memory this costs."""
        if not self._pending:
            self._wait()
            return
        if self._writer is None:
            self._writer = self._open()
        table = pa.Table.from_batches(self._pending, schema=self._schema)
        rows = self._f.group_rows
        if final or self._pending_bytes >= self._f.group_bytes:
            cut = table.num_rows
            rows = max(min(rows, cut), 1)
        else:
            cut = table.num_rows - table.num_rows % rows
        self._wait()  # groups are written in order, one at a time
        if final:
            self._writer.write_table(table.slice(0, cut), row_group_size=rows)
        else:
            self._inflight = _background().submit(
                self._writer.write_table, table.slice(0, cut), row_group_size=rows
            )
        self.record_count += cut
        rest = table.slice(cut)
        self._pending = rest.to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows
        self._pending_bytes = rest.nbytes if rest.num_rows else 0

    def _wait(self) -> None:
        """Let the group in flight finish; its error (a full disk...) is raised here."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight.result()

    def finish(self) -> WriteResult:
        self._flush(final=True)
        if self._writer is None:
            self._writer = self._open()
        self._writer.close()
        self._finished = True
        return WriteResult(
            self.record_count, {"mime.type": ParquetRecordSetWriter.mime_type}
        )

    def close(self) -> None:
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            concurrent.futures.wait([inflight])
        if self._writer is not None and not self._finished:
            # Abandoned: no footer (its stream is being discarded), and none written
            # later by pyarrow's finalizer onto a stream that is closed by then.
            self._writer.is_open = False


_executor: concurrent.futures.ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _background() -> concurrent.futures.ThreadPoolExecutor:
    """The threads that encode row groups in the background (created on first use: a
    file of one row group never needs them)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=os.cpu_count() or 2, thread_name_prefix="parquet-writer"
            )
        return _executor


class ParquetRecordSetWriter(RecordSetWriterFactory, ControllerService):
    """Writes records as one Parquet file: compression, row-group size, dictionaries."""

    tags = (
        "parquet",
        "result",
        "set",
        "writer",
        "serializer",
        "record",
        "recordset",
        "row",
        "columnar",
    )
    mime_type = "application/parquet"

    SCHEMA_ACCESS_STRATEGY, SCHEMA_TEXT, SCHEMA_REGISTRY, SCHEMA_NAME = (
        schema_properties(INHERIT, TEXT, NAME)
    )
    COMPRESSION = PropertyDescriptor(
        "compression_type",
        "Codec of the column chunks.",
        display_name="Compression Type",
        default="SNAPPY",
        allowable_values=tuple(
            AllowableValue(c)
            for c in ("UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD", "LZ4", "BROTLI")
        ),
    )
    ROW_GROUP_SIZE = PropertyDescriptor(
        "row_group_size",
        "Records per row group (a number), or bytes of Arrow data per row "
        "group (a data size such as `128 MB`); whichever is reached first with the other limit.",
        display_name="Row Group Size",
        default="1000000",
    )
    DICTIONARY = PropertyDescriptor(
        "enable_dictionary_encoding",
        "Dictionary-encode columns.",
        display_name="Enable Dictionary Encoding",
        default="true",
        validators=(validators.BOOLEAN,),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self.access = SchemaAccess(context)
        comp = context.property(self.COMPRESSION).value or "SNAPPY"
        self.compression = "NONE" if comp == "UNCOMPRESSED" else comp
        raw = (context.property(self.ROW_GROUP_SIZE).value or "1000000").strip()
        if raw.isdigit():
            self.group_rows, self.group_bytes = max(int(raw), 1), 1 << 40
        else:
            size = context.property(self.ROW_GROUP_SIZE).as_data_size() or (128 << 20)
            self.group_rows, self.group_bytes = 1 << 40, size
        self.dictionary = bool(context.property(self.DICTIONARY).as_bool())

    def create_writer(
        self, sink: BinaryIO, schema: pa.Schema, attributes: Attributes | None = None
    ) -> RecordSetWriter:
        return _ParquetWriter(self, sink, schema, self.access.schema_for(attributes))
