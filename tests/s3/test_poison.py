"""Poison isolation for the S3 processors (issue 25), against the moto server.

The generic poison test (``tests/core/test_poison.py``) covers every other built-in
processor that takes input; these need a server. Each S3 processor gets a bad FlowFile
beside a good one in the same batch, two ways:

* ``s3``: the server refuses the bad one's request (no such key, too many tags); for
  the processors where S3 refuses nothing per object that a test can provoke safely
  (Delete succeeds on a missing key; Get*'s missing object is ``not found``) this kind
  is not used. Missing buckets and rejected credentials are not per-FlowFile (they stop
  or yield the processor, see docs/s3.md), so they are not poison here.
* ``expression``: an Expression Language property raises on the bad one's attributes.
* ``lost-content`` (PutS3Object, the one that reads content): its content is gone from
  the repository.

Either way the good FlowFile is delivered and the bad one goes to ``failure``,
penalized, with ``s3.exception`` -- routed by the processor itself (NiFi's
AbstractS3Processor), not by the engine's batch bisection, which would send the good
FlowFile's requests again. A proxy in front of the server records every request: none
may be repeated.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from flowengine import InputRequirement
from flowengine._flow._registry import default_registry
from flowengine.testing import TestRunner

from ._proxy import ProxyRequest, S3Proxy

S3_MODULE = "flowengine.processors.aws"

#: per processor: properties (``key`` is the object's key attribute), the attributes
#: of the bad FlowFile per kind of poison, and the good FlowFile's relationship
Case = dict[str, Any]
_EL_KEY = "${key}${p:toNumber()}"  # toNumber() of "" is empty; of "abc" it raises
CASES: dict[str, Case] = {
    "FetchS3Object": {
        "props": {"object_key": _EL_KEY},
        "s3": {"key": "no/such/key"},
        "delivered": "success",
    },
    "PutS3Object": {
        "props": {
            "object_key": "out/${key}${p:toNumber()}",
            "object_tags_prefix": "tag.",
        },
        # S3 allows 10 tags per object
        "s3": {f"tag.t{i}": "v" for i in range(11)},
        "lost-content": True,  # the content it would upload is gone: ContentError
        "delivered": "success",
    },
    "DeleteS3Object": {"props": {"object_key": _EL_KEY}, "delivered": "success"},
    "TagS3Object": {
        "props": {"object_key": _EL_KEY, "tag_key": "team", "tag_value": "data"},
        "s3": {"key": "no/such/key"},
        "delivered": "success",
    },
    "CopyS3Object": {
        "props": {"object_key": _EL_KEY, "destination_key": "copy/${key}"},
        "s3": {"key": "no/such/key"},
        "delivered": "success",
    },
    "GetS3ObjectMetadata": {"props": {"object_key": _EL_KEY}, "delivered": "found"},
    "GetS3ObjectTags": {"props": {"object_key": _EL_KEY}, "delivered": "found"},
}
KINDS = ("s3", "expression", "lost-content")


def s3_input_processors() -> list[str]:
    """Every built-in S3 processor that takes input (from the registry, so a new one
    fails here until it has a case)."""
    reg = default_registry()
    return sorted(
        name
        for name in reg.names("processor")
        if (cls := reg.resolve("processor", name)).__module__.startswith(S3_MODULE)
        and cls.input_requirement is not InputRequirement.FORBIDDEN
    )


def _params() -> list[Any]:
    out = []
    for name in s3_input_processors():
        for kind in KINDS:
            if kind != "expression" and kind not in CASES.get(name, {}):
                continue  # (every processor has the expression kind)
            out.append(pytest.param(name, kind, id=f"{name}-{kind}"))
    return out


@pytest.fixture
def proxy(moto: Any) -> Iterator[S3Proxy]:
    with S3Proxy(moto.port) as p:
        yield p


def test_every_s3_processor_has_a_case() -> None:
    assert sorted(CASES) == s3_input_processors()


@pytest.mark.parametrize(("type_name", "kind"), _params())
def test_poison_flowfile_is_routed_by_the_processor(
    moto: Any, s3: Any, bucket: str, proxy: S3Proxy, type_name: str, kind: str
) -> None:
    """Good and bad FlowFile in one batch: the good one is delivered, its requests
    sent once; the bad one goes to failure, penalized, with ``s3.exception``."""
    case = CASES[type_name]
    s3.put_object(Bucket=bucket, Key="in/good.txt", Body=b"good data")
    r = TestRunner(type_name)
    r.add_service(
        "aws",
        "AWSCredentialsProviderControllerService",
        moto.service_properties(endpoint_override_url=proxy.endpoint, max_attempts="1"),
    )
    r.set_property("aws_credentials_provider", "aws")
    r.set_property("bucket", bucket)
    if type_name == "CopyS3Object":
        r.set_property("destination_bucket", bucket)
    for k, v in case["props"].items():
        r.set_property(k, v)
    good = {"key": "in/good.txt", "p": "", "which": "good"}
    bad = {**good, "key": "in/bad.txt", "which": "bad"}
    if kind == "s3":
        bad.update(case["s3"])
    elif kind == "expression":
        bad["p"] = "abc"
    r.enqueue(b"good data", good)
    r.enqueue(b"good data", bad, content_lost=kind == "lost-content")
    r.run()
    delivered = r.flowfiles_for(case["delivered"])
    assert [f.get("which") for f in delivered] == ["good"], r.transfer_counts()
    failed = r.flowfiles_for("failure")
    assert [f.get("which") for f in failed] == ["bad"], r.transfer_counts()
    assert set(r.transfer_counts()) == {case["delivered"], "failure"}
    assert failed[0].is_penalized
    exc = failed[0].get("s3.exception")
    assert exc, failed[0].attributes
    if kind == "s3":  # the service's reply is on the FlowFile
        assert failed[0].get("s3.errorCode"), failed[0].attributes
        assert failed[0].get("s3.statusCode", "").startswith("4"), failed[0].attributes
    assert r.queue_size() == 0
    # routed by the processor in the one trigger: no request was sent twice (a batch
    # retried in groups would repeat the good FlowFile's upload, copy, tagging...)
    sent = Counter((q.method, q.path, tuple(sorted(q.query))) for q in proxy.requests)
    assert all(n == 1 for n in sent.values()), sent
    assert any("good.txt" in path for _, path, _ in sent)
    # the bad one is named in a bulletin, with its uuid
    assert any(b.flowfile_uuid == failed[0].get("uuid") for b in r.bulletins)


def test_fetch_of_an_object_changed_while_streamed_goes_to_failure(
    moto: Any, s3: Any, bucket: str
) -> None:
    """A large object (streamed after the batch's concurrent phase, re-requested with
    If-Match on the first reply's ETag) that is overwritten in between: the second GET
    is refused (PreconditionFailed), so that FlowFile goes to failure rather than to
    success with another version's bytes; a small object in the same batch is
    delivered, and the large one's first GET is not repeated."""
    from flowengine.processors.aws import FetchS3Object

    big = random.Random(1).randbytes(6 << 20)  # above FetchS3Object's 4 MB in memory
    s3.put_object(Bucket=bucket, Key="in/big.bin", Body=big)
    s3.put_object(Bucket=bucket, Key="in/small.txt", Body=b"small")
    writer = moto.boto3()

    def overwrite_before_the_stream(q: ProxyRequest) -> None:
        if q.method == "GET" and "if-match" in q.headers and q.path.endswith("big.bin"):
            writer.put_object(Bucket=bucket, Key="in/big.bin", Body=b"changed")
        return None

    with S3Proxy(moto.port, corrupt=overwrite_before_the_stream) as proxy:
        r = TestRunner(FetchS3Object)
        r.add_service(
            "aws",
            "AWSCredentialsProviderControllerService",
            moto.service_properties(endpoint_override_url=proxy.endpoint),
        )
        r.set_property("aws_credentials_provider", "aws")
        r.set_property("bucket", bucket)
        r.enqueue(b"", {"filename": "in/big.bin"})
        r.enqueue(b"", {"filename": "in/small.txt"})
        r.run()
        gets = [q for q in proxy.requests if q.method == "GET"]
    [ok] = r.flowfiles_for("success")
    ok.assert_content_equals(b"small")
    [failed] = r.flowfiles_for("failure")
    assert failed.get("filename") == "in/big.bin"
    assert failed.get("s3.errorCode") == "PreconditionFailed", failed.attributes
    assert failed.is_penalized
    assert sorted(q.path.rsplit("/", 1)[1] for q in gets) == [
        "big.bin",
        "big.bin",
        "small.txt",
    ]
