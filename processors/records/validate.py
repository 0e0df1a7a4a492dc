"""ValidateRecord: splits each FlowFile's records into valid and invalid ones."""

from __future__ import annotations

from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from flowengine.controller_services.records import (
    RecordSetWriterFactory,
    format_type,
    parse_schema,
)

from flowengine import (
    AllowableValue,
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
    open_reader,
    result_attributes,
    route_failure,
    services,
)
from ._spool import Spool

__all__ = ["ValidateRecord", "bad_indices"]

READER_SCHEMA = "reader-schema"
SCHEMA_TEXT = "schema-text-property"
_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


def _casts(arr: pa.Array, target: pa.DataType, safe: bool) -> bool:
    try:
        arr.cast(target, safe=safe)
    except _CAST_ERRORS:
        return False
    return True


def bad_indices(
    arr: pa.Array, target: pa.DataType, safe: bool = True, base: int = 0
) -> list[int]:
    """Indices of the values that do not convert to ``target``: whole-array casts,
    halving only the parts that fail (cheap when bad values are few)."""
    if _casts(arr, target, safe):
        return []
    if len(arr) == 1:
        return [base]
    mid = len(arr) // 2
    return bad_indices(arr.slice(0, mid), target, safe, base) + bad_indices(
        arr.slice(mid), target, safe, base + mid
    )


class _Validator:
    def __init__(self, schema: pa.Schema, allow_extra: bool, strict: bool) -> None:
        self.schema = schema
        self.allow_extra = allow_extra
        self.strict = strict

    def check(
        self, batch: pa.RecordBatch, first: int
    ) -> tuple[pa.RecordBatch, pa.RecordBatch, dict[int, str]]:
        """(valid records in the validation schema, invalid records as read, reasons)."""
        n = batch.num_rows
        reasons: dict[int, str] = {}
        cols: list[pa.Array] = []
        for f in self.schema:
            i = batch.schema.get_field_index(f.name)
            if i < 0:
                col = pa.nulls(n, f.type)
                if not f.nullable:
                    for r in range(n):
                        reasons.setdefault(
                            r,
                            f"record {first + r}: required field {f.name!r} is missing",
                        )
                cols.append(col)
                continue
            col = batch.column(i)
            if not col.type.equals(f.type):
                bad = bad_indices(col, f.type, self.strict)
                for r in bad:
                    reasons.setdefault(
                        r,
                        f"record {first + r}: field {f.name!r} value {col[r].as_py()!r} is not a valid {format_type(f.type)}",
                    )
                if bad:
                    mask = pa.array([False] * n)
                    mask = pc.replace_with_mask(
                        mask,
                        pc.is_in(pa.array(range(n)), pa.array(bad)),
                        pa.array([True] * len(bad)),
                    )
                    col = pc.if_else(mask, pa.scalar(None, col.type), col)
                col = col.cast(f.type, safe=self.strict)
            if not f.nullable and col.null_count:
                for r in pc.indices_nonzero(col.is_null()).to_pylist():
                    reasons.setdefault(
                        r, f"record {first + r}: field {f.name!r} is null but required"
                    )
            cols.append(col)
        if not self.allow_extra:
            for i, name in enumerate(batch.schema.names):
                if (
                    self.schema.get_field_index(name) < 0
                    and batch.column(i).null_count < n
                ):
                    for r in pc.indices_nonzero(batch.column(i).is_valid()).to_pylist():
                        reasons.setdefault(
                            r,
                            f"record {first + r}: field {name!r} is not in the schema",
                        )
        typed = pa.RecordBatch.from_arrays(cols, schema=self.schema.remove_metadata())
        if not reasons:
            return typed, batch.slice(0, 0), reasons
        invalid = pa.array([r in reasons for r in range(n)])
        return typed.filter(pc.invert(invalid)), batch.filter(invalid), reasons


