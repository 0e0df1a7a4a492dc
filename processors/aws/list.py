"""ListS3: one empty FlowFile per new object in a bucket, for FetchS3Object to fetch.

Pages through the whole listing each time (S3 lists keys in lexicographic order, not by
time) and emits the objects the tracker (:mod:`._tracking`) has not emitted yet, among
those old enough: at least ``max(minimum_object_age, listing_lag)``. Every ``listing
batch size`` new objects the FlowFiles are committed together with a state checkpoint, so
downstream work starts before a long listing ends and a crash loses nothing.

In run-until-drained mode the first trigger waits out the lag (so objects that existed
when the run started are old enough), lists once and declares the source exhausted.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from flowengine.controller_services.aws import AWSCredentialsProvider
from flowengine.controller_services.records import RecordSetWriterFactory

from flowengine import (
    ALLOWABLE_BOOLEANS,
    AllowableValue,
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._common import (
    COMMUNICATIONS_TIMEOUT,
    SIGNER_OVERRIDE,
    USE_CHUNKED_ENCODING,
    USE_PATH_STYLE_ACCESS,
    DeadlineClient,
    client_config,
    configuration_error,
    error_attributes,
    request_deadline,
    root_cause,
    sanitize_etag,
)
from ._records import listing_row, write_listing
from ._replies import tag_set
from ._tracking import CONFIG_KEY, EntityTracker, ListingEntry, TimestampTracker

__all__ = ["ListS3"]


class ListS3(Processor):
    """Lists the objects of an S3 bucket, emitting one FlowFile per new object.

    State (timestamps or entities, see Listing Strategy) is committed with the FlowFiles,
    so a restart neither misses nor re-emits objects. Changing the bucket, region, prefix
    or strategy starts the tracking afresh.
    """

    input_requirement = InputRequirement.FORBIDDEN
    trigger_serially = True
    stateful = True
    tags = ("aws", "s3", "list", "amazon", "cloud")
    default_schedule = {"period": 60.0}
    example = """\
list:
  type: ListS3
  properties: {bucket: my-bucket, prefix: in/, aws_credentials_provider: aws}
  schedule: {period: 30 sec}
