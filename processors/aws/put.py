"""PutS3Object: write a FlowFile's content to S3 as an object.

Up to the multipart threshold the content goes in one PutObject; above it, in a
multipart upload whose parts are sent concurrently (see :mod:`._multipart`: resumable,
never a partial object visible, memory bounded by ``multipart_concurrency x part size``).

Defaults, chosen for Python rather than copied from NiFi's 5 GB: threshold 32 MB, part
size 16 MB, 4 parts in flight (≤ 64 MB of part buffers per processor). In-progress
uploads older than ``multipart_upload_max_age_threshold`` are aborted once per
``multipart_upload_ageoff_interval`` for each bucket written to.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

import anyio
import anyio.to_thread

from flowengine import (
    ALLOWABLE_BOOLEANS,
    AllowableValue,
    DynamicProperties,
    ExpressionLanguageScope,
    FlowFile,
    ProcessContext,
    ProcessSession,
    PropertyDescriptor,
    choices,
    validators,
)

from ._common import AbstractS3Processor, sanitize_etag
from ._multipart import (
    MultipartUploader,
    PartStream,
    UploadStore,
    UploadVerificationError,
    age_off,
)
from ._replies import storage_attributes, version_attribute

__all__ = ["PutS3Object", "UploadVerificationError"]


STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
)
_STREAMED = 1 << 20  # larger contents are streamed to S3 rather than read into memory


class PutS3Object(AbstractS3Processor):
    """Writes the content of a FlowFile to S3 as an object.

    Dynamic properties become user metadata of the object (``x-amz-meta-<name>``);
    attributes starting with the Object Tags Prefix become object tags.
    """

    example = """\
put:
  type: PutS3Object
  properties: {bucket: my-bucket, object_key: "copied/${filename}", aws_credentials_provider: aws}
  auto_terminate: [success]
