"""Resumable multipart uploads for PutS3Object.

A multipart upload is invisible until it is completed, so an interrupted upload never
leaves a partial object. To resume one after a restart, the upload id and part size are
kept in the processor's state (written after the upload is created, so a crash a moment
later still finds it); without state (in-memory repositories) the upload is rediscovered
by listing the bucket's in-progress uploads for the key. Either way, a part already on
the server is reused only when its size and ETag (the MD5 of the part) match the same
byte range of the FlowFile's content, so resuming can never mix contents; parts that
don't match (or encrypted parts, whose ETag is not an MD5) are uploaded again.

Parts are uploaded concurrently; a processor-wide limiter caps the parts held in memory
at ``concurrency x part size``, however many FlowFiles are being uploaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio
import anyio.to_thread

__all__ = ["MultipartUploader", "UploadState", "UploadVerificationError", "state_key"]

MIN_PART = 5 << 20  # S3's minimum size of every part but the last


class UploadVerificationError(Exception):
    """The object (or part) S3 stored is not the FlowFile's content (size or MD5
    differ): the FlowFile goes to failure, never success."""


def state_key(bucket: str, key: str) -> str:
    """The processor-state key of an upload of ``bucket/key``."""
    return f"mpu/{bucket}/{key}"


@dataclass
class UploadState:
    """What is remembered of one in-progress upload (JSON in the processor state)."""

    upload_id: str
    part_size: int
    size: int
    started_ms: int

    def dump(self) -> str:
        return json.dumps(
            {
                "uploadId": self.upload_id,
                "partSize": self.part_size,
                "size": self.size,
                "started": self.started_ms,
            }
        )

    @classmethod
    def load(cls, text: str) -> UploadState | None:
        try:
            d = json.loads(text)
            return cls(
                str(d["uploadId"]),
                int(d["partSize"]),
                int(d["size"]),
                int(d["started"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


class UploadStore:
    """The processor's in-progress uploads, mirrored in its state (written through)."""

    def __init__(
        self,
        load: Callable[[], dict[str, str]],
        store: Callable[[dict[str, str]], None],
    ) -> None:
        self._load = load
        self._store = store
        self._cache: dict[str, str] | None = None
        #: uploads in progress in this process right now: never aged off
        self.active: set[str] = set()

    def _map(self) -> dict[str, str]:
        if self._cache is None:
            self._cache = dict(self._load())
        return self._cache

    def get(self, bucket: str, key: str) -> UploadState | None:
        text = self._map().get(state_key(bucket, key))
        return UploadState.load(text) if text else None

    def put(self, bucket: str, key: str, upload: UploadState) -> None:
        m = self._map()
        m[state_key(bucket, key)] = upload.dump()
        self._store(dict(m))

    def drop(self, bucket: str, key: str) -> None:
        m = self._map()
        if m.pop(state_key(bucket, key), None) is not None:
            self._store(dict(m))

    def upload_ids(self) -> set[str]:
        """Ids of every upload this processor holds state for (it can resume them)."""
        return {u.upload_id for v in self._map().values() if (u := UploadState.load(v))}

    def age_off(self, bucket: str, max_age_s: float) -> list[tuple[str, str]]:
        """Forget the uploads of ``bucket`` this processor last worked on more than
        ``max_age_s`` ago by the local clock (as NiFi ages off its local multipart
        state); returns their (key, upload id). Without this, the state of an upload
        whose FlowFile went to failure and was dropped would protect that upload from
        the age-off forever; once forgotten, the server-side age-off can abort it."""
        cutoff = (time.time() - max_age_s) * 1000
        prefix = state_key(bucket, "")
        m = self._map()
        doomed = [
            (k, u)
            for k, v in m.items()
            if k.startswith(prefix)
            and (u := UploadState.load(v)) is not None
            and u.started_ms < cutoff
            and u.upload_id not in self.active
        ]
        for k, _ in doomed:
            del m[k]
        if doomed:
            self._store(dict(m))
        return [(k[len(prefix) :], u.upload_id) for k, u in doomed]

    def drop_upload(self, upload_id: str) -> None:
        m = self._map()
        doomed = [
            k
            for k, v in m.items()
            if (u := UploadState.load(v)) and u.upload_id == upload_id
        ]
        for k in doomed:
            del m[k]
        if doomed:
            self._store(dict(m))


def _ranges(size: int, part_size: int) -> list[tuple[int, int, int]]:
    """(part number, offset, length) covering ``size`` bytes."""
    out = []
    n, off = 1, 0
    while off < size:
        ln = min(part_size, size - off)
        out.append((n, off, ln))
        n += 1
        off += ln
    return out