"""
    writes_attributes = {
        "filename": "the full object key",
        "s3.bucket": "the bucket",
        "s3.region": "the region of the client",
        "s3.owner": "the owner's id, if returned",
        "s3.etag": "the ETag",
        "s3.lastModified": "last modification, ms since the epoch",
        "s3.length": "the size in bytes",
        "s3.storeClass": "the storage class",
        "s3.isLatest": "true for the latest version (Use Versions)",
        "s3.version": "the version id, if the bucket is versioned",
        "s3.tag.<key>": "object tags (Write Object Tags)",
        "s3.user.metadata.<key>": "user metadata (Write User Metadata)",
        "record.count": "records in the FlowFile (Record Writer)",
        "mime.type": "the record writer's MIME type (Record Writer)",
    }

    BUCKET = PropertyDescriptor(
        "bucket",
        "The S3 bucket.",
        display_name="Bucket",
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    REGION = PropertyDescriptor(
        "region",
        "Overrides the service's region.",
        display_name="Region",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    AWS_CREDENTIALS = PropertyDescriptor(
        "aws_credentials_provider",
        "The AWSCredentialsProviderControllerService.",
        display_name="AWS Credentials Provider Service",
        required=True,
        service=AWSCredentialsProvider,
    )
    LISTING_STRATEGY = PropertyDescriptor(
        "listing_strategy",
        "timestamps: NiFi's tracking of the newest timestamp; entities: remember every "
        "object within a time window (also catches objects that become visible late); "
        "none: list everything every time.",
        display_name="Listing Strategy",
        aliases=("listing-strategy",),
        default="timestamps",
        allowable_values=(
            AllowableValue("timestamps", "Tracking Timestamps"),
            AllowableValue("entities", "Tracking Entities"),
            AllowableValue("none", "No Tracking"),
        ),
    )
    WINDOW = PropertyDescriptor(
        "entity_tracking_time_window",
        "How far back entity tracking looks.",
        display_name="Entity Tracking Time Window",
        aliases=("et-time-window",),
        default="3 hours",
        validators=(validators.TIME_PERIOD,),
        depends_on=("listing_strategy", ("entities",)),
    )
    INITIAL_TARGET = PropertyDescriptor(
        "entity_tracking_initial_listing_target",
        "First listing with entity tracking: every object (all) or only the window.",
        display_name="Entity Tracking Initial Listing Target",
        aliases=("et-initial-listing-target",),
        default="all",
        allowable_values=(
            AllowableValue("all", "All Available"),
            AllowableValue("window", "Tracking Time Window"),
        ),
        depends_on=("listing_strategy", ("entities",)),
    )
    MIN_AGE = PropertyDescriptor(
        "minimum_object_age",
        "Objects younger than this are left for a later listing.",
        display_name="Minimum Object Age",
        aliases=("min-age",),
        default="0 sec",
        validators=(validators.TIME_PERIOD,),
    )
    MAX_AGE = PropertyDescriptor(
        "maximum_object_age",
        "Objects older than this are ignored.",
        display_name="Maximum Object Age",
        aliases=("max-age",),
        validators=(validators.TIME_PERIOD,),
    )
    LISTING_LAG = PropertyDescriptor(
        "listing_lag",
        "Only objects last modified before now minus this lag are emitted, so objects "
        "written in the same second or made visible a little late are not skipped.",
        display_name="Listing Lag",
        default="1 sec",
        validators=(validators.TIME_PERIOD,),
    )
    BATCH = PropertyDescriptor(
        "listing_batch_size",
        "Commit FlowFiles (with a state checkpoint) every this many new objects.",
        display_name="Listing Batch Size",
        default="100",
        validators=(validators.POSITIVE_INTEGER,),
    )
    RECORD_WRITER = PropertyDescriptor(
        "record_writer",
        "Write the listing as records in one FlowFile (key, bucket, owner, etag, "
        "lastModified, size, storageClass, latest, versionId, tags, userMetadata) "
        "instead of one FlowFile per object; committed once, at the end of a listing.",
        display_name="Record Writer",
        aliases=("record-writer",),
        service=RecordSetWriterFactory,
    )
    WRITE_TAGS = PropertyDescriptor(
        "write_object_tags",
        "Add s3.tag.* attributes (one request per object).",
        display_name="Write Object Tags",
        aliases=("write-s3-object-tags",),
        default="false",
        allowable_values=ALLOWABLE_BOOLEANS,
    )
    WRITE_METADATA = PropertyDescriptor(
        "write_user_metadata",
        "Add s3.user.metadata.* attributes (one request per object).",
        display_name="Write User Metadata",
        aliases=("write-s3-user-metadata",),
        default="false",
        allowable_values=ALLOWABLE_BOOLEANS,
    )
    ENDPOINT = PropertyDescriptor(
        "endpoint_override_url",
        "Overrides the service's endpoint.",
        display_name="Endpoint Override URL",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    COMMUNICATIONS_TIMEOUT = COMMUNICATIONS_TIMEOUT
    USE_CHUNKED_ENCODING = USE_CHUNKED_ENCODING
    USE_PATH_STYLE_ACCESS = USE_PATH_STYLE_ACCESS
    SIGNER_OVERRIDE = SIGNER_OVERRIDE
    DELIMITER = PropertyDescriptor(
        "delimiter",
        "List only the objects directly under the prefix up to this delimiter (e.g. /).",
        display_name="Delimiter",
        aliases=("delimiter",),
    )
    PREFIX = PropertyDescriptor(
        "prefix",
        "List only keys starting with this prefix.",
        display_name="Prefix",
        aliases=("prefix",),
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    USE_VERSIONS = PropertyDescriptor(
        "use_versions",
        "List every version of every object.",
        display_name="Use Versions",
        aliases=("use-versions",),
        default="false",
        allowable_values=ALLOWABLE_BOOLEANS,
    )
    LIST_TYPE = PropertyDescriptor(
        "list_type",
        "ListObjects (1) or ListObjectsV2 (2).",
        display_name="List Type",
        aliases=("list-type",),
        default="1",
        allowable_values=(
            AllowableValue("1", "List Objects V1"),
            AllowableValue("2", "List Objects V2"),
        ),
    )
    REQUESTER_PAYS = PropertyDescriptor(
        "requester_pays",
        "Acknowledge that this requester pays for the listing.",
        display_name="Requester Pays",
        aliases=("requester-pays",),
        default="false",
        allowable_values=ALLOWABLE_BOOLEANS,
    )

    SUCCESS = Relationship(
        "success", "One FlowFile per new object (with a Record Writer: one per listing)"
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        lo = context.property(self.MIN_AGE).as_duration() or 0.0
        hi = context.property(self.MAX_AGE).as_duration()
        if hi is not None and hi < lo:
            return ["maximum_object_age must not be less than minimum_object_age"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._drain_start: float | None = None

    # -- the trigger -------------------------------------------------------------------
    async def on_trigger(
        self, context: ProcessContext, session: ProcessSession
    ) -> None:
        p = context.property
        lag = max(
            p(self.LISTING_LAG).as_duration() or 0.0,
            p(self.MIN_AGE).as_duration() or 0.0,
        )
        if context.is_draining:
            start = getattr(self, "_drain_start", None)
            if start is None:
                start = self._drain_start = time.time()
            wait = start + lag - time.time()
            if wait > 0:  # objects present at start must become old enough first
                await anyio.sleep(wait)
        try:
            emitted = await self._list(context, session, lag)
        except Exception as raised:
            exc = root_cause(raised)
            session.rollback()
            prefix = p(self.PREFIX).evaluate().value or ""
            problem = configuration_error(exc, p(self.BUCKET).evaluate().value, prefix)
            if problem is not None:
                # Waiting will not cure it: the engine stops a drained run, or backs
                # off (rate-limited log) as a service.
                raise problem from exc
            attrs = error_attributes(exc)
            context.bulletin(
                "error",
                f"listing failed: {attrs['s3.exception']}: {attrs.get('s3.errorMessage')}",
            )
            context.logger.error(
                "s3_listing_failed",
                exception=attrs["s3.exception"],
                code=attrs.get("s3.errorCode"),
                message=attrs.get("s3.errorMessage"),
            )
            context.yield_()
            return
        if context.is_draining:
            context.exhausted()
        elif not emitted:
            context.yield_()

    async def _list(
        self, context: ProcessContext, session: ProcessSession, lag: float
    ) -> int:
        p = context.property
        service = p(self.AWS_CREDENTIALS).as_service(AWSCredentialsProvider)
        region = p(self.REGION).evaluate().value or None
        client = DeadlineClient(
            await service.s3_client(
                region,
                p(self.ENDPOINT).evaluate().value or None,
                client_config(context),
            ),
            request_deadline(context),
        )
        bucket = p(self.BUCKET).evaluate().value or ""
        prefix = p(self.PREFIX).evaluate().value or ""
        strategy = p(self.LISTING_STRATEGY).value or "timestamps"
        config = {CONFIG_KEY: f"{bucket}\n{region or ''}\n{prefix}\n{strategy}"}
        state = session.get_state()
        if state.get(CONFIG_KEY) != config[CONFIG_KEY]:
            state = {}  # NiFi: changing bucket, region, prefix or strategy resets tracking
        now_ms = int(time.time() * 1000)
        newest = now_ms - int(lag * 1000)
        max_age = p(self.MAX_AGE).as_duration()
        oldest = None if max_age is None else now_ms - int(max_age * 1000)
        tracker: TimestampTracker | EntityTracker | None
        if strategy == "timestamps":
            tracker = TimestampTracker.load(state)
        elif strategy == "entities":
            window = int((p(self.WINDOW).as_duration() or 10800.0) * 1000)
            tracker = EntityTracker.load(
                state, window, p(self.INITIAL_TARGET).value != "window"
            )
        else:
            tracker = None
        batch_size = p(self.BATCH).as_int() or 100
        base = {"s3.bucket": bucket, "s3.region": str(client.meta.region_name or "")}
        emitted = 0
        batch: list[tuple[ListingEntry, dict[str, str]]] = []
        writer = p(self.RECORD_WRITER)
        rows: list[dict[str, Any]] | None = [] if writer.is_set else None
        async for entry, attrs in self._entries(context, client, bucket, prefix):
            if entry.last_modified_ms > newest or (
                oldest is not None and entry.last_modified_ms < oldest
            ):
                continue
            if isinstance(tracker, TimestampTracker) and not tracker.is_new(entry):
                continue
            if isinstance(tracker, EntityTracker) and not tracker.is_new(entry, now_ms):
                continue
            batch.append((entry, attrs))
            if len(batch) >= batch_size:
                emitted += await self._emit(
                    context, session, client, bucket, base, batch, tracker, rows
                )
                batch = []
                if rows is None:  # record mode commits the whole listing at once
                    if tracker is not None:
                        session.set_state(tracker.checkpoint(config))
                    session.commit()
        if batch:
            emitted += await self._emit(
                context, session, client, bucket, base, batch, tracker, rows
            )
        if rows:
            factory = writer.as_service(RecordSetWriterFactory)
            session.transfer(write_listing(session, factory, rows), self.SUCCESS)
        if isinstance(tracker, TimestampTracker):
            session.set_state(tracker.finish(config))
        elif isinstance(tracker, EntityTracker):
            session.set_state(tracker.finish(config, now_ms))
        if emitted:
            context.logger.debug(
                "s3_listing_done", bucket=bucket, prefix=prefix, emitted=emitted
            )
        return emitted

    async def _emit(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        bucket: str,
        base: dict[str, str],
        batch: list[tuple[ListingEntry, dict[str, str]]],
        tracker: TimestampTracker | EntityTracker | None,
        rows: list[dict[str, Any]] | None = None,
    ) -> int:
        extras = await self._extras(context, client, bucket, [e for e, _ in batch])
        for i, (entry, attrs) in enumerate(batch):
            attrs.update(base)
            if extras:
                attrs.update(extras[i])
            if rows is not None:
                rows.append(listing_row(attrs))
            else:
                ff = session.put_attributes(session.create(), attrs)
                session.transfer(ff, self.SUCCESS)
            if tracker is not None:
                tracker.emitted(entry)
        return len(batch)

    async def _extras(
        self,
        context: ProcessContext,
        client: Any,
        bucket: str,
        entries: list[ListingEntry],
    ) -> list[dict[str, str]]:
        """Tags and user metadata, fetched concurrently (one request each per object)."""
        tags = bool(context.property(self.WRITE_TAGS).as_bool())
        meta = bool(context.property(self.WRITE_METADATA).as_bool())
        if not (tags or meta):
            return []
        out: list[dict[str, str]] = [{} for _ in entries]
        limiter = anyio.CapacityLimiter(16)

        async def one(i: int, e: ListingEntry) -> None:
            v = {"VersionId": e.version} if e.version else {}
            async with limiter:
                if tags:
                    r = await client.get_object_tagging(Bucket=bucket, Key=e.key, **v)
                    out[i].update(
                        {f"s3.tag.{k}": value for k, value in tag_set(r).items()}
                    )
                if meta:
                    r = await client.head_object(Bucket=bucket, Key=e.key, **v)
                    out[i].update(
                        {
                            f"s3.user.metadata.{k}": val
                            for k, val in (r.get("Metadata") or {}).items()
                        }
                    )

        async with anyio.create_task_group() as tg:
            for i, e in enumerate(entries):
                tg.start_soon(one, i, e)
        return out

    async def _entries(
        self, context: ProcessContext, client: Any, bucket: str, prefix: str
    ) -> Any:
        """Every listed object as (entry, attributes), page by page."""
        p = context.property
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if p(self.DELIMITER).value:
            kwargs["Delimiter"] = p(self.DELIMITER).value
        if p(self.REQUESTER_PAYS).as_bool():
            kwargs["RequestPayer"] = "requester"
        versions = bool(p(self.USE_VERSIONS).as_bool())
        if versions:
            op, field = "list_object_versions", "Versions"
        elif p(self.LIST_TYPE).value == "2":
            op, field = "list_objects_v2", "Contents"
            kwargs["FetchOwner"] = True
        else:
            op, field = "list_objects", "Contents"
        async for page in client.get_paginator(op).paginate(**kwargs):
            for o in page.get(field) or []:
                lm = int(o["LastModified"].timestamp() * 1000)
                etag = sanitize_etag(o.get("ETag"))
                version = o.get("VersionId") if versions else None
                attrs = {
                    "filename": o["Key"],
                    "s3.etag": etag,
                    "s3.lastModified": str(lm),
                    "s3.length": str(o.get("Size", 0)),
                    "s3.storeClass": str(o.get("StorageClass") or "STANDARD"),
                }
                owner = (o.get("Owner") or {}).get("ID")
                if owner:
                    attrs["s3.owner"] = owner
                if versions:
                    attrs["s3.isLatest"] = "true" if o.get("IsLatest") else "false"
                if version and version != "null":
                    attrs["s3.version"] = version
                yield (
                    ListingEntry(o["Key"], lm, int(o.get("Size", 0)), etag, version),
                    attrs,
                )