class ValidateRecord(Processor):
    """Validates records against a schema and splits them into valid and invalid ones.

    The schema is the reader's or one declared in Schema Text. A record is invalid when a
    value does not convert to its field's type (exactly with Strict Type Checking, else
    lossy conversions pass), a required field is null or missing, or (without Allow Extra
    Fields) it has fields the schema lacks. Valid records go to ``valid`` (with the
    validation schema's types), invalid ones to ``invalid`` (as read), each as a new
    FlowFile. Rows the reader cannot read at all (a CSV row with the wrong number of
    columns, a JSON line or array element that is not JSON) cannot be written as records:
    their text, as it was in the input, goes to ``failure`` as one new FlowFile with
    ``record.error.message`` naming each row's line, so nothing is lost; they are counted
    in the details too. Input that cannot be read at all goes to ``failure`` unchanged.
    """

    tags = ("record", "schema", "validate")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # Arrow/DuckDB work on large FlowFiles: worker threads
    writes_attributes = {
        "record.count": "records in the FlowFile",
        "mime.type": "the writer's MIME type",
        "validation.details": "why records are invalid (attribute name configurable)",
        "record.error.message": "why the FlowFile went to failure (for the rows that "
        "could not be read: each one's line and reason)",
    }

    example = """\
validate:
  type: ValidateRecord
  properties:
    record_reader: csv
    record_writer: parquet
    schema_access_strategy: schema-text-property
    schema_text: "id: int64 not null, email: string, amount: decimal(10, 2)"
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER
    INVALID_WRITER = PropertyDescriptor(
        "record_writer_for_invalid_records",
        "Writer for invalid records (default: the Record Writer).",
        display_name="Record Writer for Invalid Records",
        aliases=("invalid-record-writer",),
        service=RecordSetWriterFactory,
    )
    STRATEGY = PropertyDescriptor(
        "schema_access_strategy",
        "Which schema records are validated against.",
        display_name="Schema Access Strategy",
        aliases=("schema-access-strategy",),
        default=READER_SCHEMA,
        required=True,
        allowable_values=(
            AllowableValue(
                READER_SCHEMA, "Use Reader's Schema", "The schema the reader reports"
            ),
            AllowableValue(
                SCHEMA_TEXT, "Use 'Schema Text' Property", "The schema in Schema Text"
            ),
        ),
    )
    SCHEMA = PropertyDescriptor(
        "schema_text",
        "The validation schema (declaration syntax or Avro JSON).",
        display_name="Schema Text",
        aliases=("schema-text",),
        default="${avro.schema}",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("schema_access_strategy", (SCHEMA_TEXT,)),
    )
    ALLOW_EXTRA = PropertyDescriptor(
        "allow_extra_fields",
        "Records may have fields the schema lacks.",
        display_name="Allow Extra Fields",
        aliases=("allow-extra-fields",),
        default="true",
        validators=(validators.BOOLEAN,),
    )
    STRICT = PropertyDescriptor(
        "strict_type_checking",
        "Values must convert to their field's type without loss.",
        display_name="Strict Type Checking",
        aliases=("strict-type-checking",),
        default="true",
        validators=(validators.BOOLEAN,),
    )
    DETAILS_ATTRIBUTE = PropertyDescriptor(
        "validation_details_attribute_name",
        "Attribute of the invalid FlowFile that says why records are invalid.",
        display_name="Validation Details Attribute Name",
        aliases=("validation-details-attribute-name",),
        default="validation.details",
    )
    DETAILS_LENGTH = PropertyDescriptor(
        "maximum_validation_details_length",
        "Longest details text kept.",
        display_name="Maximum Validation Details Length",
        aliases=("maximum-validation-details-length",),
        default="1024",
        validators=(validators.POSITIVE_INTEGER,),
    )

    VALID = Relationship("valid", "Records that match the schema")
    INVALID = Relationship("invalid", "Records that do not match the schema")
    FAILURE = FAILURE

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        invalid_pv = context.property(self.INVALID_WRITER)
        invalid_f = (
            invalid_pv.as_service(RecordSetWriterFactory)
            if invalid_pv.is_set
            else writer_f
        )
        for ff in session.get(context.batch_size):
            created: list[FlowFile] = []
            try:
                self._one(context, session, ff, reader_f, writer_f, invalid_f, created)
            except DATA_ERRORS as exc:
                session.remove(created)
                route_failure(context, session, ff, exc)

    def _one(
        self,
        context: ProcessContext,
        session: ProcessSession,
        ff: FlowFile,
        reader_f: Any,
        writer_f: RecordSetWriterFactory,
        invalid_f: RecordSetWriterFactory,
        created: list[FlowFile],
    ) -> None:
        attrs = dict(ff.attributes)
        allow_extra = bool(context.property(self.ALLOW_EXTRA).as_bool())
        strict = bool(context.property(self.STRICT).as_bool())
        declared = None
        if context.property(self.STRATEGY).value == SCHEMA_TEXT:
            declared = parse_schema(
                context.property(self.SCHEMA).evaluate(ff).value or ""
            )
        details: list[str] = []
        malformed: list[Any] = []
        invalid_count = 0
        valid_result: list[Any] = []
        schemas: list[pa.Schema] = []
        with Spool() as spool:
            valid = session.create(ff)
            created.append(valid)

            def write_valid(out: BinaryIO) -> None:
                nonlocal invalid_count
                with session.open(ff) as src:
                    try:
                        reader = open_reader(reader_f, src, attrs, on_invalid="skip")
                    except TypeError:
                        reader = open_reader(reader_f, src, attrs)
                    with reader:
                        check = _Validator(
                            declared or reader.schema, allow_extra, strict
                        )
                        with writer_f.create_writer(out, check.schema, attrs) as w:
                            first = 1
                            for batch in reader:
                                good, bad, reasons = check.check(batch, first)
                                first += batch.num_rows
                                w.write(good)
                                if bad.num_rows:
                                    if not spool.rows("invalid"):
                                        schemas.append(bad.schema)
                                    spool.add("invalid", bad)
                                    invalid_count += bad.num_rows
                                    details.extend(
                                        reasons[r]
                                        for r in sorted(reasons)[
                                            : max(0, 20 - len(details))
                                        ]
                                    )
                            valid_result.append(w.finish())
                        schemas.append(reader.schema)  # (if no record was invalid)
                        for row in getattr(reader, "invalid_rows", []):
                            malformed.append(row)
                            if len(details) < 20:
                                details.append(f"malformed {row}")

            valid = session.write(valid, write_valid)
            created[0] = valid
            result = valid_result[0]
            invalid = None
            if invalid_count:
                limit = int(context.property(self.DETAILS_LENGTH).as_int() or 1024)
                text = "; ".join(details)[:limit]
                invalid = session.create(ff)
                created.append(invalid)
                results: list[Any] = []
                schema = schemas[0]

                def write_invalid(out: BinaryIO) -> None:
                    results.append(
                        copy_records(
                            spool.batches("invalid"), schema, invalid_f, out, attrs
                        )
                    )

                invalid = session.write(invalid, write_invalid)
                extra = result_attributes(results[0])
                name = context.property(self.DETAILS_ATTRIBUTE).value
                if name:
                    extra[name] = text
                invalid = session.put_attributes(invalid, extra)
        if result.record_count or invalid is None:  # (zero records: still "valid")
            session.transfer(
                session.put_attributes(valid, result_attributes(result)), self.VALID
            )
        else:
            session.remove(valid)
        if invalid is not None:
            session.transfer(invalid, self.INVALID)
        if malformed:
            self._unreadable_rows(session, ff, malformed, created)
        session.remove(ff)

    def _unreadable_rows(
        self,
        session: ProcessSession,
        ff: FlowFile,
        rows: list[Any],
        created: list[FlowFile],
    ) -> None:
        """The rows the reader could not read, as text, to ``failure``."""
        bad = session.create(ff)
        created.append(bad)
        bad = session.write(
            bad, "".join(row.text.rstrip("\r\n") + "\n" for row in rows)
        )
        reasons = "; ".join(str(row) for row in rows)
        message = f"{len(rows)} row(s) could not be read: {reasons}"
        bad = session.put_attributes(
            bad, {"record.error.message": message[:4096], "mime.type": "text/plain"}
        )
        session.transfer(bad, self.FAILURE)