class MultipartUploader:
    """Uploads one FlowFile's content as a multipart upload, resuming when it can."""

    def __init__(
        self,
        client: Any,
        store: UploadStore,
        limiter: anyio.CapacityLimiter,
        open_content: Callable[[], Any],
        *,
        bucket: str,
        key: str,
        size: int,
        part_size: int,
        create_params: Mapping[str, Any],
        part_params: Mapping[str, Any],
        verify_md5: bool = True,
    ) -> None:
        self.client = client
        self.store = store
        self.limiter = limiter
        self.open_content = open_content
        self.bucket = bucket
        self.key = key
        self.size = size
        self.part_size = max(part_size, MIN_PART)
        self.create_params = dict(create_params)
        self.part_params = dict(part_params)
        #: each part's ETag is checked against the MD5 of its bytes (S3 makes a part's
        #: ETag its MD5 unless the object is encrypted with SSE-KMS or SSE-C)
        self.verify_md5 = verify_md5
        self.resumed_parts = 0
        self.uploaded_parts = 0
        self.in_flight = 0
        self.max_in_flight = 0  # how many parts were ever sent at once (diagnostics)

    async def _md5(self, offset: int, length: int) -> str:
        def digest() -> str:
            h = hashlib.md5(usedforsecurity=False)
            with self.open_content() as f:
                f.seek(offset)
                left = length
                while left > 0:
                    chunk = f.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    h.update(chunk)
                    left -= len(chunk)
            return h.hexdigest()

        return await anyio.to_thread.run_sync(digest)

    async def _list_parts(self, upload_id: str) -> dict[int, tuple[int, str]] | None:
        """Part number -> (size, etag) on the server; None if the upload is gone."""
        parts: dict[int, tuple[int, str]] = {}
        marker = 0
        while True:
            try:
                resp = await self.client.list_parts(
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                )
            except Exception as exc:
                if getattr(exc, "response", {}).get("Error", {}).get("Code") in (
                    "NoSuchUpload",
                    "404",
                ):
                    return None
                raise
            for p in resp.get("Parts") or []:
                parts[int(p["PartNumber"])] = (
                    int(p["Size"]),
                    str(p["ETag"]).strip('"'),
                )
            if not resp.get("IsTruncated"):
                return parts
            marker = int(resp["NextPartNumberMarker"])

    async def _candidates(self) -> list[tuple[str, int | None]]:
        """Uploads that might be ours: the remembered one, then any for this key."""
        out: list[tuple[str, int | None]] = []
        remembered = self.store.get(self.bucket, self.key)
        if remembered is not None and remembered.size == self.size:
            out.append((remembered.upload_id, remembered.part_size))
        resp = await self.client.list_multipart_uploads(
            Bucket=self.bucket, Prefix=self.key
        )
        found = [u for u in resp.get("Uploads") or [] if u.get("Key") == self.key]
        found.sort(key=lambda u: u.get("Initiated") or 0, reverse=True)
        out.extend(
            (str(u["UploadId"]), None)
            for u in found
            if all(u["UploadId"] != c[0] for c in out)
        )
        return out

    async def _resume(self) -> tuple[str, int, dict[int, str]] | None:
        """An upload to continue: (upload id, part size, reusable part number -> etag)."""
        for upload_id, part_size in await self._candidates():
            parts = await self._list_parts(upload_id)
            if parts is None:
                self.store.drop_upload(upload_id)
                continue
            if part_size is None:
                if 1 not in parts:
                    continue  # can't tell its part size: leave it to the age-off
                part_size = parts[1][0]
                if part_size < MIN_PART and part_size < self.size:
                    continue
            keep: dict[int, str] = {}
            for n, off, ln in _ranges(self.size, part_size):
                have = parts.get(n)
                if (
                    have is not None
                    and have[0] == ln
                    and have[1] == await self._md5(off, ln)
                ):
                    keep[n] = have[1]
            if keep or self.store.get(self.bucket, self.key) is not None:
                return upload_id, part_size, keep
        return None

    async def upload(self) -> dict[str, Any]:
        """Run the upload to completion; returns the CompleteMultipartUpload reply plus
        ``UploadId``. On error the upload is left for a later resume (or the age-off)."""
        resumed = await self._resume()
        done: dict[int, str]
        if resumed is None:
            resp = await self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, **self.create_params
            )
            upload_id, part_size, done = str(resp["UploadId"]), self.part_size, {}
        else:
            upload_id, part_size, done = resumed
        self.resumed_parts = len(done)
        self.store.put(
            self.bucket,
            self.key,
            UploadState(upload_id, part_size, self.size, int(time.time() * 1000)),
        )
        self.store.active.add(upload_id)
        try:
            return await self._send_and_complete(upload_id, part_size, done)
        finally:
            self.store.active.discard(upload_id)

    async def _send_and_complete(
        self, upload_id: str, part_size: int, done: dict[int, str]
    ) -> dict[str, Any]:
        etags = dict(done)

        async def send(n: int, off: int, ln: int) -> None:
            async with self.limiter:
                # A stream over the part's byte range, not a buffer: aiohttp sends it in
                # small chunks, so a part in flight costs kilobytes, not its size.
                body = PartStream(self.open_content, off, ln)
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    r = await self.client.upload_part(
                        Bucket=self.bucket,
                        Key=self.key,
                        UploadId=upload_id,
                        PartNumber=n,
                        Body=body,
                        ContentLength=ln,
                        **self.part_params,
                    )
                finally:
                    self.in_flight -= 1
                    body.close()
            etag = str(r["ETag"]).strip('"')
            if self.verify_md5:
                # the size of the whole object is checked after completion, but a
                # part altered in transit keeps its size: only its MD5 tells
                md5 = await self._md5(off, ln)
                if etag != md5:
                    raise UploadVerificationError(
                        f"S3 stored part {n} of s3://{self.bucket}/{self.key} with "
                        f"ETag {etag}, but the MD5 of its {ln} bytes is {md5}"
                    )
            etags[n] = etag
            self.uploaded_parts += 1

        async with anyio.create_task_group() as tg:
            for n, off, ln in _ranges(self.size, part_size):
                if n not in done:
                    tg.start_soon(send, n, off, ln)
        parts = [{"PartNumber": n, "ETag": f'"{etags[n]}"'} for n in sorted(etags)]
        result = dict(
            await self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                **_complete_params(self.part_params),
            )
        )
        self.store.drop(self.bucket, self.key)
        result["UploadId"] = upload_id
        return result


