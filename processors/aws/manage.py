"""Object management: DeleteS3Object, TagS3Object, CopyS3Object, GetS3ObjectMetadata.

Each is one or two requests per FlowFile, run concurrently by the batch loop of
:class:`~._common.AbstractS3Processor`; none touches the FlowFile's content except
GetS3ObjectMetadata with the FlowFile-body target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Mapping
from typing import Any

import anyio

from flowengine import (
    ALLOWABLE_BOOLEANS,
    AllowableValue,
    ExpressionLanguageScope,
    FlowFile,
    ProcessContext,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._common import (
    AbstractS3Processor,
    bucket_property,
    is_not_found,
    sanitize_etag,
)
from ._replies import tag_set, version_attribute

__all__ = [
    "CopyS3Object",
    "DeleteS3Object",
    "GetS3ObjectMetadata",
    "GetS3ObjectTags",
    "TagS3Object",
]

_VERSION = PropertyDescriptor(
    "version",
    "The object version (versioned buckets).",
    display_name="Version",
    expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
)


def _version(context: ProcessContext, ff: FlowFile) -> dict[str, str]:
    v = context.property("version").evaluate(ff).value
    return {"VersionId": v} if v else {}


async def _unless_not_found(request: Awaitable[Any]) -> Any | None:
    """The reply to ``request``, or None when S3 says the object (or that version of
    it) does not exist; any other error propagates (the batch loop routes it)."""
    try:
        return await request
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def _put_tags(
    session: ProcessSession, ff: FlowFile, tags: Mapping[str, str]
) -> FlowFile:
    """Make the FlowFile's ``s3.tag.*`` attributes exactly ``tags`` (stale ones go)."""
    ff = session.remove_attributes(ff, re.compile(r"s3\.tag\..*"))
    return session.put_attributes(ff, {f"s3.tag.{k}": v for k, v in tags.items()})


class DeleteS3Object(AbstractS3Processor):
    """Deletes an object (or one version of it) from S3.

    S3 reports success whether or not the key existed, and so does this processor.
    """

    VERSION = _VERSION

    async def process(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
    ) -> None:
        bucket, key = self.location(context, ff)
        await client.delete_object(Bucket=bucket, Key=key, **_version(context, ff))
        session.provenance.remote_invocation(
            ff, self.url(context, client, bucket, key), "Object deleted"
        )
        session.transfer(ff, self.SUCCESS)


class TagS3Object(AbstractS3Processor):
    """Adds or replaces a tag of an S3 object.

    With Append Tag the other tags are kept; without it the tag set is replaced. The
    FlowFile's ``s3.tag.*`` attributes are rewritten to the resulting tag set.
    """

    writes_attributes = {
        "s3.tag.<key>": "every tag of the object after tagging",
        **AbstractS3Processor.writes_attributes,
    }
    TAG_KEY = PropertyDescriptor(
        "tag_key",
        "The tag's key.",
        display_name="Tag Key",
        aliases=("tag-key",),
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    TAG_VALUE = PropertyDescriptor(
        "tag_value",
        "The tag's value.",
        display_name="Tag Value",
        aliases=("tag-value",),
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    APPEND = PropertyDescriptor(
        "append_tag",
        "Keep the object's other tags (true) or replace the whole set.",
        display_name="Append Tag",
        aliases=("append-tag",),
        default="true",
        allowable_values=ALLOWABLE_BOOLEANS,
    )
    VERSION = _VERSION

    async def process(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
    ) -> None:
        bucket, key = self.location(context, ff)
        tag_key = context.property(self.TAG_KEY).evaluate(ff).value or ""
        tag_value = context.property(self.TAG_VALUE).evaluate(ff).value or ""
        if not tag_key.strip() or not tag_value.strip():
            raise ValueError("tag key and tag value must not be blank")
        version = _version(context, ff)
        tags: dict[str, str] = {}
        if context.property(self.APPEND).as_bool():
            r = await client.get_object_tagging(Bucket=bucket, Key=key, **version)
            tags = tag_set(r)
        tags[tag_key] = tag_value
        tagset = [{"Key": k, "Value": v} for k, v in tags.items()]
        await client.put_object_tagging(
            Bucket=bucket, Key=key, Tagging={"TagSet": tagset}, **version
        )
        ff = _put_tags(session, ff, tags)
        session.provenance.remote_invocation(
            ff, self.url(context, client, bucket, key), "Object tagged"
        )
        session.transfer(ff, self.SUCCESS)


_COPY_LIMIT = 5 << 30  # CopyObject handles up to 5 GB; larger objects copy in parts
_COPY_PART = 512 << 20


class CopyS3Object(AbstractS3Processor):
    """Copies an object within S3 (server side: no data passes through the engine)."""

    BUCKET = bucket_property()
    OBJECT_KEY = AbstractS3Processor.OBJECT_KEY
    DEST_BUCKET = PropertyDescriptor(
        "destination_bucket",
        "The bucket to copy to.",
        display_name="Destination Bucket",
        default="${s3.bucket}",
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    DEST_KEY = PropertyDescriptor(
        "destination_key",
        "The key to copy to.",
        display_name="Destination Key",
        default="${filename}",
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )

    async def process(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
    ) -> None:
        bucket, key = self.location(context, ff)
        dbucket = context.property(self.DEST_BUCKET).evaluate(ff).value or ""
        dkey = context.property(self.DEST_KEY).evaluate(ff).value or ""
        if not dbucket or not dkey:
            raise ValueError("destination bucket and key must not be empty")
        source = {"Bucket": bucket, "Key": key}
        head = await client.head_object(**source)
        if int(head["ContentLength"]) <= _COPY_LIMIT:
            r = await client.copy_object(Bucket=dbucket, Key=dkey, CopySource=source)
            etag = r.get("CopyObjectResult", {}).get("ETag")
        else:
            etag = await _multipart_copy(
                client, source, dbucket, dkey, int(head["ContentLength"])
            )
        url = self.url(context, client, dbucket, dkey)
        ff = session.put_attributes(
            ff,
            {
                "s3.bucket": dbucket,
                "s3.key": dkey,
                "s3.etag": sanitize_etag(etag),
                "s3.url": url,
            },
        )
        session.provenance.send(ff, url, f"Copied from {bucket}/{key}")
        session.transfer(ff, self.SUCCESS)


async def _multipart_copy(
    client: Any, source: dict[str, str], bucket: str, key: str, size: int
) -> str:
    up = await client.create_multipart_upload(Bucket=bucket, Key=key)
    uid = up["UploadId"]
    etags: dict[int, str] = {}
    try:

        async def part(n: int, off: int) -> None:
            end = min(off + _COPY_PART, size) - 1
            r = await client.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=uid,
                PartNumber=n,
                CopySource=source,
                CopySourceRange=f"bytes={off}-{end}",
            )
            etags[n] = r["CopyPartResult"]["ETag"]

        async with anyio.create_task_group() as tg:
            for n, off in enumerate(range(0, size, _COPY_PART), start=1):
                tg.start_soon(part, n, off)
        r = await client.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=uid,
            MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
            },
        )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)
        raise
    return str(r.get("ETag"))


