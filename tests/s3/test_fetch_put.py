"""FetchS3Object and PutS3Object against a real S3-protocol server."""

from __future__ import annotations

import hashlib
from typing import Any

from flowengine.processors.aws import CopyS3Object, FetchS3Object, PutS3Object


def test_put_small_object_and_attributes(runner_for: Any, s3: Any, bucket: str) -> None:
    """A small FlowFile goes up in one PutObject; boto3 sees the content and metadata."""
    r = runner_for(
        PutS3Object,
        bucket=bucket,
        object_key="out/${filename}",
        owner="${who}",
        content_type="text/plain",
        cache_control="no-cache",
    )
    r.enqueue(b"hello world", {"filename": "a.txt", "who": "me"})
    r.run()
    r.assert_all_transferred("success", 1)
    ff = r.flowfiles_for("success")[0]
    ff.assert_attribute_equals("s3.key", "out/a.txt")
    ff.assert_attribute_equals("s3.apimethod", "putobject")
    ff.assert_attribute_equals("s3.usermetadata", "owner=me")
    obj = s3.get_object(Bucket=bucket, Key="out/a.txt")
    assert obj["Body"].read() == b"hello world"
    assert obj["Metadata"] == {"owner": "me"}
    assert obj["ContentType"] == "text/plain"
    assert ff["s3.etag"] == obj["ETag"].strip('"')
    events = [e for e in r.provenance_events() if e.event_type.name == "SEND"]
    assert events and events[0].transit_uri.endswith(f"/{bucket}/out/a.txt")


def test_fetch_object_streams_content_and_keeps_filename(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """FetchS3Object replaces content, copies user metadata, keeps filename as the key."""
    s3.put_object(
        Bucket=bucket,
        Key="dir/x.csv",
        Body=b"a,b\n1,2\n",
        Metadata={"k": "v"},
        ContentType="text/csv",
    )
    r = runner_for(FetchS3Object)
    r.enqueue(b"", {"filename": "dir/x.csv", "s3.bucket": bucket})
    r.run()
    r.assert_all_transferred("success", 1)
    ff = r.flowfiles_for("success")[0]
    ff.assert_content_equals(b"a,b\n1,2\n")
    ff.assert_attribute_equals("filename", "dir/x.csv")
    ff.assert_attribute_equals("k", "v")
    ff.assert_attribute_equals("mime.type", "text/csv")
    ff.assert_attribute_equals("s3.bucket", bucket)
    fetches = [e for e in r.provenance_events() if e.event_type.name == "FETCH"]
    assert len(fetches) == 1 and fetches[0].transit_uri.endswith(f"/{bucket}/dir/x.csv")


def test_put_streams_a_mid_sized_object_in_one_put(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """A 3 MB content (below the multipart threshold) goes up streamed in one PutObject."""
    data = bytes(range(256)) * (3 * 4096)
    r = runner_for(PutS3Object, bucket=bucket)
    r.enqueue(data, {"filename": "mid.bin"})
    r.run()
    r.assert_all_transferred("success", 1)
    r.flowfiles_for("success")[0].assert_attribute_equals("s3.apimethod", "putobject")
    got = s3.get_object(Bucket=bucket, Key="mid.bin")["Body"].read()
    assert hashlib.md5(got).digest() == hashlib.md5(data).digest()


def test_copy_object_server_side(runner_for: Any, s3: Any, bucket: str) -> None:
    """CopyS3Object copies to the destination key and writes its attributes."""
    s3.put_object(Bucket=bucket, Key="src/a", Body=b"copy me")
    r = runner_for(
        CopyS3Object, destination_key="dst/${filename:substringAfter('src/')}"
    )
    r.enqueue(b"", {"filename": "src/a", "s3.bucket": bucket})
    r.run()
    r.assert_all_transferred("success", 1)
    r.flowfiles_for("success")[0].assert_attribute_equals("s3.key", "dst/a")
    assert s3.get_object(Bucket=bucket, Key="dst/a")["Body"].read() == b"copy me"


def test_sse_c_round_trip(runner_for: Any, s3: Any, bucket: str) -> None:
    """An object written with a customer key (SSE-C) is fetched back with the same key,
    and the key never shows up in attributes or provenance."""
    import base64

    key = base64.b64encode(bytes(range(32))).decode()
    put = runner_for(
        PutS3Object, bucket=bucket, encryption_strategy="SSE_C", sse_customer_key=key
    )
    put.enqueue(b"for your eyes only", {"filename": "ssec.txt"})
    put.run()
    put.assert_all_transferred("success", 1)
    fetch = runner_for(FetchS3Object, bucket=bucket, sse_customer_key=key)
    fetch.enqueue(b"", {"filename": "ssec.txt"})
    fetch.run()
    fetch.assert_all_transferred("success", 1)
    got = fetch.flowfiles_for("success")[0]
    got.assert_content_equals(b"for your eyes only")
    for r in (put, fetch):
        for f in r.flowfiles_for("success"):
            assert key not in str(f.attributes)
        for e in r.provenance_events():
            assert key not in str(dict(e.attributes)) + str(e.details)
