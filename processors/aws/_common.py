"""What every S3 processor shares: common properties, error mapping, the batch loop.

S3 processors are ``async``: a trigger takes a batch of FlowFiles and works on up to
``concurrent_requests`` of them at once on the engine's event loop (one aiobotocore client,
one connection pool). Session calls never await, so tasks on the loop can share the
session; the few that must run in a worker thread (streaming a large object into the
content repository) run after every concurrent task has finished.

Errors (NiFi's AbstractS3Processor): every failure routes the FlowFile to ``failure``,
penalized, with ``s3.exception``, ``s3.statusCode``, ``s3.errorCode``, ``s3.errorMessage``
and ``s3.additionalDetails``; botocore has already retried throttling, 5xx and connection
errors with backoff (see the service's retry settings).

Errors that waiting will not cure and that are not the FlowFile's fault — classified by
the service's error code (:data:`CONFIGURATION_ERROR_CODES`: the bucket does not exist,
the credentials are rejected, listing the bucket is denied), or botocore finding no
usable credentials — leave the FlowFile in its queue and raise
:class:`~flowengine.ConfigurationError` once the batch is done (what the batch finished
is committed first): a run until drained stops with exit code 5, a service backs off
(docs/s3.md, "Errors that configuration must fix"). A missing bucket that a FlowFile's
attributes chose (the Bucket property uses Expression Language, like the default
``${s3.bucket}``) is that FlowFile's fault: it goes to ``failure`` as in NiFi.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import anyio
from flowengine.controller_services.aws import AWSCredentialsProvider

from flowengine import (
    ALLOWABLE_BOOLEANS,
    AllowableValue,
    ConfigurationError,
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
    "CONFIGURATION_ERROR_CODES",
    "CREDENTIAL_ERROR_CODES",
    "AbstractS3Processor",
    "DeadlineClient",
    "bucket_property",
    "client_config",
    "configuration_error",
    "error_attributes",
    "is_credentials_error",
    "is_not_found",
    "object_url",
    "request_deadline",
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
#: service error codes meaning "the bucket is not there, or these credentials may not use
#: it": the same for every request until someone changes the flow, the bucket or a policy
_ACCESS_ERROR_CODES = frozenset(
    {"NoSuchBucket", "AccessDenied", "AllAccessDisabled", "AccountProblem"}
)
#: every service error code that waiting will not cure (:func:`configuration_error`;
#: AccessDenied only for a listing, and NoSuchBucket only for a fixed Bucket)
CONFIGURATION_ERROR_CODES = CREDENTIAL_ERROR_CODES | _ACCESS_ERROR_CODES
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


COMMUNICATIONS_TIMEOUT = PropertyDescriptor(
    "communications_timeout",
    "Bounds every S3 request of this processor: connecting, sending and waiting for the "
    "reply (botocore's connect and read timeouts, and a deadline on the whole request, "
    "extended for large bodies by Minimum Transfer Rate).",
    display_name="Communications Timeout",
    default="30 secs",
    validators=(validators.TIME_PERIOD,),
)
USE_CHUNKED_ENCODING = PropertyDescriptor(
    "use_chunked_encoding",
    "Send streamed bodies aws-chunked with a trailing checksum (botocore's "
    "request_checksum_calculation when_supported); false sends plain bodies and "
    "checksums only where S3 requires them (some S3-compatible stores need false).",
    display_name="Use Chunked Encoding",
    default="true",
    allowable_values=ALLOWABLE_BOOLEANS,
)
USE_PATH_STYLE_ACCESS = PropertyDescriptor(
    "use_path_style_access",
    "Address buckets as path segments (http://host/bucket/key); true here, or on the "
    "credentials service, turns it on.",
    display_name="Use Path Style Access",
    default="false",
    allowable_values=ALLOWABLE_BOOLEANS,
)
SIGNER_OVERRIDE = PropertyDescriptor(
    "signer_override",
    "The request signing algorithm (Signature Version 2 only for old S3-compatible "
    "stores).",
    display_name="Signer Override",
    default="Default Signature",
    allowable_values=(
        AllowableValue("Default Signature"),
        AllowableValue("AWSS3V4SignerType", "Signature Version 4"),
        AllowableValue("S3SignerType", "Signature Version 2"),
    ),
)
_SIGNERS = {"AWSS3V4SignerType": "s3v4", "S3SignerType": "s3"}
#: the slowest transfer a request's deadline allows for its body (bytes per second)
MIN_TRANSFER_RATE = 1 << 20


def client_config(context: ProcessContext) -> dict[str, Any]:
    """The processor's connection properties as botocore ``Config`` overrides."""
    timeout = context.property(COMMUNICATIONS_TIMEOUT).as_duration() or 30.0
    config: dict[str, Any] = {"connect_timeout": timeout, "read_timeout": timeout}
    if not context.property(USE_CHUNKED_ENCODING).as_bool():
        config["request_checksum_calculation"] = "when_required"
    if context.property(USE_PATH_STYLE_ACCESS).as_bool():
        config["s3"] = {"addressing_style": "path"}
    signer = _SIGNERS.get(context.property(SIGNER_OVERRIDE).value or "")
    if signer:
        config["signature_version"] = signer
    return config


