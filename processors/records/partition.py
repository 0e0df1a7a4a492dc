"""PartitionRecord: groups records by the values of record paths, one FlowFile per group."""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from flowengine.controller_services.records import (
    RecordError,
    RecordPath,
    RecordPathError,
    compile_path,
)

from flowengine import (
    DynamicProperties,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    Relationship,
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
from ._spool import Spool

__all__ = ["PartitionRecord", "group_rows"]

#: batches up to this many records are grouped in Python
_SMALL_BATCH = 64


def _as_text(values: pa.Array, path: RecordPath) -> pa.Array:
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_large_string(values.type) or pa.types.is_null(values.type):
        return values.cast(pa.string())
    if pa.types.is_nested(values.type):
        raise RecordError(
            f"record path {path.text!r} selects {values.type}, not a single value"
        )
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, "true", "false")
    return values.cast(pa.string())


def group_rows(
    batch: pa.RecordBatch, paths: list[RecordPath]
) -> list[tuple[tuple[str | None, ...], pa.RecordBatch]]:
    """The records of ``batch`` grouped by the text values of ``paths``, in order of
    first appearance (hash grouping in Arrow; nulls form their own group)."""
    if batch.num_rows == 0:
        return []
    keys = {f"k{i}": _as_text(p.evaluate(batch), p) for i, p in enumerate(paths)}
    if batch.num_rows <= _SMALL_BATCH:
        # (a few records: grouping in Python costs microseconds where Acero's
        # group-by costs a fraction of a millisecond to set up)
        groups: dict[tuple[str | None, ...], list[int]] = {}
        for i, key in enumerate(
            zip(*(k.to_pylist() for k in keys.values()), strict=True)
        ):
            groups.setdefault(key, []).append(i)
        if len(groups) == 1:
            return [(next(iter(groups)), batch)]
        return [(key, batch.take(pa.array(ix))) for key, ix in groups.items()]
    names = list(keys)
    ones = pa.repeat(pa.scalar(1, pa.int64()), batch.num_rows)
    rows_index = pc.subtract(pc.cumulative_sum(ones), 1)  # 0..n-1 without Python ints
    table = pa.table({**keys, "__row": rows_index})
    grouped = table.group_by(names, use_threads=False).aggregate([("__row", "list")])
    cols = [grouped.column(n).to_pylist() for n in names]
    rows = grouped.column("__row_list")
    out = []
    for g in range(grouped.num_rows):
        key = tuple(c[g] for c in cols)
        out.append((key, batch.take(rows[g].values)))
    return out


class PartitionRecord(Processor):
    """Splits records into groups with equal values at the given record paths.

    Each dynamic property names a partition attribute and gives its record path
    (``/customer/region``); every output FlowFile holds the records sharing one
    combination of values, and carries each value as an attribute (absent when null) —
    the way to build Hive-style layouts such as ``region=${region}/``. Groups are
    computed in Arrow per batch; outputs are held in memory up to a limit and then
    spooled to temporary files, so memory stays bounded.
    """

    tags = (
        "record",
        "partition",
        "recordpath",
        "rpath",
        "segment",
        "split",
        "group",
        "bin",
        "organize",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # Arrow/DuckDB work on large FlowFiles: worker threads
    dynamic_properties = DynamicProperties(
        "A record path whose value partitions the records; the value becomes an attribute of this name.",
        name="An attribute name",
        value="A record path",
    )
    writes_attributes = {
        "record.count": "records in the partition",
        "mime.type": "the writer's MIME type",
        "fragment.identifier": "the same for all partitions of one input",
        "fragment.index": "position of the partition, from 0",
        "fragment.count": "number of partitions of the input",
        "<dynamic property name>": "the partition's value of that record path",
    }
    example = """\
partition:
  type: PartitionRecord
  properties: {record_reader: parquet_in, record_writer: parquet, region: /region}
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER

    SUCCESS = Relationship("success", "One FlowFile per partition")
    ORIGINAL = Relationship("original", "The input, once partitioned")
    FAILURE = FAILURE

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if not context.dynamic_properties:
            return ["at least one record path (a dynamic property) is required"]
        problems = []
        for name, pv in context.dynamic_properties.items():
            try:
                compile_path(pv.value or "")
            except RecordPathError as exc:
                problems.append(f"{name}: {exc}")
        return problems

    def on_scheduled(self, context: ProcessContext) -> None:
        self._paths = [
            (name, compile_path(pv.value or ""))
            for name, pv in context.dynamic_properties.items()
        ]

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        names = [n for n, _ in self._paths]
        paths = [p for _, p in self._paths]
        for ff in session.get(context.batch_size):
            attrs = dict(ff.attributes)
            children: list[FlowFile] = []
            try:
                with Spool() as spool:
                    with (
                        session.open(ff) as src,
                        reader_f.create_reader(src, attrs) as reader,
                    ):
                        schema = reader.schema
                        for batch in reader:
                            for key, rows in group_rows(batch, paths):
                                spool.add(key, rows)
                    children.extend(
                        self._emit(
                            session, ff, spool, group, names, schema, writer_f, attrs
                        )
                        for group in spool.groups()
                    )
            except DATA_ERRORS as exc:
                session.remove(children)
                route_failure(context, session, ff, exc)
                continue
            frag = str(uuid.uuid4())
            for i, child in enumerate(children):
                child = session.put_attributes(
                    child,
                    {
                        "fragment.identifier": frag,
                        "fragment.index": str(i),
                        "fragment.count": str(len(children)),
                    },
                )
                session.transfer(child, self.SUCCESS)
            session.transfer(ff, self.ORIGINAL)

    def _emit(
        self,
        session: ProcessSession,
        ff: FlowFile,
        spool: Spool,
        key: Hashable,
        names: list[str],
        schema: pa.Schema,
        writer_f: Any,
        attrs: dict[str, str],
    ) -> FlowFile:
        values = dict(zip(names, key, strict=True))  # type: ignore[call-overload]
        child = session.create(ff)
        child_attrs = {**attrs, **{k: v for k, v in values.items() if v is not None}}
        results: list[Any] = []

        def write(out: BinaryIO) -> None:
            results.append(
                copy_records(spool.batches(key), schema, writer_f, out, child_attrs)
            )

        try:
            child = session.write(child, write)
        except BaseException:
            session.remove(child)
            raise
        extra = result_attributes(results[0])
        extra.update({k: v for k, v in values.items() if v is not None})
        removed = [k for k, v in values.items() if v is None and k in attrs]
        child = session.put_attributes(child, extra)
        if removed:
            child = session.remove_attributes(child, removed)
        return child
