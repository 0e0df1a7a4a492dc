"""What the record processors share: reader/writer properties, copying, failure routing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, BinaryIO

import pyarrow as pa
from flowengine.controller_services.records import (
    RecordError,
    RecordReader,
    RecordReaderFactory,
    RecordSetWriterFactory,
    WriteResult,
)

from flowengine import (
    FlowFile,
    ProcessContext,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

__all__ = [
    "DATA_ERRORS",
    "FAILURE",
    "INCLUDE_ZERO",
    "RECORD_READER",
    "RECORD_WRITER",
    "copy_records",
    "error_message",
    "route_failure",
    "services",
]

RECORD_READER = PropertyDescriptor(
    "record_reader",
    "The controller service that reads incoming records.",
    display_name="Record Reader",
    aliases=("record-reader",),
    required=True,
    service=RecordReaderFactory,
)
RECORD_WRITER = PropertyDescriptor(
    "record_writer",
    "The controller service that writes outgoing records.",
    display_name="Record Writer",
    aliases=("record-writer",),
    required=True,
    service=RecordSetWriterFactory,
)
INCLUDE_ZERO = PropertyDescriptor(
    "include_zero_record_flowfiles",
    "Emit a FlowFile even when it holds no record.",
    display_name="Include Zero Record FlowFiles",
    aliases=("include-zero-record-flowfiles",),
    default="true",
    validators=(validators.BOOLEAN,),
)
FAILURE = Relationship(
    "failure",
    "FlowFiles whose records cannot be read or written; "
    "record.error.message says why and where",
)

#: errors that mean "this FlowFile's data is bad" (route to failure) rather than a bug;
#: (DuckDB's errors are turned into RecordError by QueryRecord: importing DuckDB here
#: would cost every record flow ~15 MB and 0.1 s)
DATA_ERRORS: tuple[type[BaseException], ...] = (
    RecordError,
    pa.ArrowException,
    ValueError,
    TypeError,
    KeyError,
    UnicodeError,
    EOFError,
    OSError,
)


def services(
    context: ProcessContext,
) -> tuple[RecordReaderFactory, RecordSetWriterFactory]:
    """The configured reader and writer services."""
    return (
        context.property(RECORD_READER).as_service(RecordReaderFactory),
        context.property(RECORD_WRITER).as_service(RecordSetWriterFactory),
    )


def error_message(exc: BaseException) -> str:
    """The text for ``record.error.message``."""
    if isinstance(exc, RecordError):
        return str(exc)
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def route_failure(
    context: ProcessContext, session: ProcessSession, ff: FlowFile, exc: BaseException
) -> None:
    """Send ``ff`` to ``failure`` with ``record.error.message``; log a warning."""
    msg = error_message(exc)
    ff = session.put_attribute(ff, "record.error.message", msg[:4096])
    context.logger.warning("records_failed", flowfile=ff.get("uuid"), error=msg[:500])
    session.transfer(ff, FAILURE)


def open_reader(
    reader: RecordReaderFactory, src: BinaryIO, attributes: Mapping[str, str], **kw: Any
) -> RecordReader:
    """Open a reader, passing lenient-mode options only to readers that take them."""
    if kw:
        return reader.create_reader(src, attributes, **kw)
    return reader.create_reader(src, attributes)


def copy_records(
    batches: Iterable[pa.RecordBatch | pa.Table],
    schema: pa.Schema,
    writer: RecordSetWriterFactory,
    out: BinaryIO,
    attributes: Mapping[str, str],
    transform: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
) -> WriteResult:
    """Write every batch (transformed if asked) through a new writer onto ``out``; the
    writer is closed (its background work stopped) whatever happens."""
    with writer.create_writer(out, schema, attributes) as w:
        if transform is None:
            for batch in batches:
                w.write(batch)
        else:
            for batch in batches:
                w.write(transform(batch))  # type: ignore[arg-type]
        return w.finish()


def result_attributes(result: WriteResult) -> dict[str, str]:
    """``record.count`` and the writer's attributes (``mime.type``...)."""
    attrs = dict(result.attributes)
    attrs["record.count"] = str(result.record_count)
    return attrs
