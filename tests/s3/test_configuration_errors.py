"""Errors that waiting will not cure, through ``flowengine run`` against moto: a drained
run ends with exit code 5 and the reason (FlowFiles kept for a rerun), a service backs
off and logs one line instead of one a second (issue 24.1)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COPY_FLOW = ROOT / "flows" / "s3_copy.yaml"

GENERATE_THEN = """\
flow: cfg
parameters:
  endpoint: {{value: ""}}
  bucket: {{value: ""}}
  access_key: {{env: AWS_ACCESS_KEY_ID, sensitive: true}}
  secret_key: {{env: AWS_SECRET_ACCESS_KEY, sensitive: true}}
services:
  aws:
    type: AWSCredentialsProviderControllerService
    properties:
      access_key_id: "#{{access_key}}"
      secret_access_key: "#{{secret_key}}"
      endpoint_override_url: "#{{endpoint}}"
      use_path_style_access: true
      max_attempts: 2
processors:
  gen:
    type: GenerateFlowFile
    properties: {{batch_size: 3, custom_text: hello}}
    schedule: {{max_triggers: 1}}
  s3:
    type: {kind}
    properties: {{bucket: "#{{bucket}}", object_key: "out/${{filename}}", aws_credentials_provider: aws}}
    auto_terminate: [success, failure]
connections:
  - gen -> s3
"""

LIST_FAST = """\
flow: listfast
parameters:
  endpoint: {value: ""}
  bucket: {value: ""}
services:
  aws:
    type: AWSCredentialsProviderControllerService
    properties:
      access_key_id: k
      secret_access_key: s
      endpoint_override_url: "#{endpoint}"
      use_path_style_access: true
processors:
  list:
    type: ListS3
    properties: {bucket: "#{bucket}", listing_lag: 0 sec, aws_credentials_provider: aws}
    auto_terminate: [success]
    schedule: {period: 0 sec}   # ListS3's default is 1 min
