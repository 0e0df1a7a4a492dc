"""flows/s3_copy.yaml, loaded from YAML and run against the local S3 server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flowengine

FLOW = Path(__file__).resolve().parents[2] / "flows" / "s3_copy.yaml"


def test_s3_copy_flow_copies_and_a_rerun_copies_only_new_objects(
    moto: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """The example flow copies in/ to copied/ keeping key paths; with a state directory
    a second run copies only what arrived since."""
    for i in range(20):
        s3.put_object(
            Bucket=bucket, Key=f"in/d{i % 3}/obj{i}.txt", Body=f"payload {i}".encode()
        )
    s3.put_object(Bucket=bucket, Key="elsewhere/x", Body=b"not copied")
    params = {"endpoint": moto.endpoint, "bucket": bucket, "listing_lag": "0 sec"}
    flow = flowengine.load(FLOW, parameters=params)
    state = str(tmp_path / "state")
    result = flow.run(until_drained=True, timeout=60, durable=True, state_dir=state)
    assert result.ok, result.failures
    copied = s3.list_objects_v2(Bucket=bucket, Prefix="copied/")["Contents"]
    assert len(copied) == 20
    body = s3.get_object(Bucket=bucket, Key="copied/d1/obj4.txt")["Body"].read()
    assert body == b"payload 4"
    s3.put_object(Bucket=bucket, Key="in/new.txt", Body=b"late")
    again = flowengine.load(FLOW, parameters=params).run(
        until_drained=True, timeout=60, durable=True, state_dir=state
    )
    assert again.ok
    assert again.status.processor("put").flowfiles_in == 1
    assert s3.get_object(Bucket=bucket, Key="copied/new.txt")["Body"].read() == b"late"


def test_s3_copy_flow_to_another_bucket(moto: Any, s3: Any, bucket: str) -> None:
    """dest_bucket sends the copies to a second bucket."""
    s3.create_bucket(Bucket=f"{bucket}-dst")
    s3.put_object(Bucket=bucket, Key="in/a", Body=b"A")
    params = {
        "endpoint": moto.endpoint,
        "bucket": bucket,
        "dest_bucket": f"{bucket}-dst",
        "listing_lag": "0 sec",
    }
    result = flowengine.load(FLOW, parameters=params).run(
        until_drained=True, timeout=60
    )
    assert result.ok
    assert s3.get_object(Bucket=f"{bucket}-dst", Key="copied/a")["Body"].read() == b"A"
