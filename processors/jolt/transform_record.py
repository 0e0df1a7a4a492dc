"""JoltTransformRecord: apply a Jolt specification to every record of a FlowFile."""

from __future__ import annotations

from typing import Any, BinaryIO

import pyarrow as pa
from flowengine.processors.records._common import (
    DATA_ERRORS,
    RECORD_READER,
    RECORD_WRITER,
    result_attributes,
    route_failure,
    services,
)

from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    Relationship,
)

from ._jolt import JoltSpecError, JoltTransformError
from .transform_json import _SORT, JoltTransformJSON, _Cache, _spec_text

__all__ = ["JoltTransformRecord"]


class JoltTransformRecord(Processor):
    """Applies a Jolt specification to each record read by the Record Reader and writes
    the results with the Record Writer.

    Records are transformed as JSON-like values (a record is an object, a list an
    array), batch by batch, so memory stays bounded by the reader's batch size. The
    output schema is inferred from the first batch of transformed records; a later
    record that does not fit it, a spec that fails at run time, or unreadable input
    sends the FlowFile to ``failure`` with ``record.error.message``. The input goes to
    ``original`` when the transformed FlowFile goes to ``success``.
    """

    tags = (
        "record",
        "jolt",
        "transform",
        "shiftr",
        "chainr",
        "defaultr",
        "removr",
        "cardinality",
        "sort",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False
    writes_attributes = {
        "mime.type": "the writer's MIME type",
        "record.count": "records written",
        "record.error.message": "why the FlowFile went to failure",
    }
    example = """\
reshape:
  type: JoltTransformRecord
  properties:
    record_reader: json_in
    record_writer: json_out
    Jolt Transform: jolt-transform-shift
    Jolt Specification: '{"name": "person.name"}'
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER
    JOLT_TRANSFORM = JoltTransformJSON.JOLT_TRANSFORM
    JOLT_SPEC = JoltTransformJSON.JOLT_SPEC
    TRANSFORM_CACHE_SIZE = JoltTransformJSON.TRANSFORM_CACHE_SIZE
    SUCCESS = Relationship(
        "success",
        "The FlowFile with transformed content will be routed to this relationship",
    )
    FAILURE = Relationship(
        "failure",
        "If a FlowFile fails processing for any reason (for example, the FlowFile records cannot be parsed), it will be routed to this relationship",
    )
    ORIGINAL = Relationship(
        "original",
        "The original FlowFile that was transformed. If the FlowFile fails processing, nothing will be sent to this relationship",
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        transform = context.property(self.JOLT_TRANSFORM).value or ""
        raw = context.property(self.JOLT_SPEC).value
        if transform == _SORT:
            return []
        if not raw or not raw.strip():
            return [
                f"Jolt Specification is required for {transform}; hint: give the spec JSON inline or a file path"
            ]
        if "${" in raw:
            return []
        try:
            _Cache(1).get(transform, _spec_text(raw))
        except JoltSpecError as exc:
            return [
                f"Jolt Specification: {exc}; hint: check the JSON at that position (comments // and /* */ are allowed)"
            ]
        except OSError as exc:
            return [f"Jolt Specification: cannot read the file: {exc}"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._cache = _Cache(context.property(self.TRANSFORM_CACHE_SIZE).as_int() or 1)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        transform = (
            context.property(self.JOLT_TRANSFORM).value or "jolt-transform-chain"
        )
        spec_pv = context.property(self.JOLT_SPEC)
        for ff in session.get(context.batch_size):
            attrs = dict(ff.attributes)
            results: list[Any] = []
            try:
                text = (
                    ""
                    if transform == _SORT
                    else _spec_text(spec_pv.evaluate(ff).value or "")
                )
                run = self._cache.get(transform, text)
            except (JoltSpecError, OSError) as exc:
                route_failure(context, session, ff, exc)
                continue

            def apply(
                src: BinaryIO,
                out: BinaryIO,
                attrs: dict[str, str] = attrs,
                results: list[Any] = results,
                run: Any = run,
            ) -> None:
                with reader_f.create_reader(src, attrs) as reader:
                    writer = None
                    schema: pa.Schema | None = None
                    try:
                        for batch in reader:
                            docs = [run(rec, None) for rec in batch.to_pylist()]
                            if schema is None:
                                table = pa.Table.from_pylist(docs)
                                schema = table.schema
                                writer = writer_f.create_writer(out, schema, attrs)
                                out_batch: Any = table
                            else:
                                out_batch = pa.Table.from_pylist(docs, schema=schema)
                            assert writer is not None
                            writer.write(out_batch)
                        if writer is None:
                            writer = writer_f.create_writer(out, reader.schema, attrs)
                        results.append(writer.finish())
                    finally:
                        if writer is not None:
                            writer.close()

            transformed = session.clone(ff)
            try:
                transformed = session.rewrite(transformed, apply)
            except (
                *DATA_ERRORS,
                JoltTransformError,
                pa.ArrowException,
                TypeError,
                ValueError,
            ) as exc:
                session.remove(transformed)
                route_failure(context, session, ff, exc)
                continue
            transformed = session.put_attributes(
                transformed, result_attributes(results[0])
            )
            session.transfer(transformed, self.SUCCESS)
            session.transfer(ff, self.ORIGINAL)
