"""What every S3 processor shares: common properties, error mapping, the batch loop.

S3 processors are ``async``: a trigger takes a batch of FlowFiles and works on up to
``concurrent_requests`` of them at once on the engine's event loop (one aiobotocore client,
one connection pool). Session calls never await, so tasks on the loop can share the
session; the few that must run in a worker thread (streaming a large object into the
content repository) run after every concurrent task has finished.

Errors (NiFi's AbstractS3Processor): every failure routes the FlowFile to ``failure``,
penalized, with ``s3.exception``, ``s3.statusCode``, ``s3.errorCode``, ``s3.errorMessage``
and ``s3.additionalDetails``; botocore has already retried throttling, 5xx and connection
errors with backoff (see the service's retry settings). Credential errors are not the
FlowFile's fault: the FlowFile goes back to its queue and the processor yields with a
bulletin, rather than failing every FlowFile in turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import anyio
from flowengine.controller_services.aws import AWSCredentialsProvider

from flowengine import (
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

__all__ = [
    "CREDENTIAL_ERROR_CODES",
    "AbstractS3Processor",
    "bucket_property",
    "error_attributes",
    "is_credentials_error",
    "is_not_found",
    "object_url",
    "sanitize_etag",
]

#: service error codes meaning "the credentials are wrong", not "this object is"
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "AuthFailure",
    }
)
_CREDENTIAL_EXCEPTIONS = frozenset(
    {
        "NoCredentialsError",
        "PartialCredentialsError",
        "CredentialRetrievalError",
        "UnknownCredentialError",
        "ProfileNotFound",
    }
)


def bucket_property(default: str | None = "${s3.bucket}") -> PropertyDescriptor:
    """The Bucket property (ListS3 has no default, the per-FlowFile processors do)."""
    return PropertyDescriptor(
        "bucket",
        "The S3 bucket.",
        display_name="Bucket",
        default=default,
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )


def sanitize_etag(etag: str | None) -> str:
    """ETags without their surrounding quotes (NiFi sanitizes them everywhere)."""
    return (etag or "").strip('"')


def object_url(endpoint: str | None, region: str | None, bucket: str, key: str) -> str:
    """The object's URL (``s3.url``, provenance transit URI); never carries credentials."""
    path = quote(key, safe="/~")
    if endpoint:
        return f"{endpoint.rstrip('/')}/{bucket}/{path}"
    return f"https://{bucket}.s3.{region or 'us-east-1'}.amazonaws.com/{path}"


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def is_not_found(exc: BaseException) -> bool:
    """The service said the object (or its version) does not exist."""
    return _error_code(exc) in ("404", "NoSuchKey", "NotFound")