def request_deadline(context: ProcessContext, size: int = 0) -> float:
    """Seconds one S3 request may take, botocore's retries included: the Communications
    Timeout, plus the time to move ``size`` body bytes at :data:`MIN_TRANSFER_RATE`."""
    timeout = context.property(COMMUNICATIONS_TIMEOUT).as_duration() or 30.0
    return timeout + size / MIN_TRANSFER_RATE


def _body_size(kwargs: Mapping[str, Any]) -> int:
    length = kwargs.get("ContentLength")
    if isinstance(length, int):
        return length
    body = kwargs.get("Body")
    if isinstance(body, bytes | bytearray | memoryview):
        return len(body)
    return 0


class DeadlineClient:
    """An S3 client whose every request has a deadline (:func:`request_deadline`).

    botocore bounds connecting and each socket read, but not sending a body to a server
    that stopped reading, nor a request retried again and again against one that never
    answers; this bounds the whole call. A request past its deadline raises
    ``TimeoutError`` naming the operation (the FlowFile goes to failure, penalized).
    Paginators are bounded per page. Other attributes are the client's own.
    """

    def __init__(self, client: Any, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name == "get_paginator":
            return lambda op: _DeadlinePaginator(attr(op), op, self._timeout)
        if not callable(attr):
            return attr
        timeout = self._timeout

        def call(*args: Any, **kwargs: Any) -> Any:
            # botocore's operation methods are plain functions returning a coroutine
            result = attr(*args, **kwargs)
            if not inspect.isawaitable(result):
                return result
            return _bounded(
                name, result, timeout + _body_size(kwargs) / MIN_TRANSFER_RATE
            )

        return call


async def _bounded(name: str, work: Awaitable[Any], limit: float) -> Any:
    try:
        with anyio.fail_after(limit):
            return await work
    except TimeoutError:
        raise TimeoutError(
            f"S3 {name} did not complete within {limit:.1f} s (Communications Timeout)"
        ) from None


class _DeadlinePaginator:
    def __init__(self, paginator: Any, op: str, timeout: float) -> None:
        self._paginator, self._op, self._timeout = paginator, op, timeout

    async def paginate(self, **kwargs: Any) -> AsyncIterator[Any]:
        pages = self._paginator.paginate(**kwargs).__aiter__()
        while True:
            try:
                with anyio.fail_after(self._timeout):
                    page = await pages.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise TimeoutError(
                    f"S3 {self._op} page did not arrive within {self._timeout:.1f} s "
                    "(Communications Timeout)"
                ) from None
            yield page


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


_HINTS = {
    "NoSuchBucket": "that the bucket exists: the Bucket property, and the region and "
    "endpoint of this processor and of its AWS credentials service",
    "AccessDenied": "the permissions of these credentials (IAM and bucket policies) for "
    "this action on this bucket and key",
}
_CREDENTIALS_HINT = (
    "the access key id and secret key (or profile, environment) of the AWS credentials "
    "service, and its region"
)


def configuration_error(
    exc: BaseException,
    bucket: str | None,
    key: str | None = None,
    *,
    object_request: bool = False,
) -> ConfigurationError | None:
    """A :class:`~flowengine.ConfigurationError` for ``exc`` if waiting will not cure
    it (an error code in :data:`CONFIGURATION_ERROR_CODES`, or no usable credentials),
    naming the bucket and key it concerns and what to check; None for anything else.

    ``object_request``: the request was about one object (Fetch, Put...), where
    ``AccessDenied`` may be about that key alone (a policy on a prefix; S3 also answers
    it for a missing key when ListBucket is not allowed), so it stays the FlowFile's
    failure, as in NiFi; for a listing it is about the bucket."""
    code = _error_code(exc)
    credentials = is_credentials_error(exc)
    if not credentials and code not in _ACCESS_ERROR_CODES:
        return None
    if object_request and code == "AccessDenied":
        return None
    response = getattr(exc, "response", None)
    err = response.get("Error", {}) if isinstance(response, Mapping) else {}
    bucket = str(err.get("BucketName") or bucket or "") or None
    resource = f"s3://{bucket}/{key or ''}" if bucket else None
    if credentials:
        message = f"AWS credentials were rejected ({_describe(exc)})"
        hint = _CREDENTIALS_HINT
    elif code == "NoSuchBucket":
        message = f"bucket {bucket!r} does not exist"
        hint = _HINTS["NoSuchBucket"]
    else:
        detail = err.get("Message") or str(exc)
        message = f"access denied ({code}: {detail})"
        hint = _HINTS["AccessDenied"]
    error = ConfigurationError(
        message, code=code or type(exc).__name__, resource=resource, hint=hint
    )
    error.__cause__ = exc
    return error


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
    COMMUNICATIONS_TIMEOUT = COMMUNICATIONS_TIMEOUT
    USE_CHUNKED_ENCODING = USE_CHUNKED_ENCODING
    USE_PATH_STYLE_ACCESS = USE_PATH_STYLE_ACCESS
    SIGNER_OVERRIDE = SIGNER_OVERRIDE
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
        client = await service.s3_client(region, endpoint, client_config(context))
        return DeadlineClient(client, request_deadline(context))

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
                if state.configuration is not None:
                    session.transfer(ff)  # back to the queue, untouched
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
            if state.configuration is not None:
                session.transfer(ff)
                continue
            await self.guarded(context, session, ff, job(), state)
        if state.configuration is not None:
            # Keep what the batch did finish; the engine rolls back only what is left.
            session.commit()
            raise state.configuration

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
            problem = self._configuration_error(context, ff, exc)
            if problem is None:
                self.fail(context, session, ff, exc)
                return
            if state.configuration is None:
                state.configuration = problem
            session.transfer(ff)  # back to its queue: not this FlowFile's fault

    def _configuration_error(
        self, context: ProcessContext, ff: FlowFile, exc: BaseException
    ) -> ConfigurationError | None:
        """:func:`configuration_error` for this FlowFile's request; a missing bucket
        its attributes chose is the FlowFile's fault (None: it goes to failure)."""
        bucket_value = context.property(self.BUCKET)
        if _error_code(exc) == "NoSuchBucket" and bucket_value.has_expressions:
            return None
        try:
            bucket, key = self.location(context, ff)
        except Exception:
            bucket, key = bucket_value.value or "", ""
        return configuration_error(exc, bucket, key, object_request=True)

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
    __slots__ = ("configuration", "deferred")

    def __init__(self) -> None:
        #: the first error of the batch that configuration must fix (then raised)
        self.configuration: ConfigurationError | None = None
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
