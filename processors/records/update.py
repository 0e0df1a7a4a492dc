"""UpdateRecord: sets record fields from literal / Expression Language values or other fields."""

from __future__ import annotations

import re
from typing import Any, BinaryIO

import pyarrow as pa
from flowengine.controller_services.records import (
    RecordError,
    RecordPath,
    RecordPathError,
    compile_path,
)

from flowengine import (
    AllowableValue,
    DynamicProperties,
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
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

__all__ = ["UpdateRecord"]

LITERAL = "literal-value"
RECORD_PATH = "record-path-value"
_PER_RECORD = re.compile(r"\b(field\.value|field\.name|field\.type|record\.index)\b")


def _fit(
    values: pa.Array, target: pa.DataType | None, path: RecordPath, first: int
) -> pa.Array:
    if target is None or values.type.equals(target):
        return values
    try:
        return values.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise RecordError(
            f"records {first}..: the value for {path.text!r} does not fit {target}: {exc}"
        ) from None


class UpdateRecord(Processor):
    """Updates fields of every record: each dynamic property maps a record path to a value.

    With *Literal Value* the value is text with Expression Language, evaluated once per
    FlowFile (a constant column, the fast path), or once per record when it uses
    ``field.value``, ``field.name``, ``field.type`` or ``record.index`` (as in NiFi; slower).
    With *Record Path Value* the value is another record path whose values are copied.
    Values are converted to the type of the field they replace; a new top-level field
    is added as text (literal) or with the source's type (record path).
    """

    tags = (
        "update",
        "record",
        "generic",
        "schema",
        "json",
        "csv",
        "avro",
        "log",
        "logs",
        "freeform",
        "text",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # Arrow/DuckDB work on large FlowFiles: worker threads
    dynamic_properties = DynamicProperties(
        "A record path to set, and its new value (see Replacement Value Strategy).",
        name="A record path",
        value="The value to set",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    writes_attributes = {
        "record.count": "records written",
        "mime.type": "the writer's MIME type",
        "record.error.message": "why the FlowFile went to failure",
    }
    example = """\
update:
  type: UpdateRecord
  properties:
    record_reader: json
    record_writer: json_out
    /source: "${filename}"
    /status: approved
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER
    STRATEGY = PropertyDescriptor(
        "replacement_value_strategy",
        "How dynamic property values are interpreted.",
        display_name="Replacement Value Strategy",
        aliases=("replacement-value-strategy",),
        default=LITERAL,
        required=True,
        allowable_values=(
            AllowableValue(LITERAL, "Literal Value", "Text with Expression Language"),
            AllowableValue(
                RECORD_PATH, "Record Path Value", "A record path whose value is copied"
            ),
        ),
    )

    SUCCESS = Relationship("success", "FlowFiles whose records were updated")
    FAILURE = FAILURE

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if not context.dynamic_properties:
            return [
                "at least one record path to update (a dynamic property) is required"
            ]
        problems = []
        strategy = context.property(self.STRATEGY).value
        for name, pv in context.dynamic_properties.items():
            try:
                if not compile_path(name).settable:
                    problems.append(f"{name}: only /field/field paths can be updated")
                if strategy == RECORD_PATH:
                    compile_path(pv.value or "")
            except RecordPathError as exc:
                problems.append(str(exc))
        return problems

    def on_scheduled(self, context: ProcessContext) -> None:
        self._strategy = context.property(self.STRATEGY).value
        self._updates: list[tuple[RecordPath, Any, RecordPath | None, bool]] = []
        for name, pv in context.dynamic_properties.items():
            source = (
                compile_path(pv.value or "") if self._strategy == RECORD_PATH else None
            )
            per_record = source is None and bool(_PER_RECORD.search(pv.value or ""))
            self._updates.append((compile_path(name), pv, source, per_record))

    def _transform(
        self, ff: FlowFile, batch: pa.RecordBatch, first: int
    ) -> pa.RecordBatch:
        n = batch.num_rows
        original = batch
        for path, pv, source, per_record in self._updates:
            current = path.evaluate(batch) if path.settable else None
            exists = (
                batch.schema.get_field_index(path.field_name) >= 0
                or len(path.steps) > 1
            )
            target = (
                current.type
                if current is not None and exists and not pa.types.is_null(current.type)
                else None
            )
            if source is not None:
                values = source.evaluate(original)
            elif per_record:
                old = current.to_pylist() if current is not None else [None] * n
                ftype = str(target) if target is not None else "string"
                values = pa.array(
                    [
                        pv.evaluate(
                            ff,
                            extras={
                                "field.value": "" if v is None else str(v),
                                "field.name": path.field_name,
                                "field.type": ftype,
                                "record.index": str(first - 1 + i),
                            },
                        ).value
                        for i, v in enumerate(old)
                    ],
                    pa.string(),
                )
            else:
                value = pv.evaluate(ff).value
                values = pa.repeat(pa.scalar(value, pa.string()), n)
            batch = path.set(batch, _fit(values, target, path, first))
        return batch

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        for ff in session.get(context.batch_size):
            attrs = dict(ff.attributes)
            results: list[Any] = []

            def update(
                src: BinaryIO,
                out: BinaryIO,
                ff: FlowFile = ff,
                attrs: dict[str, str] = attrs,
                results: list[Any] = results,
            ) -> None:
                with reader_f.create_reader(src, attrs) as reader:
                    empty = pa.RecordBatch.from_pylist([], schema=reader.schema)
                    schema = self._transform(ff, empty, 1).schema
                    count = [0]

                    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
                        out_batch = self._transform(ff, batch, count[0] + 1)
                        count[0] += batch.num_rows
                        return out_batch

                    results.append(
                        copy_records(reader, schema, writer_f, out, attrs, transform)
                    )

            try:
                ff = session.rewrite(ff, update)
            except DATA_ERRORS as exc:  # RecordPathError is a ValueError
                route_failure(context, session, ff, exc)
                continue
            ff = session.put_attributes(ff, result_attributes(results[0]))
            session.transfer(ff, self.SUCCESS)