def root_cause(exc: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups of task groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def is_credentials_error(exc: BaseException) -> bool:
    """The request failed because of the credentials, whatever the object."""
    return (
        type(exc).__name__ in _CREDENTIAL_EXCEPTIONS
        or _error_code(exc) in CREDENTIAL_ERROR_CODES
    )


def error_attributes(exc: BaseException) -> dict[str, str]:
    """NiFi's failure attributes for an exception (no secrets: only the service's reply)."""
    attrs = {"s3.exception": type(exc).__name__}
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        err = response.get("Error", {}) or {}
        meta = response.get("ResponseMetadata", {}) or {}
        if meta.get("HTTPStatusCode") is not None:
            attrs["s3.statusCode"] = str(meta["HTTPStatusCode"])
        if err.get("Code") is not None:
            attrs["s3.errorCode"] = str(err["Code"])
        attrs["s3.errorMessage"] = str(err.get("Message") or exc)
        request_id = meta.get("RequestId") or (meta.get("HTTPHeaders") or {}).get(
            "x-amz-request-id"
        )
        if request_id:
            attrs["s3.additionalDetails"] = f"requestId={request_id}"
    else:
        attrs["s3.errorMessage"] = str(exc) or type(exc).__name__
    return attrs


class AbstractS3Processor(Processor):
    """Base of the per-FlowFile S3 processors: properties, batch loop, error routing."""

    input_requirement = InputRequirement.REQUIRED
    tags = ("aws", "s3", "amazon", "cloud")
    default_schedule = {"batch_size": 100}
    writes_attributes = {
        "s3.exception": "failure: the exception's class",
        "s3.statusCode": "failure: the HTTP status of the service's reply",
        "s3.errorCode": "failure: the service's error code (NoSuchKey, AccessDenied...)",
        "s3.errorMessage": "failure: the service's error message",
        "s3.additionalDetails": "failure: the request id",
    }

    BUCKET = bucket_property()
    OBJECT_KEY = PropertyDescriptor(
        "object_key",
        "The object key.",
        display_name="Object Key",
        default="${filename}",
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    AWS_CREDENTIALS = PropertyDescriptor(
        "aws_credentials_provider",
        "The AWSCredentialsProviderControllerService with credentials and endpoint.",
        display_name="AWS Credentials Provider Service",
        required=True,
        service=AWSCredentialsProvider,
    )
    REGION = PropertyDescriptor(
        "region",
        "Overrides the service's region for this processor.",
        display_name="Region",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    ENDPOINT = PropertyDescriptor(
        "endpoint_override_url",
        "Overrides the service's endpoint for this processor.",
        display_name="Endpoint Override URL",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    CONCURRENT_REQUESTS = PropertyDescriptor(
        "concurrent_requests",
        "FlowFiles of a batch worked on at the same time (requests in flight).",
        display_name="Concurrent Requests",
        default="16",
        validators=(validators.integer_range(1, 1024),),
    )

    SUCCESS = Relationship("success", "FlowFiles processed successfully")
    FAILURE = Relationship(
        "failure", "FlowFiles that could not be processed (s3.* attributes say why)"
    )

    # -- connection --------------------------------------------------------------------
    def _where(self, context: ProcessContext) -> tuple[str | None, str | None]:
        region = context.property(self.REGION).evaluate().value or None
        endpoint = context.property(self.ENDPOINT).evaluate().value or None
        return region, endpoint

    async def client(self, context: ProcessContext) -> Any:
        """The aiobotocore client for this processor's service, region and endpoint."""
        service = context.property(self.AWS_CREDENTIALS).as_service(
            AWSCredentialsProvider
        )
        region, endpoint = self._where(context)
        return await service.s3_client(region, endpoint)

    def url(self, context: ProcessContext, client: Any, bucket: str, key: str) -> str:
        endpoint = context.property(self.ENDPOINT).evaluate().value or None
        if endpoint is None and client is not None:
            endpoint = _custom_endpoint(client)
        return object_url(
            endpoint, getattr(client.meta, "region_name", None), bucket, key
        )

    # -- the batch loop ----------------------------------------------------------------
    async def on_trigger(
        self, context: ProcessContext, session: ProcessSession
    ) -> None:
        flowfiles = session.get(context.batch_size)
        if not flowfiles:
            return
        try:
            client = await self.client(context)
        except Exception as exc:  # bad configuration: NiFi penalizes and fails each
            for ff in flowfiles:
                self.fail(context, session, ff, exc)
            return
        state = _BatchState()
        limiter = anyio.CapacityLimiter(
            context.property(self.CONCURRENT_REQUESTS).as_int() or 16
        )

        async def one(ff: FlowFile) -> None:
            async with limiter:
                if state.credentials_failed:
                    session.transfer(ff)  # back to the queue; we are yielding
                    return
                await self.guarded(
                    context,
                    session,
                    ff,
                    self.process(context, session, client, ff),
                    state,
                )

        async with anyio.create_task_group() as tg:
            for ff in flowfiles:
                tg.start_soon(one, ff)
        for ff, job in state.deferred:
            if state.credentials_failed:
                session.transfer(ff)
                continue
            await self.guarded(context, session, ff, job(), state)

    async def guarded(
        self,
        context: ProcessContext,
        session: ProcessSession,
        ff: FlowFile,
        work: Awaitable[None],
        state: _BatchState,
    ) -> None:
        """Await the work for one FlowFile, routing any failure."""
        try:
            await work
        except _Deferred as d:
            state.deferred.append((ff, d.job))
        except Exception as raised:
            exc = root_cause(raised)
            if is_credentials_error(exc):
                if not state.credentials_failed:
                    state.credentials_failed = True
                    msg = f"AWS credentials were rejected ({_describe(exc)}); yielding"
                    context.bulletin("error", msg)
                    context.logger.error(
                        "aws_credentials_rejected", error=_describe(exc)
                    )
                    context.yield_()
                session.transfer(ff)
                return
            self.fail(context, session, ff, exc)

    def fail(
        self,
        context: ProcessContext,
        session: ProcessSession,
        ff: FlowFile,
        exc: BaseException,
    ) -> None:
        """Penalize and route to failure with NiFi's s3.* attributes."""
        attrs = error_attributes(exc)
        context.logger.warning(
            "s3_request_failed",
            flowfile=ff.get("uuid"),
            exception=attrs["s3.exception"],
            code=attrs.get("s3.errorCode"),
            message=attrs.get("s3.errorMessage"),
        )
        context.bulletin(
            "error", f"{attrs['s3.exception']}: {attrs.get('s3.errorMessage')}", ff
        )
        ff = session.put_attributes(ff, attrs)
        ff = session.penalize(ff)
        session.transfer(ff, self.FAILURE)

    async def process(
        self,
        context: ProcessContext,
        session: ProcessSession,
        client: Any,
        ff: FlowFile,
    ) -> None:
        """Handle one FlowFile: transfer it (or raise; :meth:`fail` routes it). Raise
        :class:`_Deferred` to finish the work after the concurrent phase."""
        raise NotImplementedError

    def location(self, context: ProcessContext, ff: FlowFile) -> tuple[str, str]:
        """(bucket, key) for a FlowFile, Expression Language evaluated."""
        bucket = context.property(self.BUCKET).evaluate(ff).value or ""
        key = context.property(self.OBJECT_KEY).evaluate(ff).value or ""
        if not bucket:
            raise ValueError("the bucket evaluated to an empty string")
        if not key:
            raise ValueError("the object key evaluated to an empty string")
        return bucket, key


class _BatchState:
    __slots__ = ("credentials_failed", "deferred")

    def __init__(self) -> None:
        self.credentials_failed = False
        self.deferred: list[tuple[FlowFile, Callable[[], Awaitable[None]]]] = []


class _Deferred(Exception):
    """Finish this FlowFile after every concurrent task is done (it needs the session
    from a worker thread, which must not race with tasks on the loop)."""

    def __init__(self, job: Callable[[], Awaitable[None]]) -> None:
        super().__init__("deferred")
        self.job = job


def _describe(exc: BaseException) -> str:
    code = _error_code(exc)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def _custom_endpoint(client: Any) -> str | None:
    url = getattr(getattr(client, "meta", None), "endpoint_url", None)
    if url and "amazonaws.com" not in url:
        return str(url)
    return None


Deferred = _Deferred