class PartStream(io.RawIOBase):
    """A seekable read-only view of ``length`` bytes at ``offset`` of the content
    (botocore rewinds it to retry a request, and reads it to compute checksums)."""

    def __init__(self, opener: Callable[[], Any], offset: int, length: int) -> None:
        super().__init__()
        self._cm = opener()
        self._f = self._cm.__enter__()
        self._offset = offset
        self._len = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._len}[whence]
        self._pos = min(max(0, base + offset), self._len)
        return self._pos

    def __len__(self) -> int:
        return self._len

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        want = min(len(view), self._len - self._pos)
        if want <= 0:
            return 0
        self._f.seek(self._offset + self._pos)
        data = self._f.read(want)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        left = self._len - self._pos
        n = left if size is None or size < 0 else min(size, left)
        if n <= 0:
            return b""
        self._f.seek(self._offset + self._pos)
        data = bytes(self._f.read(n))
        self._pos += len(data)
        return data

    def close(self) -> None:
        if not self.closed:
            self._cm.__exit__(None, None, None)
        super().close()


def _complete_params(part_params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in part_params.items()
        if k.startswith("SSECustomer") or k == "RequestPayer"
    }


async def age_off(
    client: Any, store: UploadStore, bucket: str, max_age_s: float
) -> list[tuple[str, str]]:
    """Abort in-progress uploads of ``bucket`` older than ``max_age_s`` that no local
    state knows; returns the (key, upload id) pairs aborted.

    An upload this processor holds state for is never aborted, whatever its age: it is
    resumable (and a server's ``Initiated`` can be far in the past: moto reports
    2010). Ages are measured by the server's clock (its reply's ``Date``), not ours.
    The state itself ages off by the local clock (:meth:`UploadStore.age_off`, called
    first by PutS3Object), so an upload nobody resumes for ``max_age_s`` goes too.
    """
    from email.utils import parsedate_to_datetime

    known = store.upload_ids()
    aborted: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {"Bucket": bucket}
    while True:
        resp = await client.list_multipart_uploads(**kwargs)
        date = ((resp.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}).get(
            "date"
        )
        try:
            now = parsedate_to_datetime(date).timestamp() if date else time.time()
        except (TypeError, ValueError):
            now = time.time()
        for u in resp.get("Uploads") or []:
            initiated = u.get("Initiated")
            if str(u.get("UploadId")) in known:
                continue
            if initiated is None or now - initiated.timestamp() <= max_age_s:
                continue
            try:
                await client.abort_multipart_upload(
                    Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]
                )
            except Exception as exc:
                if (
                    getattr(exc, "response", {}).get("Error", {}).get("Code")
                    != "NoSuchUpload"
                ):
                    raise
            aborted.append((str(u["Key"]), str(u["UploadId"])))
        if not resp.get("IsTruncated"):
            return aborted
        kwargs["KeyMarker"] = resp.get("NextKeyMarker")
        kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker")


BinaryOpener = Callable[[], BinaryIO]
