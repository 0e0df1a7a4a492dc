"""FetchS3Object: replace a FlowFile's content with an S3 object, streamed.

Objects up to :data:`MEMORY_LIMIT` are read on the event loop, many at once; larger ones
are streamed chunk by chunk into the content repository from a worker thread (the
aiohttp body is read on the loop, the repository written in the thread), so memory stays
bounded whatever the object size. ``filename`` is left as it is (the full object key when
the FlowFile came from ListS3), as NiFi does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread

from flowengine import (
    ALLOWABLE_BOOLEANS,
    ExpressionLanguageScope,
    FlowFile,
    ProcessContext,
    ProcessSession,
    PropertyDescriptor,
    validators,
)

from ._common import AbstractS3Processor, Deferred, sanitize_etag
from ._replies import storage_attributes, version_attribute

__all__ = ["FetchS3Object"]

#: objects up to this size are read into memory (concurrently); larger ones streamed
MEMORY_LIMIT = 4 << 20
CHUNK = 1 << 20
#: checksum headers in NiFi's order of preference -> hash.algorithm
_CHECKSUMS = (
    ("ChecksumCRC32", "CRC32"),
    ("ChecksumCRC32C", "CRC32C"),
    ("ChecksumCRC64NVME", "CRC64NVME"),
    ("ChecksumSHA256", "SHA-256"),
    ("ChecksumSHA1", "SHA-1"),
)


class FetchS3Object(AbstractS3Processor):
    """Retrieves the contents of an S3 object and writes it to the content of a FlowFile.

    User metadata of the object is copied to plain attributes (NiFi behaviour); the
    FlowFile keeps its ``filename``. Byte ranges fetch part of an object.
    """

    example = """\
fetch:
  type: FetchS3Object
  properties: {bucket: "${s3.bucket}", object_key: "${filename}", aws_credentials_provider: aws}
"""
    writes_attributes = {
        "s3.bucket": "the bucket",
        "s3.url": "the object's URL",
        "s3.etag": "the object's ETag",
        "s3.version": "the version id (versioned buckets)",
        "s3.length": "the object's length",
        "s3.lastModified": "last modification time, ms since the epoch",
        "mime.type": "the object's Content-Type",
        "hash.value": "the first checksum the service returned",
        "hash.algorithm": "its algorithm",
        "s3.sseAlgorithm": "server-side encryption algorithm, if any",
        "s3.expirationTime": "lifecycle expiration (ms), if any",
        "s3.expirationTimeRuleId": "the lifecycle rule, if any",
        "<user metadata>": "every user metadata entry as a plain attribute",
        **AbstractS3Processor.writes_attributes,
    }

    VERSION = PropertyDescriptor(
        "version",
        "The version of the object to fetch (versioned buckets).",
        display_name="Version",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    REQUESTER_PAYS = PropertyDescriptor(
        "requester_pays",
        "Acknowledge that this requester pays for the download.",
        display_name="Requester Pays",
        aliases=("requester-pays",),
        default="false",
        allowable_values=ALLOWABLE_BOOLEANS,
    )
    RANGE_START = PropertyDescriptor(
        "range_start",
        "First byte to fetch (a data size, e.g. 1 MB); unset: from the beginning.",
        display_name="Range Start",
        aliases=("range-start",),
        validators=(validators.DATA_SIZE,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    RANGE_LENGTH = PropertyDescriptor(
        "range_length",
        "Number of bytes to fetch; unset: to the end.",
        display_name="Range Length",
        aliases=("range-length",),
        validators=(validators.DATA_SIZE,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    SSE_C_KEY = PropertyDescriptor(
        "sse_customer_key",
        "Base64 256-bit key the object was written with (SSE-C).",
        display_name="Server Side Encryption Customer Key",
        sensitive=True,
    )

    def _params(
        self, context: ProcessContext, ff: FlowFile, bucket: str, key: str
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        version = context.property(self.VERSION).evaluate(ff).value
        if version:
            params["VersionId"] = version
        if context.property(self.REQUESTER_PAYS).as_bool():
            params["RequestPayer"] = "requester"
        start = context.property(self.RANGE_START).evaluate(ff)
        length = context.property(self.RANGE_LENGTH).evaluate(ff)
        if start.value or length.value:
            first = start.as_data_size() or 0 if start.value else 0
            if length.value:
                n = length.as_data_size() or 0
                if n <= 0:
                    raise ValueError("range_length must be positive")
                params["Range"] = f"bytes={first}-{first + n - 1}"
            else:
                params["Range"] = f"bytes={first}-"
        sse = context.property(self.SSE_C_KEY).value
        if sse:
            params["SSECustomerAlgorithm"] = "AES256"
            params["SSECustomerKey"] = sse
        return params

    async def process(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
    ) -> None:
        bucket, key = self.location(context, ff)
        params = self._params(context, ff, bucket, key)
        started = time.monotonic()
        response = await client.get_object(**params)
        body = response["Body"]
        if int(response.get("ContentLength") or 0) > MEMORY_LIMIT:
            # Stream later, from a worker thread, when no task shares the session.
            body.close()
            if response.get("ETag"):
                params["IfMatch"] = response["ETag"]

            async def stream() -> None:
                again = await client.get_object(**params)
                new = await self._stream(session, ff, again["Body"])
                self._finish(context, session, client, new, bucket, key, again, started)

            raise Deferred(stream)
        async with body:
            data = await body.read()
        ff = session.write(ff, data)
        self._finish(context, session, client, ff, bucket, key, response, started)

    async def _stream(
        self, session: ProcessSession, ff: FlowFile, body: Any
    ) -> FlowFile:
        """Copy the body into the content repository with bounded memory."""

        def chunks() -> Iterator[bytes]:
            while True:
                chunk = anyio.from_thread.run(body.read, CHUNK)
                if not chunk:
                    return
                yield chunk

        try:
            return await anyio.to_thread.run_sync(session.write, ff, chunks())
        finally:
            body.close()

    def _finish(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
        bucket: str,
        key: str,
        response: dict[str, Any],
        started: float,
    ) -> None:
        url = self.url(context, client, bucket, key)
        attrs: dict[str, str] = dict(response.get("Metadata") or {})
        attrs.update(
            {
                "s3.bucket": bucket,
                "s3.url": url,
                "s3.etag": sanitize_etag(response.get("ETag")),
            }
        )
        attrs.update(version_attribute(response))
        if response.get("ContentType"):
            attrs["mime.type"] = response["ContentType"]
        if response.get("ContentLength") is not None:
            attrs["s3.length"] = str(response["ContentLength"])
        if response.get("LastModified") is not None:
            attrs["s3.lastModified"] = str(
                int(response["LastModified"].timestamp() * 1000)
            )
        for header, algorithm in _CHECKSUMS:
            if response.get(header):
                attrs["hash.value"] = response[header]
                attrs["hash.algorithm"] = algorithm
                break
        attrs.update(storage_attributes(response))
        ff = session.put_attributes(ff, attrs)
        elapsed = int((time.monotonic() - started) * 1000)
        session.provenance.fetch(ff, url, duration_ms=elapsed)
        session.transfer(ff, self.SUCCESS)
