"""AWSCredentialsProviderControllerService: credentials and connection settings for S3.

One service instance owns the s3fs filesystems (and through them the aiobotocore clients)
that the S3 processors share, so a flow opens one connection pool per endpoint rather
than one per processor. Filesystems are created with ``skip_instance_cache=True``: fsspec
caches instances by their constructor arguments, and a cached instance would survive a
credentials change (or be shared with an unrelated flow in the same process).

An aiobotocore client is bound to the event loop it was created on, so the async
filesystems are kept per running loop; the engine runs one loop per flow run, and the
test runner one per ``run()`` call.

Secrets (secret access key, session token) are held privately and never logged, shown
in ``repr`` or passed anywhere but to botocore.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from flowengine import (
    ALLOWABLE_BOOLEANS,
    AllowableValue,
    ConfigurationContext,
    ControllerService,
    ExpressionLanguageScope,
    PropertyDescriptor,
    choices,
    validators,
)

__all__ = [
    "BOOLEAN",
    "AWSCredentialsProvider",
    "AWSCredentialsProviderControllerService",
    "choices",
]


#: kept for plugins that imported them from here; the home is ``flowengine``
BOOLEAN = ALLOWABLE_BOOLEANS


class AWSCredentialsProvider(ABC):
    """What S3 processors ask for: clients and filesystems bound to one configuration."""

    @abstractmethod
    async def s3_client(
        self,
        region: str | None = None,
        endpoint: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Any:
        """The aiobotocore S3 client for the running event loop; ``config`` is merged
        into the service's botocore ``Config`` (a processor's own timeouts, signer,
        addressing style)."""

    @abstractmethod
    async def async_filesystem(
        self,
        region: str | None = None,
        endpoint: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Any:
        """An ``s3fs.S3FileSystem(asynchronous=True)`` for the running event loop."""

    @abstractmethod
    def filesystem(self) -> Any:
        """A synchronous ``s3fs.S3FileSystem`` (for fsspec-based processors)."""

    @abstractmethod
    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for ``s3fs.S3FileSystem`` (contains secrets: never log)."""