"""
    stateful = True
    dynamic_properties = DynamicProperties(
        "User metadata stored with the object (x-amz-meta-<name>).",
        name="A metadata key",
        value="Its value",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        # the name is sent as the header x-amz-meta-<name>: one with a space or a
        # colon corrupts the request (moto stored such objects empty)
        name_validators=(validators.HTTP_HEADER_NAME,),
    )
    writes_attributes = {
        "s3.bucket": "the bucket",
        "s3.key": "the object key",
        "s3.url": "the object's URL",
        "s3.etag": "the object's ETag",
        "s3.version": "the version id (versioned buckets)",
        "s3.contenttype": "the Content-Type sent, if set",
        "s3.contentdisposition": "the Content-Disposition sent, if set",
        "s3.cachecontrol": "the Cache-Control sent, if set",
        "s3.storeClass": "the storage class",
        "s3.usermetadata": "user metadata as k=v lines, if any",
        "s3.uploadId": "the multipart upload id (multipart only)",
        "s3.apimethod": "putobject or multipartupload",
        "s3.sseAlgorithm": "server-side encryption algorithm, if any",
        "s3.encryptionStrategy": "the encryption strategy, if not NONE",
        "s3.expirationTime": "lifecycle expiration (ms), if any",
        "s3.expirationTimeRuleId": "the lifecycle rule, if any",
        **AbstractS3Processor.writes_attributes,
    }

    STORAGE_CLASS = PropertyDescriptor(
        "storage_class",
        "The storage class of the object.",
        display_name="Storage Class",
        default="STANDARD",
        allowable_values=choices(*STORAGE_CLASSES),
    )
    CONTENT_TYPE = PropertyDescriptor(
        "content_type",
        "Content-Type of the object; unset: guessed from the key, else binary/octet-stream.",
        display_name="Content Type",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    CONTENT_DISPOSITION = PropertyDescriptor(
        "content_disposition",
        'inline, or attachment (sent as attachment; filename="<filename>").',
        display_name="Content Disposition",
        allowable_values=choices("inline", "attachment"),
    )
    CACHE_CONTROL = PropertyDescriptor(
        "cache_control",
        "Cache-Control of the object.",
        display_name="Cache Control",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    TAGS_PREFIX = PropertyDescriptor(
        "object_tags_prefix",
        "Attributes whose names start with this prefix become object tags.",
        display_name="Object Tags Prefix",
        aliases=("s3-object-tags-prefix",),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    REMOVE_TAG_PREFIX = PropertyDescriptor(
        "remove_tag_prefix",
        "Strip the prefix from tag names.",
        display_name="Remove Tag Prefix",
        aliases=("s3-object-remove-tags-prefix",),
        default="false",
        allowable_values=ALLOWABLE_BOOLEANS,
    )
    CANNED_ACL = PropertyDescriptor(
        "canned_acl",
        "A canned ACL for the object (private, public-read...).",
        display_name="Canned ACL",
        aliases=("canned-acl",),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    ENCRYPTION = PropertyDescriptor(
        "encryption_strategy",
        "Server-side encryption: none, SSE-S3 (AES256), SSE-KMS (with a key id) or SSE-C "
        "(a customer key).",
        display_name="Encryption Strategy",
        default="NONE",
        allowable_values=(
            AllowableValue("NONE", "No Encryption"),
            AllowableValue("SSE_S3", "Server-side S3"),
            AllowableValue("SSE_KMS", "Server-side KMS"),
            AllowableValue("SSE_C", "Server-side Customer Key"),
        ),
    )
    KMS_KEY_ID = PropertyDescriptor(
        "kms_key_id",
        "The KMS key id (SSE-KMS).",
        display_name="KMS Key ID",
        depends_on=("encryption_strategy", ("SSE_KMS",)),
    )
    SSE_C_KEY = PropertyDescriptor(
        "sse_customer_key",
        "Base64 256-bit key (SSE-C).",
        display_name="Server Side Encryption Customer Key",
        sensitive=True,
        depends_on=("encryption_strategy", ("SSE_C",)),
    )
    MULTIPART_THRESHOLD = PropertyDescriptor(
        "multipart_threshold",
        "Contents larger than this are sent as a multipart upload.",
        display_name="Multipart Threshold",
        default="32 MB",
        validators=(validators.DATA_SIZE,),
    )
    MULTIPART_PART_SIZE = PropertyDescriptor(
        "multipart_part_size",
        "Size of each part (at least 5 MB, S3's minimum).",
        display_name="Multipart Part Size",
        default="16 MB",
        validators=(validators.DATA_SIZE,),
    )
    MULTIPART_CONCURRENCY = PropertyDescriptor(
        "multipart_concurrency",
        "Parts uploaded at the same time, across all uploads of this processor "
        "(bounds memory to this many parts).",
        display_name="Multipart Concurrency",
        default="4",
        validators=(validators.integer_range(1, 64),),
    )
    AGEOFF_INTERVAL = PropertyDescriptor(
        "multipart_upload_ageoff_interval",
        "How often to look for stale in-progress uploads in a bucket.",
        display_name="Multipart Upload AgeOff Interval",
        default="60 min",
        validators=(validators.TIME_PERIOD,),
    )
    MAX_AGE = PropertyDescriptor(
        "multipart_upload_max_age_threshold",
        "In-progress uploads older than this are aborted.",
        display_name="Multipart Upload Max Age Threshold",
        default="7 days",
        validators=(validators.TIME_PERIOD,),
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        problems = []
        part = context.property(self.MULTIPART_PART_SIZE).as_data_size() or 0
        if part < 5 << 20:
            problems.append(
                "multipart_part_size must be at least 5 MB (S3's minimum part size)"
            )
        if (
            context.property(self.ENCRYPTION).value == "SSE_C"
            and not context.property(self.SSE_C_KEY).value
        ):
            problems.append("encryption_strategy SSE_C needs sse_customer_key")
        return problems

    def on_scheduled(self, context: ProcessContext) -> None:
        self._limiters: dict[int, anyio.CapacityLimiter] = {}
        self._store = UploadStore(context.state.get, context.state.set)
        self._aged: dict[str, float] = {}
        self._key_locks: dict[tuple[str, str], anyio.Lock] = {}

    def _part_limiter(self, context: ProcessContext) -> anyio.CapacityLimiter:
        # One per event loop: a limiter belongs to the loop that first uses it (the
        # engine runs one loop per run, the test runner one per ``run()``).
        import asyncio

        loop = id(asyncio.get_running_loop())
        limiter = self._limiters.get(loop)
        if limiter is None:
            self._limiters = {
                loop: anyio.CapacityLimiter(
                    context.property(self.MULTIPART_CONCURRENCY).as_int() or 4
                )
            }
            limiter = self._limiters[loop]
        return limiter

    async def on_trigger(
        self, context: ProcessContext, session: ProcessSession
    ) -> None:
        if not hasattr(self, "_store"):
            self.on_scheduled(context)
        await super().on_trigger(context, session)

    # -- request parameters ----------------------------------------------------------
    def _params(
        self, context: ProcessContext, ff: FlowFile, key: str
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
        """(object parameters, per-part parameters, attributes to write)."""
        params: dict[str, Any] = {}
        part: dict[str, Any] = {}
        attrs: dict[str, str] = {}
        storage = context.property(self.STORAGE_CLASS).value or "STANDARD"
        params["StorageClass"] = storage
        attrs["s3.storeClass"] = storage
        ctype = context.property(self.CONTENT_TYPE).evaluate(ff).value
        if ctype:
            attrs["s3.contenttype"] = ctype
        else:
            import mimetypes

            ctype = mimetypes.guess_type(key)[0] or "binary/octet-stream"
        params["ContentType"] = ctype
        disp = context.property(self.CONTENT_DISPOSITION).value
        if disp:
            value = (
                disp
                if disp == "inline"
                else f'attachment; filename="{quote(ff.get("filename") or key)}"'
            )
            params["ContentDisposition"] = value
            attrs["s3.contentdisposition"] = value
        cache = context.property(self.CACHE_CONTROL).evaluate(ff).value
        if cache:
            params["CacheControl"] = cache
            attrs["s3.cachecontrol"] = cache
        meta = {
            k: v.evaluate(ff).value or "" for k, v in context.dynamic_properties.items()
        }
        if meta:
            params["Metadata"] = meta
            attrs["s3.usermetadata"] = "\n".join(f"{k}={v}" for k, v in meta.items())
        prefix = context.property(self.TAGS_PREFIX).evaluate(ff).value
        if prefix:
            strip = context.property(self.REMOVE_TAG_PREFIX).as_bool()
            tags = {
                (k[len(prefix) :] if strip else k): v
                for k, v in ff.attributes.items()
                if k.startswith(prefix)
            }
            if tags:
                params["Tagging"] = urlencode(tags)
        acl = context.property(self.CANNED_ACL).evaluate(ff).value
        if acl:
            params["ACL"] = acl
        strategy = context.property(self.ENCRYPTION).value or "NONE"
        if strategy == "SSE_S3":
            params["ServerSideEncryption"] = "AES256"
        elif strategy == "SSE_KMS":
            params["ServerSideEncryption"] = "aws:kms"
            kms = context.property(self.KMS_KEY_ID).value
            if kms:
                params["SSEKMSKeyId"] = kms
        elif strategy == "SSE_C":
            sse = {
                "SSECustomerAlgorithm": "AES256",
                "SSECustomerKey": context.property(self.SSE_C_KEY).value,
            }
            params.update(sse)
            part.update(sse)
        if strategy != "NONE":
            attrs["s3.encryptionStrategy"] = strategy
        return params, part, attrs

    # -- one FlowFile ------------------------------------------------------------------
    async def process(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
    ) -> None:
        bucket, key = self.location(context, ff)
        params, part_params, attrs = self._params(context, ff, key)
        await self._age_off(context, client, bucket)
        started = time.monotonic()
        size = ff.size
        threshold = context.property(self.MULTIPART_THRESHOLD).as_data_size() or (
            32 << 20
        )
        details = "single PutObject"
        md5: str | None = None
        if size <= threshold:
            if size > _STREAMED:  # streamed from the content repository, not buffered
                # its MD5, from a worker thread, for the ETag check: a body altered
                # in transit keeps its size, so the HEAD alone would not tell
                with session.open(ff) as content:
                    md5 = await anyio.to_thread.run_sync(_md5_of, content)
                stream = PartStream(lambda: session.open(ff), 0, size)
                try:
                    resp = await client.put_object(
                        Bucket=bucket,
                        Key=key,
                        Body=stream,
                        ContentLength=size,
                        **params,
                    )
                finally:
                    stream.close()
            else:
                body = session.read(ff)
                md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
                resp = await client.put_object(
                    Bucket=bucket, Key=key, Body=body, **params
                )
            attrs["s3.apimethod"] = "putobject"
        else:
            lock = self._key_locks.setdefault((bucket, key), anyio.Lock())
            async with lock:
                uploader = MultipartUploader(
                    client,
                    self._store,
                    self._part_limiter(context),
                    lambda: session.open(ff),
                    bucket=bucket,
                    key=key,
                    size=size,
                    part_size=context.property(self.MULTIPART_PART_SIZE).as_data_size()
                    or (16 << 20),
                    create_params=params,
                    part_params=part_params,
                    verify_md5=self._etag_is_md5(context),
                )
                resp = await uploader.upload()
            self._key_locks.pop((bucket, key), None)
            attrs["s3.apimethod"] = "multipartupload"
            attrs["s3.uploadId"] = resp["UploadId"]
            details = (
                f"multipart upload: {uploader.uploaded_parts} part(s) sent, "
                f"{uploader.resumed_parts} resumed, "
                f"up to {uploader.max_in_flight} in flight"
            )
            if uploader.resumed_parts:
                context.logger.info(
                    "multipart_upload_resumed",
                    key=key,
                    upload_id=resp["UploadId"],
                    parts_reused=uploader.resumed_parts,
                    parts_sent=uploader.uploaded_parts,
                )
        await self._verify(context, client, bucket, key, size, md5, resp)
        url = self.url(context, client, bucket, key)
        attrs.update(
            {
                "s3.bucket": bucket,
                "s3.key": key,
                "s3.url": url,
                "s3.etag": sanitize_etag(resp.get("ETag")),
            }
        )
        attrs.update(version_attribute(resp))
        attrs.update(storage_attributes(resp))
        ff = session.put_attributes(ff, attrs)
        elapsed = int((time.monotonic() - started) * 1000)
        session.provenance.send(ff, url, details, duration_ms=elapsed)
        session.transfer(ff, self.SUCCESS)

    async def _verify(
        self,
        context: ProcessContext,
        client: Any,
        bucket: str,
        key: str,
        size: int,
        md5: str | None,
        resp: Any,
    ) -> None:
        """Check that S3 stored what was sent, or raise (the FlowFile goes to failure).

        A header S3 could not parse once made an object arrive empty while PutObject
        succeeded; so after every upload the stored object's size (HEAD, of the version
        just written) must equal the FlowFile's, and for a body hashed here the ETag
        must be its MD5 where S3 makes the ETag the MD5 (no SSE-KMS/SSE-C, not
        multipart)."""
        etag = sanitize_etag(resp.get("ETag"))
        strategy = context.property(self.ENCRYPTION).value or "NONE"
        hashed = md5 is not None and self._etag_is_md5(context)
        if hashed and etag and "-" not in etag and etag != md5:
            raise UploadVerificationError(
                f"S3 stored s3://{bucket}/{key} with ETag {etag}, but the "
                f"content's MD5 is {md5}"
            )
        head_params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if resp.get("VersionId") not in (None, "", "null"):  # "null": unversioned
            head_params["VersionId"] = resp["VersionId"]
        if strategy == "SSE_C":
            head_params["SSECustomerAlgorithm"] = "AES256"
            head_params["SSECustomerKey"] = context.property(self.SSE_C_KEY).value
        head = await client.head_object(**head_params)
        stored = int(head.get("ContentLength", -1))
        if stored != size:
            raise UploadVerificationError(
                f"S3 stored s3://{bucket}/{key} with {stored} bytes, but the FlowFile "
                f"has {size}"
            )

    def _etag_is_md5(self, context: ProcessContext) -> bool:
        """S3 makes an ETag (of an object, or a part) the MD5 of the bytes it stored,
        except with SSE-KMS or SSE-C."""
        return (context.property(self.ENCRYPTION).value or "NONE") in (
            "NONE",
            "SSE_S3",
        )

    async def _age_off(self, context: ProcessContext, client: Any, bucket: str) -> None:
        """Abort stale in-progress uploads of ``bucket``, once per age-off interval."""
        now = time.monotonic()
        last = self._aged.get(bucket)
        interval = context.property(self.AGEOFF_INTERVAL).as_duration() or 3600.0
        if last is not None and now - last < interval:
            return
        self._aged[bucket] = now
        max_age = context.property(self.MAX_AGE).as_duration() or 7 * 86400.0
        for key, upload_id in self._store.age_off(bucket, max_age):
            context.logger.info(
                "multipart_state_aged_off", bucket=bucket, key=key, upload_id=upload_id
            )
        try:
            n = await age_off(client, self._store, bucket, max_age)
        except Exception as exc:  # best effort: never fail a FlowFile for housekeeping
            context.logger.warning(
                "multipart_ageoff_failed", bucket=bucket, error=type(exc).__name__
            )
            return
        for key, upload_id in n:
            context.logger.info(
                "multipart_upload_aged_off", bucket=bucket, key=key, upload_id=upload_id
            )


def _md5_of(content: BinaryIO) -> str:
    """The MD5 of a content stream, read in chunks (in a worker thread: the session
    opened it on the loop)."""
    h = hashlib.md5(usedforsecurity=False)
    for chunk in iter(lambda: content.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()
