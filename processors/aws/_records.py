"""ListS3's record mode: the whole listing as records in one FlowFile (NiFi's Record
Writer property), written with any record writer service (CSV, JSON, Parquet, Avro)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, BinaryIO

import pyarrow as pa
from flowengine.controller_services.records import RecordSetWriterFactory

from flowengine import FlowFile, ProcessSession

__all__ = ["LISTING_SCHEMA", "listing_row", "write_listing"]

_MAP = pa.map_(pa.string(), pa.string())
#: NiFi's ListS3 record schema
LISTING_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("bucket", pa.string()),
        ("owner", pa.string()),
        ("etag", pa.string()),
        ("lastModified", pa.timestamp("ms", tz="UTC")),
        ("size", pa.int64()),
        ("storageClass", pa.string()),
        ("latest", pa.bool_()),
        ("versionId", pa.string()),
        ("tags", _MAP),
        ("userMetadata", _MAP),
    ]
)


def listing_row(attrs: Mapping[str, str]) -> dict[str, Any]:
    """One record from the attributes ListS3 would have written for the object."""
    tags = {k[len("s3.tag.") :]: v for k, v in attrs.items() if k.startswith("s3.tag.")}
    meta_prefix = "s3.user.metadata."
    meta = {
        k[len(meta_prefix) :]: v for k, v in attrs.items() if k.startswith(meta_prefix)
    }
    return {
        "key": attrs["filename"],
        "bucket": attrs.get("s3.bucket"),
        "owner": attrs.get("s3.owner"),
        "etag": attrs.get("s3.etag"),
        "lastModified": int(attrs["s3.lastModified"]),
        "size": int(attrs.get("s3.length") or 0),
        "storageClass": attrs.get("s3.storeClass"),
        "latest": attrs.get("s3.isLatest", "true") == "true",
        "versionId": attrs.get("s3.version"),
        "tags": list(tags.items()) or None,
        "userMetadata": list(meta.items()) or None,
    }


def write_listing(
    session: ProcessSession, writer: RecordSetWriterFactory, rows: list[dict[str, Any]]
) -> FlowFile:
    """A new FlowFile holding ``rows`` as records, with ``record.count``/``mime.type``."""
    table = pa.Table.from_pylist(rows, schema=LISTING_SCHEMA)
    result: dict[str, str] = {}

    def write(out: BinaryIO) -> None:
        with writer.create_writer(out, LISTING_SCHEMA, {}) as w:
            w.write(table)
            done = w.finish()
        result.update(done.attributes)
        result["record.count"] = str(done.record_count)

    ff = session.write(session.create(), write)
    result.setdefault("mime.type", writer.mime_type)
    return session.put_attributes(ff, result)
