"""Issue 13's user flow, end to end: a copy written as a NiFi user writes it (properties
by NiFi display name, ``Use Path Style Access`` on PutS3Object) copies 50 objects, one of
them 30 MB (one streamed PutObject, below the multipart threshold), byte for byte.

Before the fix the line was taken as user metadata named ``Use Path Style Access``: 49 of
50 objects arrived empty while their FlowFiles went to success, and the 30 MB one hung.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

import flowengine

pytestmark = pytest.mark.s3

FLOW = """\
flow: nifi-style-copy
parameters:
  access_key: {value: testing-access-key, sensitive: true}
  secret_key: {value: testing-secret-key, sensitive: true}
services:
  aws:
    type: AWSCredentialsProviderControllerService
    properties:
      Access Key ID: "#{access_key}"
      Secret Access Key: "#{secret_key}"
      Endpoint Override URL: "#{endpoint}"
processors:
  list:
    type: ListS3
    properties:
      Bucket: "#{bucket}"
      Prefix: in/
      Listing Lag: 0 sec
      Endpoint Override URL: "#{endpoint}"
      Use Path Style Access: "true"
      AWS Credentials Provider Service: aws
  fetch:
    type: FetchS3Object
    properties:
      Bucket: "#{bucket}"
      Object Key: "${filename}"
      Endpoint Override URL: "#{endpoint}"
      Use Path Style Access: "true"
      AWS Credentials Provider Service: aws
    auto_terminate: [failure]
  put:
    type: PutS3Object
    properties:
      Bucket: "#{bucket}"
      Object Key: "copied/${filename}"
      Endpoint Override URL: "#{endpoint}"
      Use Path Style Access: "true"
      AWS Credentials Provider Service: aws
    auto_terminate: [success, failure]
connections:
  - list -> fetch
  - fetch -> put
"""


def test_nifi_style_copy_of_50_objects_is_exact(
    moto: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    bodies: dict[str, bytes] = {}
    for i in range(49):
        bodies[f"in/obj{i:02}.txt"] = f"payload {i} ".encode() * (i + 10)
    bodies["in/big.bin"] = os.urandom(30 * 1024 * 1024)
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    path = tmp_path / "copy.yaml"
    path.write_text(FLOW)
    flow = flowengine.load(
        path, parameters={"endpoint": moto.endpoint, "bucket": bucket}
    )
    started = time.monotonic()
    result = flow.run(
        until_drained=True, timeout=120, durable=True, state_dir=str(tmp_path / "st")
    )
    elapsed = time.monotonic() - started
    assert result.ok, result.failures
    assert not result.timed_out
    assert elapsed < 120
    assert result.status.processor("put").flowfiles_in == 50
    for key, body in bodies.items():
        got = s3.get_object(Bucket=bucket, Key=f"copied/{key}")
        data = got["Body"].read()
        assert len(data) == len(body), key
        assert hashlib.md5(data).digest() == hashlib.md5(body).digest(), key
        # no metadata header was made of a property name
        assert not any(" " in k for k in got.get("Metadata", {})), got["Metadata"]
