"""QueryRecord: SQL over a FlowFile's records (DuckDB over Arrow, table ``FLOWFILE``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

import pyarrow as pa
from flowengine.controller_services.records import (
    RecordError,
    RecordReaderFactory,
    RecordSetWriterFactory,
)
from flowengine.controller_services.records.duck import cursor

from flowengine import (
    DynamicProperties,
    ExpressionLanguageScope,
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
    INCLUDE_ZERO,
    RECORD_READER,
    RECORD_WRITER,
    result_attributes,
    route_failure,
    services,
)

__all__ = ["QueryRecord"]

_BATCH_ROWS = 1 << 17


class _Guarded:
    """Iterates reader batches, keeping the reader's own error (DuckDB would wrap it)."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._batches
        except BaseException as exc:
            self.error = exc
            raise


def _restore_types(result: pa.Schema, source: pa.Schema) -> pa.Schema | None:
    """DuckDB renames time zones (UTC → Etc/UTC); give selected columns theirs back."""
    changed = False
    fields = []
    for f in result:
        i = source.get_field_index(f.name)
        if (
            i >= 0
            and pa.types.is_timestamp(f.type)
            and pa.types.is_timestamp(source.field(i).type)
            and f.type != source.field(i).type
        ):
            fields.append(pa.field(f.name, source.field(i).type, f.nullable))
            changed = True
        else:
            fields.append(f)
    return pa.schema(fields) if changed else None


def run_query(
    sql: str,
    src: BinaryIO,
    out: BinaryIO,
    attrs: Mapping[str, str],
    reader_f: RecordReaderFactory,
    writer_f: RecordSetWriterFactory,
) -> Any:
    """Stream the records of ``src`` through ``sql`` into a writer on ``out``."""
    with reader_f.create_reader(src, attrs) as reader:
        if not len(reader.schema):  # no columns (empty content): no records to query
            return writer_f.create_writer(out, reader.schema, attrs).finish()
        guarded = _Guarded(iter(reader))
        stream = pa.RecordBatchReader.from_batches(reader.schema, iter(guarded))
        cur = cursor()
        try:
            try:
                cur.register("FLOWFILE", stream)
                result = cur.sql(sql)
                if result is None:
                    raise RecordError(f"the query returns no records: {sql[:200]!r}")
                batches = result.to_arrow_reader(_BATCH_ROWS)
                fixed = _restore_types(batches.schema, reader.schema)
                schema = fixed or batches.schema
                with writer_f.create_writer(out, schema, attrs) as w:
                    for b in batches:
                        w.write(b.cast(fixed) if fixed is not None else b)
                    return w.finish()
            except Exception as exc:
                if guarded.error is not None:
                    raise guarded.error from None
                if isinstance(exc, (RecordError, pa.ArrowException)):
                    raise
                raise RecordError(f"query failed: {exc}") from None
        finally:
            cur.close()


def _check_select(sql: str) -> str | None:
    """Parse ``sql`` (DuckDB's parser, nothing executed): one SELECT, or why not.

    Only syntax: the FLOWFILE table's columns are known only once a FlowFile is read.
    """
    import duckdb  # lazily, as the query itself: loading a flow stays cheap

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0].removeprefix("Parser Error: ")
        return f"SQL does not parse: {first}"
    if len(statements) != 1:
        return f"expected one SQL statement, found {len(statements)}"
    if statements[0].type != duckdb.StatementType.SELECT:
        return f"expected a SELECT statement, found {statements[0].type.name}"
    return None


class QueryRecord(Processor):
    """Evaluates SQL over each FlowFile's records; one output relationship per query.

    Each dynamic property is a SQL ``SELECT`` over the table ``FLOWFILE`` (NiFi's name)
    and names the relationship its results go to. Queries run in DuckDB directly on the
    Arrow batches the reader streams (no copy); results stream into the writer. The
    original goes to ``original``; if any query fails, the original goes to ``failure``
    and no result is emitted.
    """

    tags = (
        "sql",
        "query",
        "duckdb",
        "route",
        "record",
        "transform",
        "select",
        "update",
        "modify",
        "etl",
        "filter",
        "csv",
        "json",
        "logs",
        "text",
        "avro",
        "aggregate",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # Arrow/DuckDB work on large FlowFiles: worker threads
    dynamic_properties = DynamicProperties(
        "A SQL SELECT over the table FLOWFILE; its results go to the relationship of the same name.",
        name="A relationship name",
        value="A SQL SELECT statement",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        value_validators=(_check_select,),
    )
    writes_attributes = {
        "mime.type": "the writer's MIME type",
        "record.count": "records in the result",
        "QueryRecord.Route": "the relationship (query) the result went to",
        "record.error.message": "why the original went to failure",
    }
    example = """\
query:
  type: QueryRecord
  properties:
    record_reader: csv
    record_writer: parquet
    big_orders: "SELECT * FROM FLOWFILE WHERE amount > 1000"
  auto_terminate: [original]
"""

    RECORD_READER = RECORD_READER
    RECORD_WRITER = RECORD_WRITER
    INCLUDE_ZERO = INCLUDE_ZERO

    ORIGINAL = Relationship("original", "The input FlowFile, once every query has run")
    FAILURE = FAILURE

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        return [
            cls.ORIGINAL,
            cls.FAILURE,
            *(Relationship(n, f"Results of the query {n!r}") for n in dynamic),
        ]

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if not context.dynamic_properties:
            return ["at least one query (a dynamic property) is required"]
        return []

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        reader_f, writer_f = services(context)
        include_zero = bool(context.property(INCLUDE_ZERO).as_bool())
        queries = list(context.dynamic_properties.items())
        for ff in session.get(context.batch_size):
            self._one(context, session, ff, queries, reader_f, writer_f, include_zero)

    def _one(
        self,
        context: ProcessContext,
        session: ProcessSession,
        ff: FlowFile,
        queries: list[tuple[str, Any]],
        reader_f: RecordReaderFactory,
        writer_f: RecordSetWriterFactory,
        include_zero: bool,
    ) -> None:
        attrs = dict(ff.attributes)
        outputs: list[tuple[FlowFile, str]] = []
        try:
            for name, pv in queries:
                sql = pv.evaluate(ff).value or ""
                child = session.create(ff)
                results: list[Any] = []

                def query(
                    out: BinaryIO, sql: str = sql, results: list[Any] = results
                ) -> None:
                    with session.open(ff) as src:
                        results.append(
                            run_query(sql, src, out, attrs, reader_f, writer_f)
                        )

                outputs.append((child, name))
                child = session.write(child, query)
                outputs[-1] = (child, name)
                result = results[0]
                if result.record_count == 0 and not include_zero:
                    session.remove(child)
                    outputs.pop()
                    continue
                extra = result_attributes(result)
                extra["QueryRecord.Route"] = name
                outputs[-1] = (session.put_attributes(child, extra), name)
        except DATA_ERRORS as exc:
            session.remove([c for c, _ in outputs])
            route_failure(context, session, ff, exc)
            return
        for child, name in outputs:
            session.transfer(child, name)
        session.transfer(ff, self.ORIGINAL)
