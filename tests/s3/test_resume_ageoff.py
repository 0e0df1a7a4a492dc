"""Multipart age-off never aborts a resumable upload (issue 24, item 3).

Against moto's *stock* server, whose ListMultipartUploads reports every upload as
initiated on 2010-11-10 (so by its clock each one is years older than the default
7-day max age), a durable ``flowengine run`` uploading a 20-part object is killed
(SIGKILL) with parts 1..11 on the server and part 12 in flight, and run again on the
same state directory: the upload this processor holds state for is resumed from part
12 (parts 1..11 are not sent again: a proxy in front of the server counts the
UploadPart requests), and the object is byte-exact. An upload no local state knows is
aborted by the same restart, and logged; its age is measured by the server's clock.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from ._proxy import ProxyRequest, S3Proxy
from .conftest import MotoServer

MB = 1 << 20

FLOW = textwrap.dedent(
    """
    flow: resume-ageoff
    parameters:
      endpoint: {value: ""}
      bucket: {value: ""}
      inbox: {value: ""}
    services:
      aws:
        type: AWSCredentialsProviderControllerService
        properties:
          access_key_id: testing
          secret_access_key: testing
          endpoint_override_url: "#{endpoint}"
          use_path_style_access: true
    processors:
      get:
        type: GetFile
        properties: {input_directory: "#{inbox}"}
      put:
        type: PutS3Object
        properties:
          bucket: "#{bucket}"
          object_key: "big/${filename}"
          aws_credentials_provider: aws
          multipart_threshold: 5 MB
          multipart_part_size: 5 MB
          multipart_concurrency: "1"
        auto_terminate: [success, failure]
    connections:
      - get -> put
    """
)


@pytest.fixture(scope="module")
def stock_moto(moto_factory: Any) -> Iterator[MotoServer]:
    """moto's own server, unpatched: multipart ``Initiated`` is 2010-11-10."""
    server: MotoServer = moto_factory(stock=True)
    try:
        yield server
    finally:
        server.stop()


def _logs(stderr: str, event: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if f'"{event}"' in line]


@pytest.mark.parametrize(
    ("parts", "killed_at"),
    [
        pytest.param(20, 12, id="20-parts-killed-at-12"),
    ],
)
def test_killed_upload_resumes_from_where_it_stopped_with_moto_clock(
    stock_moto: MotoServer, tmp_path: Path, parts: int, killed_at: int
) -> None:
    s3 = stock_moto.boto3()
    bucket = f"resume-{os.getpid()}-{parts}"
    s3.create_bucket(Bucket=bucket)
    # moto really reports a date far in the past: the age-off's premise
    probe = s3.create_multipart_upload(Bucket=bucket, Key="probe")["UploadId"]
    initiated = s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["Initiated"]
    assert initiated.year == 2010, initiated
    s3.abort_multipart_upload(Bucket=bucket, Key="probe", UploadId=probe)

    size = (parts - 1) * 5 * MB + MB  # parts-1 full parts and a 1 MB last one
    data = random.Random(24).randbytes(size)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "obj.bin").write_bytes(data)
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW)
    proxy = S3Proxy(stock_moto.port, hold=lambda q: q.part_number == killed_at)
    try:
        cmd = [
            sys.executable,
            "-m",
            "flowengine",
            "run",
            str(flow),
            "--until-drained",
            "--no-live",
            "--log-format",
            "json",
            "--timeout",
            "120",
            "--state-dir",
            str(tmp_path / "state"),
            "--param",
            f"endpoint={proxy.endpoint}",
            "--param",
            f"bucket={bucket}",
            "--param",
            f"inbox={inbox}",
        ]
        env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1")
        first_log = tmp_path / "first.log"
        with open(first_log, "wb") as err:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            # part `killed_at` reached the proxy, so parts before it were answered
            deadline = time.monotonic() + 90
            while not proxy.held.wait(0.05):
                assert proc.poll() is None, first_log.read_text()[-3000:]
                assert time.monotonic() < deadline, "the upload never reached the part"
            [upload] = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
            upload_id = upload["UploadId"]
            before = s3.list_parts(Bucket=bucket, Key="big/obj.bin", UploadId=upload_id)
            assert [p["PartNumber"] for p in before["Parts"]] == list(
                range(1, killed_at)
            )
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert not (inbox / "obj.bin").exists()  # the FlowFile is in the repository
        first_sent = proxy.part_numbers()
        assert first_sent == list(range(1, killed_at + 1)), first_sent
        # an upload nobody's state knows: by moto's clock years old, so it must go
        stray = s3.create_multipart_upload(Bucket=bucket, Key="stray/old.bin")
        proxy.release()
        proxy.reset()
        again = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=180
        )
        assert again.returncode == 0, again.stderr[-3000:]
        # resumed: only the parts from `killed_at` on were sent, each once
        assert proxy.part_numbers() == list(range(killed_at, parts + 1))
        resumed = _logs(again.stderr, "multipart_upload_resumed")
        assert len(resumed) == 1, again.stderr[-3000:]
        assert resumed[0]["upload_id"] == upload_id
        assert resumed[0]["parts_reused"] == killed_at - 1
        assert resumed[0]["parts_sent"] == parts - killed_at + 1
        got = s3.get_object(Bucket=bucket, Key="big/obj.bin")
        assert got["ETag"].strip('"').endswith(f"-{parts}")
        assert hashlib.md5(got["Body"].read()).digest() == hashlib.md5(data).digest()
        # the stray upload was aged off (and said so); ours is complete, none is left
        aged = _logs(again.stderr, "multipart_upload_aged_off")
        assert [(a["key"], a["upload_id"]) for a in aged] == [
            ("stray/old.bin", stray["UploadId"])
        ]
        assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    finally:
        proxy.stop()


