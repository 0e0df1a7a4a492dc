"""Shared fixtures of the record tests: sample tables and a ConvertRecord runner factory."""

from __future__ import annotations

import datetime as dt
import decimal
import io
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flowengine.testing import TestRunner


def parquet_bytes(table: pa.Table, **kw: Any) -> bytes:
    """``table`` as a Parquet file in memory."""
    buf = io.BytesIO()
    pq.write_table(table, buf, **kw)
    return buf.getvalue()


def read_parquet(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))


FLAT_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("name", pa.string()),
        ("price", pa.decimal128(10, 2)),
        ("seen", pa.timestamp("us", tz="UTC")),
        ("ok", pa.bool_()),
        ("score", pa.float64()),
    ]
)
FLAT_TEXT = "id: int64, name: string, price: decimal(10, 2), seen: timestamp(us, UTC), ok: bool, score: double"


@pytest.fixture
def flat_table() -> pa.Table:
    """Nulls, unicode, decimals and time-zoned timestamps in a flat table."""
    utc = dt.UTC
    return pa.table(
        {
            "id": [1, 2, 3, None],
            "name": ["plain", "ünïcødé ✓ 日本", None, 'comma, "quoted"'],
            "price": [
                decimal.Decimal("1.50"),
                decimal.Decimal("-20.05"),
                None,
                decimal.Decimal("0.00"),
            ],
            "seen": [
                dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=utc),
                None,
                dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=utc),
                dt.datetime(2030, 6, 1, tzinfo=utc),
            ],
            "ok": [True, False, None, True],
            "score": [0.5, None, -1e10, 3.25],
        },
        schema=FLAT_SCHEMA,
    )


NESTED_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("customer", pa.struct([("name", pa.string()), ("region", pa.string())])),
        ("items", pa.list_(pa.struct([("sku", pa.string()), ("qty", pa.int64())]))),
        ("tags", pa.list_(pa.string())),
    ]
)


@pytest.fixture
def nested_table() -> pa.Table:
    """Structs, lists of structs and nulls at every level."""
    return pa.table(
        {
            "id": [1, 2, 3],
            "customer": [
                {"name": "Zoë", "region": "eu"},
                None,
                {"name": None, "region": "us"},
            ],
            "items": [[{"sku": "a", "qty": 1}, {"sku": "b", "qty": None}], [], None],
            "tags": [["x", "y"], None, []],
        },
        schema=NESTED_SCHEMA,
    )


ServiceSpec = tuple[str, Mapping[str, Any]]


@pytest.fixture
def runner() -> Callable[..., TestRunner]:
    """Make a TestRunner for a record processor with a reader and a writer service."""

    def make(
        processor: str, reader: ServiceSpec, writer: ServiceSpec, **props: Any
    ) -> TestRunner:
        r = TestRunner(processor)
        r.add_service("reader", reader[0], dict(reader[1]))
        r.add_service("writer", writer[0], dict(writer[1]))
        r.set_property("record_reader", "reader")
        r.set_property("record_writer", "writer")
        for k, v in props.items():
            r.set_property(k, v)
        return r

    return make
