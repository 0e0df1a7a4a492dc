"""FlowFile attributes from S3 replies, shared by the processors that read them.

NiFi names these attributes the same whichever processor writes them (FetchS3Object,
PutS3Object, GetS3ObjectMetadata, the tag processors, ListS3), so each is derived here
once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "expiration_attributes",
    "storage_attributes",
    "tag_set",
    "version_attribute",
]


def version_attribute(reply: Mapping[str, Any]) -> dict[str, str]:
    """``s3.version`` from a reply, when it names a version (S3 says ``"null"`` for an
    object written while versioning was off: NiFi writes no attribute then)."""
    version = reply.get("VersionId")
    return {"s3.version": version} if version and version != "null" else {}


def storage_attributes(reply: Mapping[str, Any]) -> dict[str, str]:
    """How S3 keeps the object, from a GetObject/PutObject reply: ``s3.sseAlgorithm``
    (server-side or customer-key encryption) and the lifecycle expiration."""
    attrs: dict[str, str] = {}
    if reply.get("ServerSideEncryption"):
        attrs["s3.sseAlgorithm"] = reply["ServerSideEncryption"]
    elif reply.get("SSECustomerAlgorithm"):
        attrs["s3.sseAlgorithm"] = reply["SSECustomerAlgorithm"]
    attrs.update(expiration_attributes(reply.get("Expiration")))
    return attrs


def expiration_attributes(header: str | None) -> dict[str, str]:
    """Parse ``expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="x"`` (the
    ``x-amz-expiration`` header) into ``s3.expirationTime`` (ms) and
    ``s3.expirationTimeRuleId``; a date that does not parse is left out."""
    out: dict[str, str] = {}
    if not header:
        return out
    for part in header.split('",'):
        name, _, value = part.partition("=")
        value = value.strip().strip('"')
        if name.strip() == "expiry-date":
            with contextlib.suppress(TypeError, ValueError):
                out["s3.expirationTime"] = str(
                    int(parsedate_to_datetime(value).timestamp() * 1000)
                )
        elif name.strip() == "rule-id":
            out["s3.expirationTimeRuleId"] = value
    return out


def tag_set(reply: Mapping[str, Any]) -> dict[str, str]:
    """The tags of a GetObjectTagging reply as ``{key: value}``."""
    return {t["Key"]: t["Value"] for t in reply.get("TagSet") or []}
