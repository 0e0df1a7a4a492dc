"""Large objects: streamed fetch, concurrent multipart put, resume after a kill."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from flowengine.processors.aws import FetchS3Object, PutS3Object

MB = 1 << 20


def payload(size: int, seed: int = 7) -> bytes:
    """Deterministic incompressible bytes (the same in a subprocess)."""
    return random.Random(seed).randbytes(size)


def test_fetch_then_put_40mb_multipart_round_trip(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """A 40 MB object is streamed in, sent back as a concurrent multipart upload, and
    the copy is byte-identical (boto3 checks it)."""
    data = payload(40 * MB)
    s3.put_object(Bucket=bucket, Key="big/src.bin", Body=data)
    fetch = runner_for(FetchS3Object)
    fetch.enqueue(b"", {"filename": "big/src.bin", "s3.bucket": bucket})
    fetch.run()
    fetch.assert_all_transferred("success", 1)
    got = fetch.flowfiles_for("success")[0]
    assert hashlib.md5(got.content).digest() == hashlib.md5(data).digest()
    put = runner_for(
        PutS3Object,
        object_key="copy/${filename}",
        multipart_threshold="8 MB",
        multipart_part_size="5 MB",
        multipart_concurrency="4",
    )
    put.enqueue(got.content, got.attributes)
    put.run()
    put.assert_all_transferred("success", 1)
    ff = put.flowfiles_for("success")[0]
    ff.assert_attribute_equals("s3.apimethod", "multipartupload")
    ff.assert_attribute_exists("s3.uploadId")
    obj = s3.get_object(Bucket=bucket, Key="copy/big/src.bin")
    assert obj["ETag"].strip('"').endswith("-8")
    assert hashlib.md5(obj["Body"].read()).digest() == hashlib.md5(data).digest()
    send = next(e for e in put.provenance_events() if e.event_type.name == "SEND")
    assert "8 part(s) sent" in send.details
    assert "up to 1 in flight" not in send.details  # parts really went concurrently
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads") is None


def test_fetch_byte_range(runner_for: Any, s3: Any, bucket: str) -> None:
    """Range Start / Range Length fetch part of an object."""
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    r = runner_for(FetchS3Object, range_start="2 B", range_length="3 B")
    r.enqueue(b"", {"filename": "r", "s3.bucket": bucket})
    r.run()
    r.flowfiles_for("success")[0].assert_content_equals(b"234")


def test_put_encryption_tags_and_storage_class(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """SSE-S3, tags from an attribute prefix and a storage class reach the object."""
    r = runner_for(
        PutS3Object,
        bucket=bucket,
        encryption_strategy="SSE_S3",
        object_tags_prefix="tag.",
        remove_tag_prefix="true",
        storage_class="STANDARD_IA",
    )
    r.enqueue(b"secret stuff", {"filename": "enc.txt", "tag.team": "data"})
    r.run()
    ff = r.flowfiles_for("success")[0]
    ff.assert_attribute_equals("s3.sseAlgorithm", "AES256")
    ff.assert_attribute_equals("s3.encryptionStrategy", "SSE_S3")
    ff.assert_attribute_equals("s3.storeClass", "STANDARD_IA")
    head = s3.head_object(Bucket=bucket, Key="enc.txt")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["StorageClass"] == "STANDARD_IA"
    tags = s3.get_object_tagging(Bucket=bucket, Key="enc.txt")["TagSet"]
    assert tags == [{"Key": "team", "Value": "data"}]


def test_stale_multipart_uploads_are_aged_off(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """In-progress uploads older than the max age are aborted when the bucket is used."""
    stale = s3.create_multipart_upload(Bucket=bucket, Key="abandoned")["UploadId"]
    # Ages are measured by the server's Date header, which has whole seconds: an
    # upload 1.1 s old can read as 0.x s (the cause of a flaky run); 2.1 s reads >= 1 s.
    time.sleep(2.1)
    r = runner_for(
        PutS3Object, bucket=bucket, multipart_upload_max_age_threshold="1 sec"
    )
    r.enqueue(b"x", {"filename": "fresh"})
    r.run()
    r.assert_all_transferred("success", 1)
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads") or []
    assert stale not in [u["UploadId"] for u in uploads]


_UPLOADER = textwrap.dedent(
    """
    import os, random, sys
    from flowengine.testing import TestRunner
    from flowengine.processors.aws import PutS3Object
    endpoint, bucket, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    r = TestRunner(PutS3Object)
    r.add_service("aws", "AWSCredentialsProviderControllerService", {
        "access_key_id": "k", "secret_access_key": "s", "endpoint_override_url": endpoint,
        "use_path_style_access": "true"})
    for k, v in {"aws_credentials_provider": "aws", "bucket": bucket,
                 "multipart_threshold": "5 MB", "multipart_part_size": "5 MB",
                 "multipart_concurrency": "1"}.items():
        r.set_property(k, v)
    r.enqueue(random.Random(7).randbytes(size), {"filename": "resumable.bin"})
    r.run()
    """
)


def kill_mid_upload(moto: Any, s3: Any, bucket: str, size: int) -> str:
    """Start an upload in a subprocess, SIGKILL it after 2 parts; the upload id."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _UPLOADER, moto.endpoint, bucket, str(size)],
        env=dict(os.environ, AWS_DEFAULT_REGION="us-east-1"),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads") or []
            if uploads:
                uid = uploads[0]["UploadId"]
                parts = (
                    s3.list_parts(Bucket=bucket, Key="resumable.bin", UploadId=uid).get(
                        "Parts"
                    )
                    or []
                )
                if len(parts) >= 2:
                    proc.kill()
                    proc.wait(10)
                    return str(uid)
            assert proc.poll() is None, "the upload finished before it could be killed"
            time.sleep(0.01)
        raise AssertionError("no parts appeared")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_killed_upload_leaves_no_object_and_restart_resumes(
    moto: Any, runner_for: Any, s3: Any, bucket: str
) -> None:
    """kill -9 mid-upload: no partial object is visible; the restart reuses the uploaded
    parts of the same upload and completes a byte-identical object."""
    size = 60 * MB
    uid = kill_mid_upload(moto, s3, bucket, size)
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="resumable.bin")
    done_before = len(
        s3.list_parts(Bucket=bucket, Key="resumable.bin", UploadId=uid)["Parts"]
    )
    r = runner_for(
        PutS3Object,
        bucket=bucket,
        multipart_threshold="5 MB",
        multipart_part_size="5 MB",
    )
    r.enqueue(payload(size), {"filename": "resumable.bin"})
    r.run()
    r.assert_all_transferred("success", 1)
    ff = r.flowfiles_for("success")[0]
    ff.assert_attribute_equals("s3.uploadId", uid)
    send = next(e for e in r.provenance_events() if e.event_type.name == "SEND")
    assert f"{done_before} resumed" in send.details
    body = s3.get_object(Bucket=bucket, Key="resumable.bin")["Body"].read()
    assert hashlib.md5(body).digest() == hashlib.md5(payload(size)).digest()
