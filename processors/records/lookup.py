"""LookupRecord: enriches records with values from a lookup service, column-wise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from flowengine.controller_services.records import (
    LookupService,
    RecordPathError,
    compile_path,
)

from flowengine import (
    AllowableValue,
    DynamicProperties,
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
from ._spool import Spool

__all__ = ["LookupRecord"]

TO_SUCCESS = "route-to-success"
MATCHED_UNMATCHED = "route-to-matched-unmatched"
ENTIRE = "insert-entire-record"
FIELDS = "record-fields"


class LookupRecord(Processor):
    """Looks up a value for every record and stores it in the record.

    Dynamic properties give the lookup coordinates as record paths (``key: /customer_id``).
    The whole FlowFile's keys are looked up column-wise (a hash lookup in Arrow). The
    result is put at Result RecordPath: the value itself, or for a record result either
    the whole record (*Insert Entire Record*) or its fields next to the result path
    (*Insert Record Fields*). With *Route to 'matched' or 'unmatched'* records are split by
    whether their lookup matched.
    """

    tags = (
        "lookup",
        "enrichment",
        "route",
        "record",
        "csv",
        "json",
        "avro",
        "database",
        "logs",
        "convert",
        "filter",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # Arrow/DuckDB work on large FlowFiles: worker threads
    dynamic_properties = DynamicProperties(
        "A lookup coordinate (the service's key name, usually `key`) and the record path of its value.",
        name="A coordinate name",
        value="A record path",
    )
    writes_attributes = {
        "record.count": "records written",
        "mime.type": "the writer's MIME type",
    }

    example = """\
