"""Failure paths against real servers: missing bucket/key, access denied, bad
credentials, server stopped mid-transfer. Nothing is lost and the processor goes on."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from flowengine.processors.aws import (
    DeleteS3Object,
    FetchS3Object,
    GetS3ObjectMetadata,
    GetS3ObjectTags,
    PutS3Object,
    TagS3Object,
)

from flowengine.testing import TestRunner


def test_missing_bucket_routes_to_failure_with_s3_attributes(runner_for: Any) -> None:
    """NoSuchBucket for a bucket the FlowFile's attributes chose: failure, penalized,
    with exception, status, code and message."""
    r = runner_for(FetchS3Object)  # bucket: ${s3.bucket}
    r.enqueue(b"", {"filename": "k", "s3.bucket": "no-such-bucket-x"})
    r.run()
    r.assert_all_transferred("failure", 1)
    ff = r.flowfiles_for("failure")[0]
    assert ff.is_penalized
    ff.assert_attribute_equals("s3.errorCode", "NoSuchBucket")
    ff.assert_attribute_equals("s3.statusCode", "404")
    ff.assert_attribute_equals("s3.exception", "NoSuchBucket")
    assert ff["s3.errorMessage"]


def test_missing_key_fails_alone_and_the_batch_goes_on(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """In a batch, only the FlowFile whose key is missing fails; the others succeed."""
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=f"v{i}".encode())
    r = runner_for(FetchS3Object, bucket=bucket)
    for name in ("k0", "k1", "missing", "k2", "k3", "k4"):
        r.enqueue(b"", {"filename": name})
    r.run()
    assert r.transfer_counts() == {"success": 5, "failure": 1}
    bad = r.flowfiles_for("failure")[0]
    bad.assert_attribute_equals("filename", "missing")
    bad.assert_attribute_equals("s3.errorCode", "NoSuchKey")
    bad.assert_attribute_equals("s3.statusCode", "404")
    assert sorted(f.text for f in r.flowfiles_for("success")) == [
        f"v{i}" for i in range(5)
    ]


def test_put_to_missing_bucket_fails(runner_for: Any) -> None:
    """PutS3Object to a bucket its attributes name that does not exist: failure with
    NoSuchBucket."""
    r = runner_for(PutS3Object, bucket="${target}")
    r.enqueue(b"data", {"filename": "k", "target": "no-such-bucket-y"})
    r.run()
    r.assert_all_transferred("failure", 1)
    r.flowfiles_for("failure")[0].assert_attribute_equals(
        "s3.errorCode", "NoSuchBucket"
    )


@pytest.mark.parametrize("cls", [FetchS3Object, PutS3Object, DeleteS3Object])
def test_a_configured_bucket_that_is_missing_keeps_flowfiles_queued(
    runner_for: Any, cls: Any
) -> None:
    """A fixed Bucket that does not exist is the configuration's fault, not the
    FlowFiles': they stay queued, nothing fails, the processor backs off with a
    bulletin naming the code and the bucket."""
    r = runner_for(cls, bucket="no-such-bucket-fixed")
    for name in ("a", "b", "c"):
        r.enqueue(b"data", {"filename": name})
    r.run()
    assert r.transfer_counts() == {}
    assert r.queue_size() == 3
    assert r.is_yielded
    msg = r.bulletins[-1].message
    assert "cannot work as configured: NoSuchBucket" in msg
    assert "s3://no-such-bucket-fixed/" in msg


def test_empty_key_is_a_failure_not_a_crash(runner_for: Any, bucket: str) -> None:
    """An object key evaluating to nothing routes to failure with an error message."""
    r = runner_for(FetchS3Object, bucket=bucket, object_key="${nothing}")
    r.enqueue(b"", {})
    r.run()
    r.assert_all_transferred("failure", 1)
    assert "empty" in r.flowfiles_for("failure")[0]["s3.errorMessage"]


def test_metadata_found_and_not_found(runner_for: Any, s3: Any, bucket: str) -> None:
    """GetS3ObjectMetadata routes to found (with attributes) or not found."""
    s3.put_object(Bucket=bucket, Key="here", Body=b"abc", Metadata={"a": "1", "b": "2"})
    r = runner_for(GetS3ObjectMetadata, bucket=bucket, attribute_include_pattern="a")
    r.enqueue(b"", {"filename": "here"})
    r.enqueue(b"", {"filename": "gone"})
    r.run()
    assert r.transfer_counts() == {"found": 1, "not found": 1}
    found = r.flowfiles_for("found")[0]
    found.assert_attribute_equals("s3.length", "3")
    found.assert_attribute_equals("s3.user.metadata.a", "1")
    found.assert_attribute_not_exists("s3.user.metadata.b")


def test_get_tags_found_and_not_found(runner_for: Any, s3: Any, bucket: str) -> None:
    """GetS3ObjectTags replaces s3.tag.* with the object's tags, or routes not found."""
    s3.put_object(Bucket=bucket, Key="tagged", Body=b"x", Tagging="a=1&b=2")
    r = runner_for(GetS3ObjectTags, bucket=bucket)
    r.enqueue(b"", {"filename": "tagged", "s3.tag.old": "gone"})
    r.enqueue(b"", {"filename": "absent"})
    r.run()
    assert r.transfer_counts() == {"found": 1, "not found": 1}
    ff = r.flowfiles_for("found")[0]
    tags = {k: v for k, v in ff.attributes.items() if k.startswith("s3.tag.")}
    assert tags == {"s3.tag.a": "1", "s3.tag.b": "2"}


