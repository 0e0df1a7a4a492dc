"""Record readers, writers and lookups: the record API on Apache Arrow.

Records travel as :class:`pyarrow.RecordBatch` streams. Processors ask for a
:class:`RecordReaderFactory` / :class:`RecordSetWriterFactory` (the interfaces), and users
pick a format service: ``CSVReader``, ``JsonTreeReader``, ``ParquetReader``, ``AvroReader``
and the matching ``...RecordSetWriter``. Schemas are inferred, embedded, or declared in a
small syntax (:mod:`.schema`); fields are addressed with record paths (:mod:`.record_path`).
See ``docs/records.md``.
"""

from __future__ import annotations

from ._api import (
    RecordError,
    RecordReader,
    RecordReaderFactory,
    RecordSetWriter,
    RecordSetWriterFactory,
    SchemaRegistry,
    WriteResult,
)
from .lookup import LookupService
from .record_path import RecordPath, RecordPathError, compile_path
from .schema import (
    SchemaSyntaxError,
    conform,
    format_schema,
    format_type,
    parse_schema,
    parse_type,
)

__all__ = [
    "LookupService",
    "RecordError",
    "RecordPath",
    "RecordPathError",
    "RecordReader",
    "RecordReaderFactory",
    "RecordSetWriter",
    "RecordSetWriterFactory",
    "SchemaRegistry",
    "SchemaSyntaxError",
    "WriteResult",
    "compile_path",
    "conform",
    "format_schema",
    "format_type",
    "parse_schema",
    "parse_type",
]
