"""The record API: what record processors ask of readers and writers.

Records travel as :class:`pyarrow.RecordBatch` streams. A *reader factory* (a controller
service such as ``CSVReader``) opens a :class:`RecordReader` over one FlowFile's content
stream; a *writer factory* (``ParquetRecordSetWriter``...) opens a :class:`RecordSetWriter`
over an output stream. Both work batch by batch so a multi-GB FlowFile flows through with
bounded memory; a format that needs the whole input (a JSON array, a Parquet footer) says so
in its docstring.

Bad data raises :class:`RecordError` whose message names the line or row, so processors can
put it in ``record.error.message`` and route the FlowFile to ``failure``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import BinaryIO, Self

import pyarrow as pa

__all__ = [
    "RecordError",
    "RecordReader",
    "RecordReaderFactory",
    "RecordSetWriter",
    "RecordSetWriterFactory",
    "SchemaRegistry",
    "SchemaSyntaxError",
    "WriteResult",
]

Attributes = Mapping[str, str]


class RecordError(ValueError):
    """Input that cannot be read as records, or records that do not fit a schema.

    Attributes:
        line: 1-based line of the input where the problem is, when known.
        row: 1-based record number where the problem is, when known.
    """

    def __init__(
        self, message: str, *, line: int | None = None, row: int | None = None
    ):
        super().__init__(message)
        self.line = line
        self.row = row


class SchemaSyntaxError(ValueError):
    """A schema declaration that cannot be parsed; the message says where.

    Declared here, beside :class:`RecordError`, so that both schema parsers (the
    declaration syntax in ``schema`` and Avro JSON in ``avro_types``) can raise it
    without importing each other.
    """


class _Closeable:
    """``close()`` (a no-op unless overridden) and the context manager that calls it."""

    def close(self) -> None:
        """Release what the object holds; idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class RecordReader(_Closeable, ABC):
    """A stream of record batches read from one content stream.

    Iterate it for batches; :attr:`schema` is known once the reader is open (inferred
    readers peek at the first block). Use as a context manager to release resources.
    """

    @property
    @abstractmethod
    def schema(self) -> pa.Schema:
        """The schema of every batch this reader yields."""

    @abstractmethod
    def __iter__(self) -> Iterator[pa.RecordBatch]:
        """Batches in input order; raises :class:`RecordError` on bad data."""

    def read_all(self) -> pa.Table:
        """Every remaining batch as one table (for inputs known to be small)."""
        return pa.Table.from_batches(list(self), schema=self.schema)

    def close(self) -> None:
        """Release resources held by the reader (read-ahead threads, files)."""


class RecordReaderFactory(ABC):
    """Interface of record reader services (NiFi's ``RecordReaderFactory``)."""

    @abstractmethod
    def create_reader(
        self,
        source: BinaryIO,
        attributes: Attributes | None = None,
        *,
        on_invalid: str = "error",
    ) -> RecordReader:
        """Open a reader over ``source`` (a readable, seekable binary stream).

        ``attributes`` are the FlowFile's, for properties evaluated per FlowFile (a schema
        text of ``${avro.schema}``). Raises :class:`RecordError` when the input cannot be
        opened as this format. ``on_invalid="skip"`` (ValidateRecord) asks a reader that
        can to set aside rows it cannot read — each an ``InvalidRow`` in its
        ``invalid_rows`` list, with line, text and reason — and go on; readers that
        cannot (a Parquet file is whole or unreadable) raise as with ``"error"``.
        """


class SchemaRegistry(ABC):
    """Interface of schema registry services: schemas looked up by name (NiFi's
    ``SchemaRegistry``, used with the *Use 'Schema Name' Property* strategy)."""

    @abstractmethod
    def retrieve(self, name: str) -> pa.Schema:
        """The schema registered as ``name``; :class:`RecordError` if there is none."""


@dataclass
class WriteResult:
    """What a finished writer reports: records written and attributes to set."""

    record_count: int
    attributes: dict[str, str] = field(default_factory=dict)


class RecordSetWriter(_Closeable, ABC):
    """Writes record batches to one output stream."""

    record_count: int = 0

    @abstractmethod
    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append records; raises :class:`RecordError` if they do not fit the schema."""

    @abstractmethod
    def finish(self) -> WriteResult:
        """Flush and write any trailer; the stream stays open (the caller owns it)."""

    def close(self) -> None:
        """Stop any background work on the stream; idempotent, a no-op after
        :meth:`finish`. A writer may encode in the background while the caller reads
        more records (the Parquet writer writes a full row group that way), so a caller
        that abandons a writer after an error must close it (or use the writer as a
        context manager) before it closes or discards the stream."""


class RecordSetWriterFactory(ABC):
    """Interface of record writer services (NiFi's ``RecordSetWriterFactory``)."""

    #: the ``mime.type`` of what this writer produces
    mime_type: str = "application/octet-stream"

    @abstractmethod
    def create_writer(
        self, sink: BinaryIO, schema: pa.Schema, attributes: Attributes | None = None
    ) -> RecordSetWriter:
        """Open a writer of records with ``schema`` (the reader's, unless the writer
        declares its own schema) onto ``sink``."""
