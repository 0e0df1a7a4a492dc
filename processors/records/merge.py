"""MergeRecord: merges the records of many FlowFiles into fewer, larger FlowFiles."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pyarrow as pa

from flowengine import (
    AllowableValue,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from .._merging import unique_attributes
from ._common import (
    DATA_ERRORS,
    FAILURE,
    RECORD_READER,
    RECORD_WRITER,
    copy_records,
    error_message,
    result_attributes,
    route_failure,
    services,
)

__all__ = ["MergeRecord"]

BIN_PACKING = "Bin-Packing Algorithm"
DEFRAGMENT = "Defragment"
KEEP_COMMON = "Keep Only Common Attributes"
KEEP_UNIQUE = "Keep All Unique Attributes"


@dataclass
class _Bin:
    """FlowFiles waiting to be merged, held in their own session across triggers."""

    key: tuple[bytes, str | None]
    session: ProcessSession
    created: float
    schema: pa.Schema
    flowfiles: list[FlowFile] = field(default_factory=list)
    tables: list[pa.Table] = field(default_factory=list)
    records: int = 0
    size: int = 0
    expected: int | None = None  # fragment.count when defragmenting

    def add(self, ff: FlowFile, table: pa.Table) -> None:
        self.flowfiles.append(ff)
        self.tables.append(table)
        self.records += table.num_rows
        self.size += ff.size


def _schema_key(schema: pa.Schema) -> bytes:
    key: bytes = schema.remove_metadata().serialize().to_pybytes()
    return key


class MergeRecord(Processor):
    """Merges FlowFiles of records into larger FlowFiles (bins of compatible records).

    FlowFiles are binned by their record schema (records of different schemas are never
    merged together) and, if set, by the value of the Correlation Attribute. A bin is
    merged when it is full (Maximum Number of Records / Maximum Bin Size), when it meets
    the minimums and no more input is waiting, when it is older than Max Bin Age, when a
    new bin needs room (Maximum Number of Bins), or when the flow drains (nothing more can
    arrive) — a bin never waits forever. Held FlowFiles stay in per-bin sessions, so a
    crash returns them to the queue. *Defragment* rebuilds the splits of one input by
    ``fragment.identifier``/``fragment.index``/``fragment.count``.
    """

    tags = ("merge", "record", "content", "correlation", "stream", "event")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # Arrow/DuckDB work on large FlowFiles: worker threads
    trigger_when_empty = True
    trigger_serially = True
    writes_attributes = {
        "record.count": "records in the merged FlowFile",
        "mime.type": "the writer's MIME type",
        "merge.count": "FlowFiles merged",
        "merge.bin.age": "milliseconds the bin waited",
        "merge.completion.reason": "why the bin was merged",
        "merge.uuid": "(on originals) the uuid of the merged FlowFile",
    }
    example = """\