class GetS3ObjectMetadata(AbstractS3Processor):
    """Looks up an object's metadata (HeadObject) and routes on whether it exists.

    The metadata goes to attributes (``s3.*`` for standard headers,
    ``s3.user.metadata.<k>`` for user metadata matching the include pattern) or, as a
    JSON document, to the FlowFile's content.
    """

    writes_attributes = {
        "s3.etag": "the ETag",
        "s3.length": "the size",
        "s3.lastModified": "ms since the epoch",
        "s3.storeClass": "the storage class",
        "s3.version": "the version id",
        "mime.type": "Content-Type",
        "s3.user.metadata.<key>": "user metadata",
        **AbstractS3Processor.writes_attributes,
    }
    TARGET = PropertyDescriptor(
        "metadata_target",
        "Where the metadata goes.",
        display_name="Metadata Target",
        default="ATTRIBUTES",
        allowable_values=(
            AllowableValue("ATTRIBUTES", "Attributes"),
            AllowableValue("FLOWFILE_BODY", "FlowFile Body"),
        ),
    )
    INCLUDE = PropertyDescriptor(
        "attribute_include_pattern",
        "Only user metadata whose key matches this regex.",
        display_name="Attribute Include Pattern",
        default=".*",
        validators=(validators.REGEX,),
    )
    VERSION = _VERSION
    FOUND = Relationship("found", "The object exists; its metadata was added")
    NOT_FOUND = Relationship("not found", "No such object")

    async def process(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
    ) -> None:
        bucket, key = self.location(context, ff)
        head = await _unless_not_found(
            client.head_object(Bucket=bucket, Key=key, **_version(context, ff))
        )
        if head is None:
            session.transfer(ff, self.NOT_FOUND)
            return
        pattern = re.compile(context.property(self.INCLUDE).value or ".*")
        user = {
            k: v
            for k, v in (head.get("Metadata") or {}).items()
            if pattern.fullmatch(k)
        }
        std = {
            "s3.etag": sanitize_etag(head.get("ETag")),
            "s3.length": str(head.get("ContentLength", 0)),
            "s3.lastModified": str(int(head["LastModified"].timestamp() * 1000))
            if head.get("LastModified")
            else "",
            "s3.storeClass": str(head.get("StorageClass") or "STANDARD"),
        }
        std.update(version_attribute(head))
        if context.property(self.TARGET).value == "FLOWFILE_BODY":
            doc = {
                **{k.removeprefix("s3."): v for k, v in std.items()},
                "contentType": head.get("ContentType"),
                "userMetadata": user,
            }
            ff = session.write(ff, json.dumps(doc).encode())
            ff = session.put_attribute(ff, "mime.type", "application/json")
        else:
            if head.get("ContentType"):
                std["mime.type"] = head["ContentType"]
            std.update({f"s3.user.metadata.{k}": v for k, v in user.items()})
            ff = session.put_attributes(ff, std)
        session.transfer(ff, self.FOUND)


class GetS3ObjectTags(AbstractS3Processor):
    """Reads an object's tags (GetObjectTagging) into ``s3.tag.<key>`` attributes and
    routes on whether the object exists."""

    writes_attributes = {
        "s3.tag.<key>": "every tag of the object",
        **AbstractS3Processor.writes_attributes,
    }
    VERSION = _VERSION
    FOUND = Relationship("found", "The object exists; its tags were added")
    NOT_FOUND = Relationship("not found", "No such object")

    async def process(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
    ) -> None:
        bucket, key = self.location(context, ff)
        r = await _unless_not_found(
            client.get_object_tagging(Bucket=bucket, Key=key, **_version(context, ff))
        )
        if r is None:
            session.transfer(ff, self.NOT_FOUND)
            return
        ff = _put_tags(session, ff, tag_set(r))
        session.transfer(ff, self.FOUND)


# NiFi's relationships for these: found / not found / failure (no "success").
GetS3ObjectMetadata.relationships = (
    GetS3ObjectMetadata.FOUND,
    GetS3ObjectMetadata.NOT_FOUND,
    GetS3ObjectMetadata.FAILURE,
)
GetS3ObjectTags.relationships = (
    GetS3ObjectTags.FOUND,
    GetS3ObjectTags.NOT_FOUND,
    GetS3ObjectTags.FAILURE,
)