enrich:
  type: LookupRecord
  properties:
    record_reader: json
    record_writer: json_out
    lookup_service: countries
    key: /country_code
    result_recordpath: /country
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER
    LOOKUP_SERVICE = PropertyDescriptor(
        "lookup_service",
        "The lookup service.",
        display_name="Lookup Service",
        aliases=("lookup-service",),
        required=True,
        service=LookupService,
    )
    RESULT_PATH = PropertyDescriptor(
        "result_recordpath",
        "Where the result goes (a field path); with Insert Record Fields, `/` adds "
        "the result's fields at the top level.",
        display_name="Result RecordPath",
        aliases=("result-record-path",),
    )
    ROUTING = PropertyDescriptor(
        "routing_strategy",
        "Where records go.",
        display_name="Routing Strategy",
        aliases=("routing-strategy",),
        default=TO_SUCCESS,
        allowable_values=(
            AllowableValue(TO_SUCCESS, "Route to 'success'", "All records to success"),
            AllowableValue(
                MATCHED_UNMATCHED,
                "Route to 'matched' or 'unmatched'",
                "Split by lookup outcome",
            ),
        ),
    )
    RESULT_CONTENTS = PropertyDescriptor(
        "record_result_contents",
        "What of a record result is stored.",
        display_name="Record Result Contents",
        aliases=("record-result-contents",),
        default=ENTIRE,
        allowable_values=(
            AllowableValue(
                ENTIRE, "Insert Entire Record", "The result record as one field"
            ),
            AllowableValue(
                FIELDS, "Insert Record Fields", "The result's fields, each as a field"
            ),
        ),
    )

    SUCCESS = Relationship("success", "Records after the lookup")
    MATCHED = Relationship("matched", "Records whose lookup matched")
    UNMATCHED = Relationship("unmatched", "Records whose lookup did not match")
    FAILURE = FAILURE

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        if properties.get("routing_strategy") == MATCHED_UNMATCHED:
            return [cls.MATCHED, cls.UNMATCHED, cls.FAILURE]
        return [cls.SUCCESS, cls.FAILURE]

    def custom_validate(self, context: ProcessContext) -> list[str]:
        problems = []
        if not context.dynamic_properties:
            problems.append(
                "at least one lookup coordinate (a dynamic property, e.g. key: /id) is required"
            )
        for name, pv in context.dynamic_properties.items():
            try:
                compile_path(pv.value or "")
            except RecordPathError as exc:
                problems.append(f"{name}: {exc}")
        result = context.property(self.RESULT_PATH).value
        if result and result.strip() != "/":
            try:
                if not compile_path(result).settable:
                    problems.append(
                        "result_recordpath: only /field/field paths can receive results"
                    )
            except RecordPathError as exc:
                problems.append(f"result_recordpath: {exc}")
        return problems

    def on_scheduled(self, context: ProcessContext) -> None:
        self._coords = {
            n: compile_path(pv.value or "")
            for n, pv in context.dynamic_properties.items()
        }
        result = (context.property(self.RESULT_PATH).value or "").strip()
        self._result = None if not result or result == "/" else compile_path(result)
        self._fields = context.property(self.RESULT_CONTENTS).value == FIELDS
        self._split = context.property(self.ROUTING).value == MATCHED_UNMATCHED

    def _enrich(
        self, service: LookupService, batch: pa.RecordBatch
    ) -> tuple[pa.RecordBatch, pa.Array]:
        coords = {name: path.evaluate(batch) for name, path in self._coords.items()}
        found = service.lookup(coords)
        matched = found.is_valid()
        if self._fields and pa.types.is_struct(found.type):
            prefix = self._result.text.rstrip("/") if self._result is not None else ""
            for i in range(found.type.num_fields):
                name = found.type.field(i).name
                batch = compile_path(f"{prefix}/{name}").set(
                    batch, pc.struct_field(found, [i])
                )
        elif self._result is not None:
            batch = self._result.set(batch, found)
        return batch, matched

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        service = context.property(self.LOOKUP_SERVICE).as_service(LookupService)
        for ff in session.get(context.batch_size):
            created: list[FlowFile] = []
            try:
                self._one(session, ff, reader_f, writer_f, service, created)
            except DATA_ERRORS as exc:  # RecordPathError is a ValueError
                session.remove(created)
                route_failure(context, session, ff, exc)

    def _one(
        self,
        session: ProcessSession,
        ff: FlowFile,
        reader_f: Any,
        writer_f: Any,
        service: LookupService,
        created: list[FlowFile],
    ) -> None:
        attrs = dict(ff.attributes)
        if not self._split:  # one output: stream the content through, in place
            done: list[Any] = []

            def enrich(src: BinaryIO, out: BinaryIO) -> None:
                with reader_f.create_reader(src, attrs) as reader:
                    empty = pa.RecordBatch.from_pylist([], schema=reader.schema)
                    schema = self._enrich(service, empty)[0].schema
                    done.append(
                        copy_records(
                            reader,
                            schema,
                            writer_f,
                            out,
                            attrs,
                            lambda b: self._enrich(service, b)[0],
                        )
                    )

            ff = session.rewrite(ff, enrich)
            session.transfer(
                session.put_attributes(ff, result_attributes(done[0])), self.SUCCESS
            )
            return
        with Spool() as spool:
            with session.open(ff) as src, reader_f.create_reader(src, attrs) as reader:
                schema: pa.Schema | None = None
                for batch in reader:
                    out, matched = self._enrich(service, batch)
                    schema = out.schema
                    spool.add("matched", out.filter(matched))
                    spool.add("unmatched", out.filter(pc.invert(matched)))
                if schema is None:
                    empty = pa.RecordBatch.from_pylist([], schema=reader.schema)
                    schema = self._enrich(service, empty)[0].schema
            outputs = []
            for rel in ("matched", "unmatched"):
                if not spool.rows(rel):
                    continue
                child = session.create(ff)
                created.append(child)
                results: list[Any] = []

                def write(
                    out: BinaryIO,
                    rel: str = rel,
                    results: list[Any] = results,
                    schema: pa.Schema = schema,
                ) -> None:
                    results.append(
                        copy_records(spool.batches(rel), schema, writer_f, out, attrs)
                    )

                child = session.write(child, write)
                created[-1] = child
                outputs.append(
                    (session.put_attributes(child, result_attributes(results[0])), rel)
                )
        for child, rel in outputs:
            session.transfer(child, rel)
        session.remove(ff)