merge:
  type: MergeRecord
  properties:
    record_reader: parquet_in
    record_writer: parquet
    minimum_number_of_records: 100000
    maximum_number_of_records: 1000000
    max_bin_age: 5 min
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER
    STRATEGY = PropertyDescriptor(
        "merge_strategy",
        "How FlowFiles are grouped.",
        display_name="Merge Strategy",
        aliases=("merge-strategy",),
        default=BIN_PACKING,
        allowable_values=(
            AllowableValue(
                BIN_PACKING, BIN_PACKING, "Fill bins by schema and correlation value"
            ),
            AllowableValue(
                DEFRAGMENT, DEFRAGMENT, "Rebuild the fragments of one input"
            ),
        ),
    )
    CORRELATION = PropertyDescriptor(
        "correlation_attribute_name",
        "Only FlowFiles with the same value of this attribute are merged.",
        display_name="Correlation Attribute Name",
        aliases=("correlation-attribute-name",),
    )
    ATTRIBUTE_STRATEGY = PropertyDescriptor(
        "attribute_strategy",
        "Which attributes the merged FlowFile gets.",
        display_name="Attribute Strategy",
        default=KEEP_COMMON,
        allowable_values=(
            AllowableValue(KEEP_COMMON, KEEP_COMMON, "Attributes equal in every input"),
            AllowableValue(
                KEEP_UNIQUE,
                KEEP_UNIQUE,
                "Every attribute whose value does not conflict",
            ),
        ),
    )
    MIN_RECORDS = PropertyDescriptor(
        "minimum_number_of_records",
        "Records a bin needs before it is merged (unless it ages out).",
        display_name="Minimum Number of Records",
        aliases=("min-records",),
        default="1",
        validators=(validators.POSITIVE_INTEGER,),
    )
    MAX_RECORDS = PropertyDescriptor(
        "maximum_number_of_records",
        "A bin with this many records is merged.",
        display_name="Maximum Number of Records",
        aliases=("max-records",),
        default="1000",
        validators=(validators.POSITIVE_INTEGER,),
    )
    MIN_SIZE = PropertyDescriptor(
        "minimum_bin_size",
        "Content bytes a bin needs before it is merged.",
        display_name="Minimum Bin Size",
        aliases=("min-bin-size",),
        default="0 B",
        validators=(validators.DATA_SIZE,),
    )
    MAX_SIZE = PropertyDescriptor(
        "maximum_bin_size",
        "A bin with this much content is merged.",
        display_name="Maximum Bin Size",
        aliases=("max-bin-size",),
        validators=(validators.DATA_SIZE,),
    )
    MAX_AGE = PropertyDescriptor(
        "max_bin_age",
        "A bin this old is merged whatever its size.",
        display_name="Max Bin Age",
        aliases=("max-bin-age",),
        validators=(validators.TIME_PERIOD,),
    )
    MAX_BINS = PropertyDescriptor(
        "maximum_number_of_bins",
        "Bins held at once; a new bin merges the oldest first.",
        display_name="Maximum Number of Bins",
        aliases=("max.bin.count",),
        default="10",
        validators=(validators.POSITIVE_INTEGER,),
    )

    MERGED = Relationship("merged", "The merged FlowFiles")
    ORIGINAL = Relationship("original", "The inputs, once merged")
    FAILURE = FAILURE

    def custom_validate(self, context: ProcessContext) -> list[str]:
        lo, hi = (
            context.property(self.MIN_RECORDS).as_int() or 1,
            context.property(self.MAX_RECORDS).as_int() or 1,
        )
        return (
            [
                f"minimum_number_of_records ({lo}) exceeds maximum_number_of_records ({hi})"
            ]
            if lo > hi
            else []
        )

    def on_scheduled(self, context: ProcessContext) -> None:
        self._bins: dict[tuple[bytes, str | None], _Bin] = {}
        self._lock = threading.Lock()
        p = context.property
        self._defrag = p(self.STRATEGY).value == DEFRAGMENT
        self._corr = (
            "fragment.identifier" if self._defrag else p(self.CORRELATION).value
        )
        self._unique = p(self.ATTRIBUTE_STRATEGY).value == KEEP_UNIQUE
        self._min_records = int(p(self.MIN_RECORDS).as_int() or 1)
        self._max_records = int(p(self.MAX_RECORDS).as_int() or 1000)
        self._min_size = int(p(self.MIN_SIZE).as_data_size() or 0)
        self._min_size_text = p(self.MIN_SIZE).value or "0 B"
        self._max_size = (
            p(self.MAX_SIZE).as_data_size() if p(self.MAX_SIZE).is_set else None
        )
        self._max_age = (
            p(self.MAX_AGE).as_duration() if p(self.MAX_AGE).is_set else None
        )
        self._max_bins = int(p(self.MAX_BINS).as_int() or 10)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        with self._lock:
            flowfiles = session.get(context.batch_size)
            for ff in flowfiles:
                self._bin_one(context, session, ff, reader_f, writer_f)
            now = context.monotonic()
            drained = context.upstream_exhausted()
            for b in list(self._bins.values()):
                if drained:
                    self._report_short(context, b)
                    self._merge(
                        context, b, writer_f, "Upstream exhausted: the flow is draining"
                    )
                elif self._max_age is not None and now - b.created >= self._max_age:
                    self._merge(context, b, writer_f, "Max Bin Age reached")
                elif (
                    not flowfiles
                    and not self._defrag
                    and b.records >= self._min_records
                    and b.size >= self._min_size
                ):
                    self._merge(context, b, writer_f, "Minimum thresholds reached")

    def _report_short(self, context: ProcessContext, b: _Bin) -> None:
        """Tell the engine a bin flushed at drain fell short of a minimum (the run
        summary lists it), naming the first minimum it missed."""
        if self._defrag:
            if b.expected is not None and len(b.flowfiles) < b.expected:
                context.report_drain_flush(
                    len(b.flowfiles), "fragments", f"fragment.count {b.expected}"
                )
        elif b.records < self._min_records:
            context.report_drain_flush(
                b.records,
                "records",
                f"{self.MIN_RECORDS.label} {self._min_records}",
            )
        elif b.size < self._min_size:
            context.report_drain_flush(
                b.size, "bytes", f"{self.MIN_SIZE.label} {self._min_size_text}"
            )

    def _bin_one(
        self,
        context: ProcessContext,
        session: ProcessSession,
        ff: FlowFile,
        reader_f: Any,
        writer_f: Any,
    ) -> None:
        attrs = dict(ff.attributes)
        try:
            with session.open(ff) as src, reader_f.create_reader(src, attrs) as reader:
                table = reader.read_all()
            if self._defrag:
                int(attrs["fragment.index"])
                expected = int(attrs["fragment.count"])
        except DATA_ERRORS as exc:
            route_failure(context, session, ff, exc)
            return
        key = (_schema_key(table.schema), ff.get(self._corr) if self._corr else None)
        b = self._bins.get(key)
        if b is not None and not self._defrag:
            over_records = b.records + table.num_rows > self._max_records
            over_size = self._max_size is not None and b.size + ff.size > self._max_size
            if b.flowfiles and (over_records or over_size):
                self._merge(
                    context,
                    b,
                    writer_f,
                    "Maximum Number of Records reached"
                    if over_records
                    else "Maximum Bin Size reached",
                )
                b = None
        if b is None:
            if len(self._bins) >= self._max_bins:
                oldest = min(self._bins.values(), key=lambda x: x.created)
                self._merge(
                    context,
                    oldest,
                    writer_f,
                    "Maximum Number of Bins reached: oldest bin merged",
                )
            b = _Bin(key, context.new_session(), context.monotonic(), table.schema)
            self._bins[key] = b
        session.migrate(b.session, [ff])
        b.add(ff, table)
        if self._defrag:
            b.expected = expected
            if len(b.flowfiles) >= expected:
                self._merge(context, b, writer_f, "All fragments received")
        elif b.records >= self._max_records:
            self._merge(context, b, writer_f, "Maximum Number of Records reached")
        elif self._max_size is not None and b.size >= self._max_size:
            self._merge(context, b, writer_f, "Maximum Bin Size reached")

    def _merge(
        self, context: ProcessContext, b: _Bin, writer_f: Any, reason: str
    ) -> None:
        self._bins.pop(b.key, None)
        s = b.session
        flowfiles, tables = b.flowfiles, b.tables
        if self._defrag:
            order = sorted(
                range(len(flowfiles)),
                key=lambda i: int(flowfiles[i].get("fragment.index") or 0),
            )
            flowfiles, tables = (
                [flowfiles[i] for i in order],
                [tables[i] for i in order],
            )
        merged = s.create(flowfiles)
        attrs = dict(merged.attributes)
        results: list[Any] = []

        def write(out: BinaryIO) -> None:
            results.append(copy_records(tables, b.schema, writer_f, out, attrs))

        try:
            merged = s.write(merged, write)
        except DATA_ERRORS as exc:
            s.remove(merged)
            for ff in flowfiles:
                route_failure(context, s, ff, exc)
            s.commit()
            context.logger.warning("merge_failed", error=error_message(exc))
            return
        extra = result_attributes(results[0])
        if self._unique:
            extra = {**unique_attributes(flowfiles), **extra}
            extra.pop("uuid", None)
        age_ms = int((context.monotonic() - b.created) * 1000)
        extra.update(
            {
                "merge.count": str(len(flowfiles)),
                "merge.bin.age": str(age_ms),
                "merge.completion.reason": reason,
            }
        )
        merged = s.put_attributes(merged, extra)
        uid = merged.get("uuid") or ""
        for ff in flowfiles:
            s.transfer(s.put_attribute(ff, "merge.uuid", uid), self.ORIGINAL)
        s.transfer(merged, self.MERGED)
        s.commit()

    def on_unscheduled(self, context: ProcessContext) -> None:
        """Held FlowFiles go back to the queue (nothing is lost; they merge next run)."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            for b in self._bins.values():
                b.session.rollback()
            self._bins = {}
