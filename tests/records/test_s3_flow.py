"""flows/csv_to_parquet_s3.yaml against a real S3-protocol server (moto, as a subprocess)."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import flowengine

FLOW = Path(__file__).resolve().parents[2] / "flows" / "csv_to_parquet_s3.yaml"
pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 and a free port, for this module."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture
def s3(endpoint: str) -> Any:
    """An independent boto3 client of the server."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def test_csv_objects_become_partitioned_parquet_objects(
    endpoint: str, s3: Any, tmp_path: Path
) -> None:
    """Two CSV objects (one malformed) → Parquet objects under lake/orders/region=…/."""
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket=bucket,
        Key="raw/2024/orders.csv",
        Body=b"id,region,amount\n1,eu,10\n2,us,3\n3,eu,7\n",
    )
    s3.put_object(
        Bucket=bucket, Key="raw/2024/broken.csv", Body=b"id,region,amount\n1,eu\n"
    )
    params = {"endpoint": endpoint, "bucket": bucket, "listing_lag": "0 sec"}
    flow = flowengine.load(FLOW, parameters=params)
    with flow.run(
        until_drained=True, timeout=60, durable=True, state_dir=str(tmp_path / "state")
    ) as result:
        assert result.ok, result.failures
        assert result.status.processor("convert").flowfiles_in == 2
    keys = sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="lake/")["Contents"]
    )
    assert keys == [
        "lake/orders/region=eu/orders-0.parquet",
        "lake/orders/region=us/orders-1.parquet",
    ]
    body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.column("id").to_pylist() == [1, 3]
    assert (
        pq.ParquetFile(io.BytesIO(body)).metadata.row_group(0).column(0).compression
        == "ZSTD"
    )
