"""ConvertRecord: records from any reader to any writer, streamed batch by batch."""

from __future__ import annotations

from typing import Any, BinaryIO

from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    Relationship,
)

from ._common import (
    DATA_ERRORS,
    FAILURE,
    INCLUDE_ZERO,
    RECORD_READER,
    RECORD_WRITER,
    copy_records,
    result_attributes,
    route_failure,
    services,
)

__all__ = ["ConvertRecord"]


class ConvertRecord(Processor):
    """Converts records from one format to another (any Record Reader to any Record Writer).

    The content is streamed: the reader yields Arrow batches that the writer appends, so a
    multi-GB FlowFile converts with bounded memory. A FlowFile whose data cannot be read or
    does not fit the writer's schema goes to ``failure`` with ``record.error.message``
    naming the line or record.
    """

    tags = (
        "convert",
        "record",
        "generic",
        "schema",
        "json",
        "csv",
        "avro",
        "parquet",
        "freeform",
        "text",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # Arrow/DuckDB work on large FlowFiles: worker threads
    writes_attributes = {
        "mime.type": "the writer's MIME type",
        "record.count": "records written",
        "record.error.message": "why the FlowFile went to failure",
    }
    example = """\
convert:
  type: ConvertRecord
  properties: {record_reader: csv, record_writer: parquet}
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER
    INCLUDE_ZERO = INCLUDE_ZERO

    SUCCESS = Relationship("success", "FlowFiles converted successfully")
    FAILURE = FAILURE

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        include_zero = bool(context.property(INCLUDE_ZERO).as_bool())
        for ff in session.get(context.batch_size):
            attrs = dict(ff.attributes)
            results: list[Any] = []

            def convert(
                src: BinaryIO,
                out: BinaryIO,
                attrs: dict[str, str] = attrs,
                results: list[Any] = results,
            ) -> None:
                with reader_f.create_reader(src, attrs) as reader:
                    results.append(
                        copy_records(reader, reader.schema, writer_f, out, attrs)
                    )

            try:
                ff = session.rewrite(ff, convert)
            except DATA_ERRORS as exc:
                route_failure(context, session, ff, exc)
                continue
            result = results[0]
            if result.record_count == 0 and not include_zero:
                session.remove(ff)
                continue
            ff = session.put_attributes(ff, result_attributes(result))
            session.transfer(ff, self.SUCCESS)