"""


def _cmd(flow: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "flowengine",
        "run",
        str(flow),
        "--no-live",
        "--log-format",
        "json",
        *args,
    ]


def _env(key: str = "k", secret: str = "s") -> dict[str, str]:
    return dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)


def _events(stderr: str, name: str) -> list[dict[str, Any]]:
    out = []
    for line in stderr.splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            event = json.loads(line)
            if event.get("event") == name:
                out.append(event)
    return out


def test_list_of_missing_bucket_ends_drained_run_with_exit_5(
    moto: Any, tmp_path: Path
) -> None:
    """The example copy flow on a bucket that does not exist: exit 5 within seconds
    (not a retry a second until --timeout), the summary names the processor, the code,
    the bucket and prefix, and what to check."""
    started = time.monotonic()
    r = subprocess.run(
        _cmd(
            COPY_FLOW,
            "--until-drained",
            "--timeout",
            "60",
            "--in-memory",
            "--param",
            f"endpoint={moto.endpoint}",
            "--param",
            "bucket=no-such-bucket-list",
            "--param",
            "listing_lag=0 sec",
        ),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert r.returncode == 5, r.stderr[-3000:]
    assert elapsed < 30, elapsed
    assert "stopped: processor 'list' cannot work as configured" in r.stderr
    assert (
        "error: NoSuchBucket: bucket 'no-such-bucket-list' does not exist" in r.stderr
    )
    assert "where: s3://no-such-bucket-list/in/" in r.stderr
    assert "check: that the bucket exists" in r.stderr
    assert "Traceback" not in r.stderr
    [finished] = _events(r.stderr, "flow_finished")
    assert "NoSuchBucket" in finished["halted"][0]
    # three attempts (1 s and 2 s apart), logged twice: the first and the last
    lines = _events(r.stderr, "processor_configuration_error")
    assert [e["attempts"] for e in lines] == [1, 3]
    assert lines[-1]["repeats"] == 1


@pytest.fixture
def auth_moto(moto_factory: Any) -> Any:
    """A moto server that authenticates every request (no IAM user exists, so every
    access key is unknown: InvalidAccessKeyId)."""
    server = moto_factory({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    yield server
    server.stop()


@pytest.mark.parametrize("kind", ["FetchS3Object", "PutS3Object"])
def test_rejected_credentials_end_drained_run_with_exit_5(
    auth_moto: Any, tmp_path: Path, kind: str
) -> None:
    """Wrong credentials for Fetch/Put: exit 5 with the reason, nothing routed to
    failure, the secret shown nowhere, and the three FlowFiles still in the durable
    state directory."""
    flow = tmp_path / "cfg.yaml"
    flow.write_text(GENERATE_THEN.format(kind=kind), encoding="utf-8")
    secret = "never-show-this-secret"
    r = subprocess.run(
        _cmd(
            flow,
            "--until-drained",
            "--timeout",
            "60",
            "--state-dir",
            str(tmp_path / "st"),
            "--param",
            f"endpoint={auth_moto.endpoint}",
            "--param",
            "bucket=any-bucket",
        ),
        env=_env("AKIAUNKNOWN", secret),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 5, r.stderr[-3000:]
    assert "stopped: processor 's3' cannot work as configured" in r.stderr
    assert "AWS credentials were rejected" in r.stderr
    assert "InvalidAccessKeyId" in r.stderr
    assert "check: the access key id and secret key" in r.stderr
    assert secret not in r.stderr
    assert not _events(r.stderr, "flowfiles_routed_to_failure")
    # the durable FlowFile repository still holds the three generated FlowFiles
    with sqlite3.connect(tmp_path / "st" / "flowfiles.db") as db:
        assert db.execute("select count(*) from flowfiles").fetchone() == (3,)


def test_durable_rerun_after_creating_the_bucket_delivers_everything(
    moto: Any, s3: Any, tmp_path: Path
) -> None:
    """PutS3Object to a fixed bucket that does not exist yet: exit 5 and nothing lost;
    create the bucket, run the same command again: the three kept FlowFiles (and the
    three the rerun generates) are written, exit 0."""
    bucket = f"later-{uuid.uuid4().hex[:8]}"
    flow = tmp_path / "cfg.yaml"
    flow.write_text(GENERATE_THEN.format(kind="PutS3Object"), encoding="utf-8")
    cmd = _cmd(
        flow,
        "--until-drained",
        "--timeout",
        "60",
        "--state-dir",
        str(tmp_path / "st"),
        "--param",
        f"endpoint={moto.endpoint}",
        "--param",
        f"bucket={bucket}",
    )
    first = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert first.returncode == 5, first.stderr[-3000:]
    assert f"where: s3://{bucket}/out/" in first.stderr
    s3.create_bucket(Bucket=bucket)
    again = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert len(keys) == 6 and all(k.startswith("out/") for k in keys)


def test_service_backs_off_and_logs_once(moto: Any, tmp_path: Path) -> None:
    """As a service (no --until-drained), a ListS3 on a missing bucket with a 0 s
    period is tried at 0, 1, 3, 7 s — not every second — and logs one line for the
    first minute instead of one per attempt; SIGTERM still stops it (exit 0)."""
    flow = tmp_path / "list.yaml"
    flow.write_text(LIST_FAST, encoding="utf-8")
    proc = subprocess.Popen(
        _cmd(
            flow,
            "--in-memory",
            "--status-interval",
            "1",
            "--param",
            f"endpoint={moto.endpoint}",
            "--param",
            "bucket=no-such-bucket-service",
        ),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(9)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, stderr[-3000:]
    statuses = _events(stderr, "flow_status")
    assert len(statuses) >= 6, stderr[-3000:]
    attempts = statuses[-1]["errors"]
    assert 3 <= attempts <= 4, statuses  # was ~9 (one a second) before the backoff
    lines = _events(stderr, "processor_configuration_error")
    assert len(lines) == 1 and lines[0]["code"] == "NoSuchBucket", lines
    assert lines[0]["retry_in"] == 1.0
    assert not _events(stderr, "s3_listing_failed")


def test_list_with_rejected_credentials_backs_off_as_a_service(auth_moto: Any) -> None:
    """ListS3 with keys the server does not know: nothing emitted, no
    ``s3_listing_failed`` retry every second, a backoff with a bulletin naming the
    code and what is wrong; the secret appears in no bulletin."""
    from flowengine.processors.aws import ListS3

    from flowengine.testing import TestRunner

    secret = "never-show-this-secret"
    r = TestRunner(ListS3)
    r.add_service(
        "aws",
        "AWSCredentialsProviderControllerService",
        auth_moto.service_properties(
            access_key_id="AKIAUNKNOWN", secret_access_key=secret
        ),
    )
    r.set_property("aws_credentials_provider", "aws")
    r.set_property("bucket", "any-bucket")
    r.set_property("listing_lag", "0 sec")
    r.run()
    assert r.transfer_counts() == {}
    assert r.is_yielded
    [bulletin] = r.bulletins
    assert "cannot work as configured: InvalidAccessKeyId" in bulletin.message
    assert "AWS credentials were rejected" in bulletin.message
    assert secret not in bulletin.message
