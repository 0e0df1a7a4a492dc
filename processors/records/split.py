"""SplitRecord: splits a FlowFile's records into FlowFiles of at most N records."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
from flowengine.controller_services.records import RecordError

from flowengine import (
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._common import (
    DATA_ERRORS,
    FAILURE,
    RECORD_READER,
    RECORD_WRITER,
    copy_records,
    result_attributes,
    route_failure,
    services,
)

__all__ = ["SplitRecord"]


class _Chunker:
    """Hands out consecutive runs of exactly ``n`` records (the last may be shorter)
    from a stream of batches, slicing batches without copying."""

    def __init__(self, batches: Iterator[pa.RecordBatch], n: int) -> None:
        self._batches = batches
        self._n = n
        self._left: pa.RecordBatch | None = None
        self.done = False

    def next_run(self) -> Iterator[pa.RecordBatch]:
        need = self._n
        while need > 0:
            batch = self._left
            self._left = None
            if batch is None:
                batch = next(self._batches, None)
                if batch is None:
                    self.done = True
                    return
            if batch.num_rows == 0:
                continue
            if batch.num_rows > need:
                self._left = batch.slice(need)
                batch = batch.slice(0, need)
            need -= batch.num_rows
            yield batch

    def has_more(self) -> bool:
        if self._left is not None and self._left.num_rows:
            return True
        while True:
            batch = next(self._batches, None)
            if batch is None:
                self.done = True
                return False
            if batch.num_rows:
                self._left = batch
                return True


class SplitRecord(Processor):
    """Splits the records of each FlowFile into FlowFiles of Records Per Split records.

    Splits are written one after the other while the input is read once. Each split
    gets ``fragment.identifier``, ``fragment.index`` (from 0), ``fragment.count``,
    ``segment.original.filename``, ``record.count`` and ``mime.type``; the input goes to
    ``original``.
    """

    tags = (
        "split",
        "generic",
        "schema",
        "json",
        "csv",
        "avro",
        "parquet",
        "log",
        "logs",
        "freeform",
        "text",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # Arrow/DuckDB work on large FlowFiles: worker threads
    writes_attributes = {
        "mime.type": "the writer's MIME type",
        "record.count": "records in the split",
        "fragment.identifier": "the same for all splits of one input",
        "fragment.index": "position of the split, from 0",
        "fragment.count": "number of splits of the input",
        "segment.original.filename": "filename of the input",
    }

    example = """\
split:
  type: SplitRecord
  properties: {record_reader: csv, record_writer: csv_out, records_per_split: 10000}
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER
    RECORDS_PER_SPLIT = PropertyDescriptor(
        "records_per_split",
        "Maximum records in each split.",
        display_name="Records Per Split",
        required=True,
        validators=(),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )

    SPLITS = Relationship("splits", "The splits")
    ORIGINAL = Relationship("original", "The input, after it was split")
    FAILURE = FAILURE

    def custom_validate(self, context: ProcessContext) -> list[str]:
        pv = context.property(self.RECORDS_PER_SPLIT)
        if pv.value is not None and not pv.has_expressions:
            problem = validators.POSITIVE_INTEGER(pv.value)
            if problem:
                return [f"records_per_split: {problem}"]
        return []

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        for ff in session.get(context.batch_size):
            attrs = dict(ff.attributes)
            splits: list[FlowFile] = []
            try:
                raw = context.property(self.RECORDS_PER_SPLIT).evaluate(ff).value or ""
                try:
                    n = int(raw)
                except ValueError:
                    n = 0
                if n < 1:
                    raise RecordError(
                        f"Records Per Split must be a positive integer, got {raw!r}"
                    )
                with (
                    session.open(ff) as src,
                    reader_f.create_reader(src, attrs) as reader,
                ):
                    chunker = _Chunker(iter(reader), n)
                    while chunker.has_more():
                        child = session.create(ff)
                        splits.append(child)
                        results: list[Any] = []

                        def write(
                            out: BinaryIO,
                            results: list[Any] = results,
                            schema: pa.Schema = reader.schema,
                            attrs: dict[str, str] = attrs,
                            chunker: _Chunker = chunker,
                        ) -> None:
                            results.append(
                                copy_records(
                                    chunker.next_run(), schema, writer_f, out, attrs
                                )
                            )

                        child = session.write(child, write)
                        splits[-1] = session.put_attributes(
                            child, result_attributes(results[0])
                        )
            except DATA_ERRORS as exc:
                session.remove(splits)
                route_failure(context, session, ff, exc)
                continue
            frag = str(uuid.uuid4())
            total = str(len(splits))
            original_name = ff.get("filename") or ""
            for i, child in enumerate(splits):
                child = session.put_attributes(
                    child,
                    {
                        "fragment.identifier": frag,
                        "fragment.index": str(i),
                        "fragment.count": total,
                        "segment.original.filename": original_name,
                    },
                )
                session.transfer(child, self.SPLITS)
            session.transfer(ff, self.ORIGINAL)
