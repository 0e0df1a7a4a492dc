"""Large objects through the real flow in a separate process: bounded memory, and a
``kill -9`` in the middle of an upload that the restarted run completes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

FLOW = Path(__file__).resolve().parents[2] / "flows" / "s3_copy.yaml"
MB = 1 << 20

_ROUND_TRIP = textwrap.dedent(
    """
    import json, sys
    import flowengine
    flow_path, endpoint, bucket, state = sys.argv[1:5]
    flow = flowengine.load(flow_path, parameters={
        "endpoint": endpoint, "bucket": bucket, "listing_lag": "0 sec"})
    result = flow.run(until_drained=True, timeout=600, durable=True, state_dir=state)
    with open("/proc/self/status") as f:
        peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    print(json.dumps({"ok": result.ok, "peak_rss_mb": peak / 1024}))
    """
)


def _put_random(s3: Any, bucket: str, key: str, size: int) -> str:
    """Upload ``size`` random bytes in 8 MB parts; their MD5."""
    md5 = hashlib.md5()
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for n, off in enumerate(range(0, size, 8 * MB), start=1):
        chunk = os.urandom(min(8 * MB, size - off))
        md5.update(chunk)
        etag = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=up, PartNumber=n, Body=chunk
        )["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": parts}
    )
    return md5.hexdigest()


def _md5_of(s3: Any, bucket: str, key: str) -> str:
    md5 = hashlib.md5()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(8 * MB), b""):
        md5.update(chunk)
    return md5.hexdigest()


@pytest.mark.parametrize(
    "size_mb",
    [
        pytest.param(40, id="40MB"),
        pytest.param(200, id="200MB", marks=pytest.mark.slow),
    ],
)
def test_large_object_round_trip_with_bounded_memory(
    moto: Any, s3: Any, bucket: str, tmp_path: Path, size_mb: int
) -> None:
    """Fetch -> Put of a large object in the example flow (durable repositories): the
    copy is identical, went up as a multipart upload, and the process's peak RSS stays
    far below the object size."""
    digest = _put_random(s3, bucket, "in/big.bin", size_mb * MB)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _ROUND_TRIP,
            str(FLOW),
            moto.endpoint,
            bucket,
            str(tmp_path / "st"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["ok"]
    assert _md5_of(s3, bucket, "copied/big.bin") == digest
    head = s3.head_object(Bucket=bucket, Key="copied/big.bin")
    assert "-" in head["ETag"]  # a multipart ETag: "<md5 of part md5s>-<parts>"
    # parts are streamed from the content repository, never held: the interpreter, its
    # libraries and chunk buffers only (~150 MB), whatever the object size
    assert report["peak_rss_mb"] < 200, report


@pytest.mark.slow
def test_kill_during_upload_then_restart_completes(
    moto: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """``flowengine run`` is killed (SIGKILL) while PutS3Object's multipart upload is
    half done: no object is visible; the same command run again restores the FlowFile
    from the durable repository, resumes the same upload and completes the object."""
    digest = _put_random(s3, bucket, "in/big.bin", 160 * MB)
    cmd = [
        sys.executable,
        "-m",
        "flowengine",
        "run",
        str(FLOW),
        "--until-drained",
        "--no-live",
        "--log-format",
        "json",
        "--state-dir",
        str(tmp_path / "st"),
        "--param",
        f"endpoint={moto.endpoint}",
        "--param",
        f"bucket={bucket}",
        "--param",
        "listing_lag=0 sec",
    ]
    env = dict(os.environ, AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s")
    log = tmp_path / "first-run.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads") or []
            mine = [u for u in uploads if u["Key"] == "copied/big.bin"]
            if mine:
                parts = (
                    s3.list_parts(
                        Bucket=bucket,
                        Key="copied/big.bin",
                        UploadId=mine[0]["UploadId"],
                    ).get("Parts")
                    or []
                )
                if len(parts) >= 2:
                    break
            assert proc.poll() is None, log.read_text()[-2000:]
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    upload_id = mine[0]["UploadId"]
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="copied/big.bin")
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _md5_of(s3, bucket, "copied/big.bin") == digest
    resumed = [
        json.loads(line)
        for line in again.stderr.splitlines()
        if "multipart_upload_resumed" in line
    ]
    assert resumed, again.stderr[-3000:]
    assert resumed[0]["upload_id"] == upload_id
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