def _shift_date(days: float) -> Callable[[str, str], str]:
    """A reply-header rewrite moving the server's ``Date`` by ``days``."""

    def shift(name: str, value: str) -> str:
        if name.lower() != "date":
            return value
        when = parsedate_to_datetime(value) + datetime.timedelta(days=days)
        return format_datetime(when, usegmt=True)

    return shift


@pytest.mark.parametrize(
    ("days", "aborted"),
    [
        pytest.param(8, True, id="8-days-later-by-the-server-aborted"),
        pytest.param(6, False, id="6-days-later-by-the-server-kept"),
    ],
)
def test_age_off_measures_by_the_server_clock(
    moto: MotoServer, s3: Any, bucket: str, days: int, aborted: bool
) -> None:
    """An upload no state knows, created a moment ago by our clock, but whose age by
    the server's clock (its replies' ``Date``, here shifted by a proxy) is 8 days, is
    aborted with the default max age of 7 days, and logged; at 6 days it stays."""
    from flowengine.processors.aws import PutS3Object

    from flowengine.testing import TestRunner

    stray = s3.create_multipart_upload(Bucket=bucket, Key="stray")["UploadId"]
    with S3Proxy(moto.port, reply_headers=_shift_date(days)) as proxy:
        r = TestRunner(PutS3Object)
        r.add_service(
            "aws",
            "AWSCredentialsProviderControllerService",
            moto.service_properties(endpoint_override_url=proxy.endpoint),
        )
        r.set_property("aws_credentials_provider", "aws")
        r.set_property("bucket", bucket)
        r.enqueue(b"x", {"filename": "fresh"})
        with structlog.testing.capture_logs() as logs:
            r.run()
    r.assert_all_transferred("success", 1)
    left = [
        u["UploadId"]
        for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads") or []
    ]
    aged = [e for e in logs if e["event"] == "multipart_upload_aged_off"]
    if aborted:
        assert stray not in left
        assert [(e["key"], e["upload_id"]) for e in aged] == [("stray", stray)]
    else:
        assert left == [stray]
        assert not aged


def test_the_state_of_an_abandoned_upload_ages_off_and_then_the_upload(
    moto: MotoServer, s3: Any, bucket: str
) -> None:
    """A multipart upload whose FlowFile went to failure (a part corrupted in transit)
    keeps its state, so a later resume can reuse its parts; but if nothing resumes it
    for the max age, the state ages off (by the local clock, as NiFi's local state
    does) and the server-side age-off then aborts the upload: a dropped FlowFile's
    upload is not kept forever."""
    from flowengine.processors.aws import PutS3Object

    from flowengine.testing import TestRunner

    def flip(q: ProxyRequest) -> bytes | None:
        return q.body[:-1] + bytes([q.body[-1] ^ 1]) if q.part_number == 2 else None

    with S3Proxy(moto.port, corrupt=flip) as proxy:
        r = TestRunner(PutS3Object)
        r.add_service(
            "aws",
            "AWSCredentialsProviderControllerService",
            moto.service_properties(endpoint_override_url=proxy.endpoint),
        )
        for k, v in {
            "aws_credentials_provider": "aws",
            "bucket": bucket,
            "multipart_threshold": "5 MB",
            "multipart_part_size": "5 MB",
            "multipart_upload_max_age_threshold": "1 sec",
        }.items():
            r.set_property(k, v)
        r.enqueue(random.Random(2).randbytes(11 * MB), {"filename": "abandoned"})
        r.run()
        r.assert_all_transferred("failure", 1)
        [upload] = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        assert any(k.startswith("mpu/") for k in r.state())  # resumable for now
        # whole seconds in the server's Date: 2.1 s is surely over 1 s by its clock
        time.sleep(2.1)
        r.enqueue(b"small", {"filename": "later"})
        with structlog.testing.capture_logs() as logs:
            r.run()
    assert r.transfer_counts() == {"failure": 1, "success": 1}
    assert not any(k.startswith("mpu/") for k in r.state())
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    events = [
        (e["event"], e["key"], e["upload_id"]) for e in logs if "aged_off" in e["event"]
    ]
    assert events == [
        ("multipart_state_aged_off", "abandoned", upload["UploadId"]),
        ("multipart_upload_aged_off", "abandoned", upload["UploadId"]),
    ]


def test_state_age_off_spares_uploads_in_progress() -> None:
    """An upload being sent right now keeps its state however old the entry (a long
    upload with a short max age), and only its bucket's entries age off."""
    from flowengine.processors.aws._multipart import UploadState, UploadStore

    saved: dict[str, str] = {}
    store = UploadStore(lambda: dict(saved), lambda m: (saved.clear(), saved.update(m)))
    old_ms = int((time.time() - 3600) * 1000)
    store.put("b", "busy", UploadState("u-busy", 5 * MB, 11 * MB, old_ms))
    store.put("b", "idle", UploadState("u-idle", 5 * MB, 11 * MB, old_ms))
    store.put("bb", "other", UploadState("u-other", 5 * MB, 11 * MB, old_ms))
    store.put(
        "b", "fresh", UploadState("u-fresh", 5 * MB, 11 * MB, int(time.time() * 1000))
    )
    store.active.add("u-busy")
    assert store.age_off("b", 60) == [("idle", "u-idle")]
    assert store.upload_ids() == {"u-busy", "u-other", "u-fresh"}
    assert "mpu/b/idle" not in saved  # written through
    store.active.discard("u-busy")
    assert store.age_off("b", 60) == [("busy", "u-busy")]