def test_delete_and_tag(runner_for: Any, s3: Any, bucket: str) -> None:
    """TagS3Object appends a tag; DeleteS3Object removes the object."""
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1")
    tag = runner_for(TagS3Object, bucket=bucket, tag_key="b", tag_value="2")
    tag.enqueue(b"", {"filename": "t", "s3.tag.stale": "x"})
    tag.run()
    ff = tag.flowfiles_for("success")[0]
    assert {k: v for k, v in ff.attributes.items() if k.startswith("s3.tag.")} == {
        "s3.tag.a": "1",
        "s3.tag.b": "2",
    }
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")]
    delete = runner_for(DeleteS3Object, bucket=bucket)
    delete.enqueue(b"", {"filename": "t"})
    delete.run()
    delete.assert_all_transferred("success", 1)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# -- a server with IAM authentication -------------------------------------------------
@pytest.fixture(scope="module")
def auth_server(moto_factory: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """A moto server enforcing IAM: a user allowed s3:GetObject on ``authb/ok/*`` only."""
    import boto3

    server = moto_factory()
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=server.endpoint,
            aws_access_key_id="a",
            aws_secret_access_key="b",
            region_name="us-east-1",
        )
        s3 = server.boto3()
        s3.create_bucket(Bucket="authb")
        for key in ("ok/x", "no/x"):
            s3.put_object(Bucket="authb", Key=key, Body=b"1")
        iam.create_user(UserName="u")
        key = iam.create_access_key(UserName="u")["AccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": "arn:aws:s3:::authb/ok/*",
                }
            ],
        }
        iam.put_user_policy(
            UserName="u", PolicyName="p", PolicyDocument=json.dumps(policy)
        )
        req = urllib.request.Request(
            server.endpoint + "/moto-api/reset-auth",
            data=b"0",
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        urllib.request.urlopen(req).read()  # from now on every request is authenticated
        yield server, {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    finally:
        server.stop()


def _auth_runner(server: Any, key: str, secret: str) -> TestRunner:
    r = TestRunner(FetchS3Object)
    r.add_service(
        "aws",
        "AWSCredentialsProviderControllerService",
        server.service_properties(access_key_id=key, secret_access_key=secret),
    )
    r.set_property("aws_credentials_provider", "aws")
    r.set_property("bucket", "authb")
    return r


def test_access_denied_routes_to_failure(auth_server: Any) -> None:
    """AccessDenied is about the object: that FlowFile fails, the allowed one succeeds."""
    server, creds = auth_server
    r = _auth_runner(server, creds["key"], creds["secret"])
    r.enqueue(b"", {"filename": "ok/x"})
    r.enqueue(b"", {"filename": "no/x"})
    r.run()
    assert r.transfer_counts() == {"success": 1, "failure": 1}
    bad = r.flowfiles_for("failure")[0]
    bad.assert_attribute_equals("s3.errorCode", "AccessDenied")
    bad.assert_attribute_equals("s3.statusCode", "403")


def test_rejected_credentials_yield_and_keep_flowfiles(auth_server: Any) -> None:
    """Unknown access key: nothing fails, FlowFiles stay queued, the processor yields
    with a bulletin, and the secret appears nowhere."""
    server, _ = auth_server
    secret = "never-show-this-secret"
    r = _auth_runner(server, "AKIAUNKNOWN", secret)
    for name in ("ok/x", "ok/y", "no/x"):
        r.enqueue(b"", {"filename": name})
    r.run()
    assert r.transfer_counts() == {}
    assert r.queue_size() == 3
    assert r.is_yielded
    assert "credentials were rejected" in r.bulletins[-1].message
    assert "InvalidAccessKeyId" in r.bulletins[-1].message
    for b in r.bulletins:
        assert secret not in b.message
    for e in r.provenance_events():
        assert secret not in json.dumps(dict(e.attributes))


def test_secrets_absent_from_failure_attributes(runner_for: Any, moto: Any) -> None:
    """Failure attributes carry the service's reply, never the configured secret."""
    secret = moto.service_properties()["secret_access_key"]
    r = runner_for(FetchS3Object)
    r.enqueue(b"", {"filename": "k", "s3.bucket": "no-such-bucket-z"})
    r.run()
    attrs = r.flowfiles_for("failure")[0].attributes
    assert secret not in json.dumps(attrs)
    assert all(secret not in b.message for b in r.bulletins)


# -- a server that goes away ----------------------------------------------------------
def test_server_stopped_mid_upload_fails_without_losing_anything(
    moto_factory: Any,
) -> None:
    """The server dies during a multipart upload: the FlowFile goes to failure with
    s3.exception, no object exists, and a later FlowFile fails the same way."""
    server = moto_factory()
    try:
        s3 = server.boto3()
        s3.create_bucket(Bucket="dying")
        r = TestRunner(PutS3Object)
        r.add_service(
            "aws",
            "AWSCredentialsProviderControllerService",
            server.service_properties(connect_timeout="1 sec", read_timeout="3 sec"),
        )
        for k, v in {
            "aws_credentials_provider": "aws",
            "bucket": "dying",
            "multipart_threshold": "5 MB",
            "multipart_part_size": "5 MB",
            "multipart_concurrency": "1",
        }.items():
            r.set_property(k, v)
        r.enqueue(random.Random(3).randbytes(60 << 20), {"filename": "big.bin"})
        t = threading.Thread(target=r.run, kwargs={"stop_on_finish": False})
        t.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            uploads = s3.list_multipart_uploads(Bucket="dying").get("Uploads") or []
            if uploads and s3.list_parts(
                Bucket="dying", Key="big.bin", UploadId=uploads[0]["UploadId"]
            ).get("Parts"):
                break
            time.sleep(0.01)
        server.stop()
        t.join(60)
        assert not t.is_alive()
        r.enqueue(b"small", {"filename": "after.txt"})
        r.run()
        assert r.transfer_counts() == {"failure": 2}
        assert r.queue_size() == 0
        for ff in r.flowfiles_for("failure"):
            assert ff["s3.exception"] in (
                "EndpointConnectionError",
                "ConnectionClosedError",
                "ReadTimeoutError",
                "ConnectTimeoutError",
                "ServerDisconnectedError",
                "ClientOSError",
            )
            assert ff.is_penalized
    finally:
        server.stop()
