"""An upload S3 did not store as sent never passes as success (issue 13, last bullet).

A corrupting proxy (``_proxy.py``) sits between PutS3Object and the moto server and
alters the body of PutObject / UploadPart requests: strips it, truncates it, or flips a
byte (same size), fixing Content-Length so the server takes the request as sent. moto
validates neither the SDK's CRC32 checksum nor ``x-amz-content-sha256``, so every
corrupted body is stored; the processor's own verification (size by HEAD, MD5 against
the ETag of the object or of each part) must catch it: the FlowFile goes to
``failure``, penalized, with ``s3.exception``, never to success. Both with the SDK's
checksums (Use Chunked Encoding true, the default) and without (false).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flowengine.processors.aws import PutS3Object

from flowengine.testing import TestRunner

from ._proxy import ProxyRequest, S3Proxy

MB = 1 << 20


def _strip(body: bytes) -> bytes:
    return b""


def _truncate(body: bytes) -> bytes:
    return body[: len(body) // 2]


def _flip(body: bytes) -> bytes:
    return bytes([body[len(body) // 2] ^ 0x01]).join(
        (body[: len(body) // 2], body[len(body) // 2 + 1 :])
    )


MUTATIONS: dict[str, Callable[[bytes], bytes]] = {
    "strip": _strip,
    "truncate": _truncate,
    "flip": _flip,
}


@pytest.fixture
def proxy(moto: Any) -> Iterator[Callable[..., S3Proxy]]:
    made: list[S3Proxy] = []

    def make(**kw: Any) -> S3Proxy:
        p = S3Proxy(moto.port, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def _runner(moto: Any, proxy: S3Proxy, bucket: str, **props: str) -> TestRunner:
    r = TestRunner(PutS3Object)
    r.add_service(
        "aws",
        "AWSCredentialsProviderControllerService",
        moto.service_properties(endpoint_override_url=proxy.endpoint, max_attempts="1"),
    )
    r.set_property("aws_credentials_provider", "aws")
    r.set_property("bucket", bucket)
    r.set_property("multipart_threshold", "6 MB")
    r.set_property("multipart_part_size", "5 MB")
    for k, v in props.items():
        r.set_property(k, v)
    return r


def _assert_failed(r: TestRunner, proxy: S3Proxy) -> dict[str, str]:
    assert proxy.corrupted, "the proxy corrupted nothing: the test proves nothing"
    assert r.transfer_counts() == {"failure": 1}, r.transfer_counts()
    ff = r.flowfiles_for("failure")[0]
    assert ff.is_penalized
    assert ff.get("s3.exception")
    assert ff.get("s3.errorMessage")
    return ff.attributes


@pytest.mark.parametrize("chunked", ["true", "false"], ids=["checksums", "plain"])
@pytest.mark.parametrize(
    ("size", "mutation"),
    [
        pytest.param(1000, "strip", id="in-memory-stripped"),
        pytest.param(1000, "flip", id="in-memory-flipped"),
        pytest.param(2 * MB, "truncate", id="streamed-truncated"),
        pytest.param(2 * MB, "flip", id="streamed-flipped"),
    ],
)
def test_corrupted_put_object_goes_to_failure(
    moto: Any,
    s3: Any,
    bucket: str,
    proxy: Callable[..., S3Proxy],
    chunked: str,
    size: int,
    mutation: str,
) -> None:
    """A single PutObject whose body arrived stripped, truncated or altered: failure
    with ``UploadVerificationError`` (S3 took the request), never success."""
    mutate = MUTATIONS[mutation]
    px = proxy(corrupt=lambda q: mutate(q.body) if q.is_put_object else None)
    r = _runner(moto, px, bucket, use_chunked_encoding=chunked)
    data = random.Random(size).randbytes(size)
    r.enqueue(data, {"filename": "obj.bin"})
    r.run()
    attrs = _assert_failed(r, px)
    assert attrs["s3.exception"] == "UploadVerificationError", attrs
    # what S3 holds really is not the content (the check did not invent a mismatch)
    assert _stored(moto, bucket, "obj.bin") != data


def _stored(moto: Any, bucket: str, key: str) -> bytes:
    """The object's bytes as stored (not checked against the checksum the corrupted
    request carried, which boto3 would refuse)."""
    import boto3
    from botocore.config import Config

    from .conftest import ACCESS_KEY, SECRET_KEY

    raw = boto3.client(
        "s3",
        endpoint_url=moto.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(response_checksum_validation="when_required"),
    )
    return bytes(raw.get_object(Bucket=bucket, Key=key)["Body"].read())


def _part(n: int) -> Callable[[ProxyRequest], bool]:
    return lambda q: q.part_number == n


@pytest.mark.parametrize("chunked", ["true", "false"], ids=["checksums", "plain"])
@pytest.mark.parametrize(
    ("part", "mutation"),
    [
        pytest.param(2, "flip", id="middle-part-flipped"),
        pytest.param(3, "truncate", id="last-part-truncated"),
    ],
)
def test_corrupted_multipart_part_goes_to_failure(
    moto: Any,
    s3: Any,
    bucket: str,
    proxy: Callable[..., S3Proxy],
    chunked: str,
    part: int,
    mutation: str,
) -> None:
    """A 12 MB multipart upload (parts of 5, 5 and 2 MB) with one part altered in
    transit: its ETag is not the MD5 of its bytes, so the FlowFile goes to failure and
    no object is completed."""
    mutate = MUTATIONS[mutation]
    is_part = _part(part)
    px = proxy(corrupt=lambda q: mutate(q.body) if is_part(q) else None)
    r = _runner(moto, px, bucket, use_chunked_encoding=chunked)
    r.enqueue(random.Random(3).randbytes(12 * MB), {"filename": "mp.bin"})
    r.run()
    attrs = _assert_failed(r, px)
    assert attrs["s3.exception"] == "UploadVerificationError", attrs
    assert f"part {part}" in attrs["s3.errorMessage"]
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="mp.bin")


def test_retry_after_a_corrupted_part_never_reuses_it(
    moto: Any, s3: Any, bucket: str, proxy: Callable[..., S3Proxy]
) -> None:
    """The failed upload stays on the server for a resume; the resume reuses the good
    parts but sends the corrupted one again (its ETag does not match the content), and
    the object is exact. Through a clean proxy: the parts sent are counted."""
    data = random.Random(5).randbytes(12 * MB)
    bad = proxy(corrupt=lambda q: _flip(q.body) if q.part_number == 2 else None)
    first = _runner(moto, bad, bucket, multipart_concurrency="1")
    first.enqueue(data, {"filename": "again.bin"})
    first.run()
    _assert_failed(first, bad)
    clean = proxy()
    second = _runner(moto, clean, bucket)
    second.enqueue(data, {"filename": "again.bin"})
    second.run()
    second.assert_all_transferred("success", 1)
    assert 2 in clean.part_numbers()
    assert 1 not in clean.part_numbers()  # part 1 was good: reused, not sent again
    body = s3.get_object(Bucket=bucket, Key="again.bin")["Body"].read()
    assert hashlib.md5(body).digest() == hashlib.md5(data).digest()


def test_the_proxy_itself_corrupts_nothing(
    moto: Any, s3: Any, bucket: str, proxy: Callable[..., S3Proxy]
) -> None:
    """Control: through the proxy without a corruption, both kinds of upload succeed
    (so the failures above are the corruption's, not the proxy's)."""
    px = proxy()
    r = _runner(moto, px, bucket)
    small, large = b"tiny content", random.Random(9).randbytes(12 * MB)
    r.enqueue(small, {"filename": "small"})
    r.enqueue(large, {"filename": "large"})
    r.run()
    r.assert_all_transferred("success", 2)
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == small
    assert s3.get_object(Bucket=bucket, Key="large")["Body"].read() == large
    assert sorted(px.part_numbers()) == [1, 2, 3]