class AWSCredentialsProviderControllerService(
    AWSCredentialsProvider, ControllerService
):
    """Provides AWS credentials and S3 connection settings to the S3 processors.

    Credentials are taken, in this order, from: anonymous access; an access key pair
    (with an optional session token); a named profile; otherwise the default credential
    chain (environment, shared files, instance metadata), as with NiFi's "Use Default
    Credentials". The endpoint override points the processors at MinIO, moto or an
    on-premises S3-compatible store.
    """

    tags = ("aws", "s3", "credentials", "provider")

    USE_DEFAULT_CREDENTIALS = PropertyDescriptor(
        "use_default_credentials",
        "Use the default credential chain (environment variables, shared credentials "
        "file, instance profile) even when other properties are set.",
        display_name="Use Default Credentials",
        default="false",
        allowable_values=BOOLEAN,
    )
    ACCESS_KEY_ID = PropertyDescriptor(
        "access_key_id",
        "The access key ID.",
        display_name="Access Key ID",
        sensitive=True,
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    SECRET_ACCESS_KEY = PropertyDescriptor(
        "secret_access_key",
        "The secret access key.",
        display_name="Secret Access Key",
        sensitive=True,
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    SESSION_TOKEN = PropertyDescriptor(
        "session_token",
        "A session token for temporary credentials.",
        display_name="Session Token",
        sensitive=True,
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    PROFILE_NAME = PropertyDescriptor(
        "profile_name",
        "A profile of the shared AWS configuration files.",
        display_name="Profile Name",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    ANONYMOUS = PropertyDescriptor(
        "use_anonymous_credentials",
        "Send unsigned requests (public buckets).",
        display_name="Use Anonymous Credentials",
        default="false",
        allowable_values=BOOLEAN,
    )
    REGION = PropertyDescriptor(
        "region",
        "The AWS region; unset: the region of the environment or profile "
        "(AWS_DEFAULT_REGION), else us-east-1.",
        display_name="Region",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    ENDPOINT = PropertyDescriptor(
        "endpoint_override_url",
        "Endpoint URL to use instead of AWS's (MinIO, moto, on-premises stores).",
        display_name="Endpoint Override URL",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    PATH_STYLE = PropertyDescriptor(
        "use_path_style_access",
        "Address buckets as path segments (http://host/bucket/key) rather than as "
        "virtual hosts; most non-AWS stores need this.",
        display_name="Use Path Style Access",
        default="false",
        allowable_values=BOOLEAN,
    )
    CONNECT_TIMEOUT = PropertyDescriptor(
        "connect_timeout",
        "How long to wait for a connection.",
        display_name="Connect Timeout",
        default="30 secs",
        validators=(validators.TIME_PERIOD,),
    )
    READ_TIMEOUT = PropertyDescriptor(
        "read_timeout",
        "How long to wait for data on an open connection (NiFi's Communications Timeout).",
        display_name="Communications Timeout",
        default="30 secs",
        validators=(validators.TIME_PERIOD,),
    )
    RETRY_MODE = PropertyDescriptor(
        "retry_mode",
        "botocore's retry strategy for throttling, 5xx and connection errors "
        "(exponential backoff with jitter).",
        display_name="Retry Mode",
        default="standard",
        allowable_values=(
            AllowableValue("standard"),
            AllowableValue("adaptive"),
            AllowableValue("legacy"),
        ),
    )
    MAX_ATTEMPTS = PropertyDescriptor(
        "max_attempts",
        "Attempts per request, the first included, before the error reaches the processor.",
        display_name="Max Attempts",
        default="5",
        validators=(validators.POSITIVE_INTEGER,),
    )
    MAX_CONNECTIONS = PropertyDescriptor(
        "max_connections",
        "Size of the HTTP connection pool per endpoint (bounds concurrent requests).",
        display_name="Max Connections",
        default="64",
        validators=(validators.POSITIVE_INTEGER,),
    )

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}
        self._lock = threading.Lock()
        # (loop, region, endpoint) -> filesystem; loops are weakly referenced
        self._async: dict[tuple[int, str | None, str | None, str], tuple[Any, Any]] = {}
        self._sync: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self._options.get('endpoint_url')!r})"

    # -- lifecycle ---------------------------------------------------------------------
    def on_enabled(self, context: ConfigurationContext) -> None:
        """Resolve the configuration; clients are created lazily on first use."""

        def text(desc: PropertyDescriptor) -> str | None:
            value = context.property(desc).evaluate().value
            return value.strip() if value and value.strip() else None

        def flag(desc: PropertyDescriptor) -> bool:
            return bool(context.property(desc).as_bool())

        opts: dict[str, Any] = {"skip_instance_cache": True}
        key, secret = text(self.ACCESS_KEY_ID), text(self.SECRET_ACCESS_KEY)
        if flag(self.ANONYMOUS):
            opts["anon"] = True
        elif not flag(self.USE_DEFAULT_CREDENTIALS):
            if (key is None) != (secret is None):
                raise ValueError(
                    "set both access_key_id and secret_access_key, or neither"
                )
            if key is not None:
                opts.update(key=key, secret=secret, token=text(self.SESSION_TOKEN))
            elif (profile := text(self.PROFILE_NAME)) is not None:
                opts["profile"] = profile
        endpoint = text(self.ENDPOINT)
        if endpoint:
            opts["endpoint_url"] = endpoint
        region = text(self.REGION)
        client_kwargs: dict[str, Any] = {}
        if region:
            client_kwargs["region_name"] = region
        opts["client_kwargs"] = client_kwargs
        config: dict[str, Any] = {
            "connect_timeout": context.property(self.CONNECT_TIMEOUT).as_duration(),
            "read_timeout": context.property(self.READ_TIMEOUT).as_duration(),
            "retries": {
                "mode": context.property(self.RETRY_MODE).value or "standard",
                # total_max_attempts counts the first request (max_attempts would not)
                "total_max_attempts": context.property(self.MAX_ATTEMPTS).as_int() or 5,
            },
            "max_pool_connections": context.property(self.MAX_CONNECTIONS).as_int()
            or 64,
        }
        if flag(self.PATH_STYLE):
            config["s3"] = {"addressing_style": "path"}
        opts["config_kwargs"] = config
        self.on_disabled()  # a re-enable with new credentials drops every old client
        self._options = opts
        context.logger.debug(
            "aws_service_enabled",
            endpoint=endpoint,
            region=region,
            credentials="anonymous"
            if opts.get("anon")
            else "keys"
            if key
            else "profile"
            if "profile" in opts
            else "default chain",
        )

    def on_disabled(self) -> None:
        """Close every client; on a loop that is not running the sockets are closed."""
        with self._lock:
            entries = list(self._async.values())
            self._async.clear()
            sync_fs, self._sync = self._sync, None
        for loop_ref, fs in entries:
            _close(loop_ref(), fs)
        if sync_fs is not None and sync_fs._s3 is not None:
            type(sync_fs).close_session(sync_fs.loop, sync_fs._s3)
            sync_fs._s3 = None

    # -- AWSCredentialsProvider -------------------------------------------------------
    def storage_options(self) -> dict[str, Any]:
        return _copy_options(self._options)

    def _fs_options(
        self,
        region: str | None,
        endpoint: str | None,
        config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        opts = _copy_options(self._options)
        for name, value in (config or {}).items():
            if name == "s3":  # merge the S3-specific section, don't replace it
                merged = dict(opts["config_kwargs"].get("s3") or {})
                merged.update(value)
                opts["config_kwargs"]["s3"] = merged
            else:
                opts["config_kwargs"][name] = value
        if region:
            opts["client_kwargs"]["region_name"] = region
        if endpoint:
            opts["endpoint_url"] = endpoint
        return opts

    async def async_filesystem(
        self,
        region: str | None = None,
        endpoint: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Any:
        import s3fs

        loop = asyncio.get_running_loop()
        key = (id(loop), region, endpoint, repr(sorted((config or {}).items())))
        with self._lock:
            entry = self._async.get(key)
            if entry is not None and entry[0]() is loop:
                fs = entry[1]
            else:
                if entry is not None:  # a dead loop whose id was reused
                    _close(None, entry[1])
                fs = s3fs.S3FileSystem(
                    asynchronous=True,
                    loop=loop,
                    **self._fs_options(region, endpoint, config),
                )
                self._async[key] = (weakref.ref(loop), fs)
                self._prune()
        await fs.set_session()
        return fs

    def _prune(self) -> None:
        """Forget filesystems of loops that are gone (closing their sockets)."""
        for key, (loop_ref, fs) in list(self._async.items()):
            loop = loop_ref()
            if loop is None or loop.is_closed():
                del self._async[key]
                _close(None, fs)

    async def s3_client(
        self,
        region: str | None = None,
        endpoint: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Any:
        fs = await self.async_filesystem(region, endpoint, config)
        return fs._s3

    def filesystem(self) -> Any:
        import s3fs

        with self._lock:
            if self._sync is None:
                self._sync = s3fs.S3FileSystem(**self._fs_options(None, None))
            return self._sync


def _copy_options(opts: dict[str, Any]) -> dict[str, Any]:
    out = dict(opts)
    out["client_kwargs"] = dict(opts.get("client_kwargs", {}))
    out["config_kwargs"] = dict(opts.get("config_kwargs", {}))
    return out


def _close(loop: asyncio.AbstractEventLoop | None, fs: Any) -> None:
    """Close a filesystem's client without blocking: a task on its running loop, else
    the sockets directly (what s3fs's own finalizer does)."""
    client = getattr(fs, "_s3", None)
    if client is None:
        return
    fs._s3 = None
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is not None and loop is running:
        running.create_task(client.__aexit__(None, None, None))
        return
    # The loop is gone (or not ours to await on): close the sockets synchronously, and
    # mark the aiohttp sessions closed so they don't warn when collected.
    http = getattr(getattr(client, "_endpoint", None), "http_session", None)
    for session in list((getattr(http, "_sessions", None) or {}).values()):
        connector = getattr(session, "_connector", None)
        if connector is not None:
            connector._close()
