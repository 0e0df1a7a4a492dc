"""Redis as the distributed map cache: NiFi's RedisConnectionPoolService and
RedisDistributedMapCacheClientService, on redis-py.

Every call has a deadline (Communication Timeout, as socket connect and read timeout);
connection errors and timeouts become :class:`CacheUnavailableError`, so processors roll
back and retry later. Only the Standalone Redis Mode is implemented (Sentinel and Cluster
are rejected when the service is enabled, with that reason).

Compare-and-replace keeps a revision counter beside each key (``<key>`` plus the suffix
``\\x00rev``) and checks it in a Lua script, so fetch/replace is exact, not value-based.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis

from flowengine import (
    AllowableValue,
    ConfigurationContext,
    ControllerService,
    ExpressionLanguageScope,
    PropertyDescriptor,
)
from flowengine import validators as v

from ._api import CacheEntry, CacheUnavailableError, DistributedMapCacheClient

__all__ = [
    "RedisConnectionPool",
    "RedisConnectionPoolService",
    "RedisDistributedMapCacheClientService",
]

T = TypeVar("T")
REV = "\x00rev"

_FETCH = """
local value = redis.call('GET', KEYS[1])
if not value then return false end
return {value, redis.call('GET', KEYS[2]) or '0'}
"""
_REPLACE = """
local exists = redis.call('EXISTS', KEYS[1])
local rev = redis.call('GET', KEYS[2]) or '0'
if exists == 1 and rev ~= ARGV[2] then return 0 end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
  redis.call('SET', KEYS[2], tostring(tonumber(rev) + 1), 'EX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], tostring(tonumber(rev) + 1))
end
return 1
"""


class RedisConnectionPool(ABC):
    """What Redis services ask for: a configured client over a bounded pool."""

    @abstractmethod
    def client(self) -> redis.Redis: ...


class RedisConnectionPoolService(RedisConnectionPool, ControllerService):
    """A pool of connections to one Redis server (NiFi's RedisConnectionPoolService)."""

    tags = ("redis", "cache")

    REDIS_MODE = PropertyDescriptor(
        "redis_mode",
        "The type of Redis: only Standalone is supported by flowengine.",
        display_name="Redis Mode",
        default="Standalone",
        required=True,
        allowable_values=(
            AllowableValue(
                "Standalone", "Standalone", "A single standalone Redis instance."
            ),
            AllowableValue("Sentinel", "Sentinel", "Redis Sentinel (not supported)."),
            AllowableValue("Cluster", "Cluster", "Clustered Redis (not supported)."),
        ),
    )
    CONNECTION_STRING = PropertyDescriptor(
        "connection_string",
        "hostname:port of the Redis server.",
        display_name="Connection String",
        required=True,
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    DATABASE_INDEX = PropertyDescriptor(
        "database_index",
        "The database index connections use (0-15 by default in redis.conf).",
        display_name="Database Index",
        default="0",
        required=True,
        validators=(v.NON_NEGATIVE_INTEGER,),
    )
    COMMUNICATION_TIMEOUT = PropertyDescriptor(
        "communication_timeout",
        "The deadline of every connect and every command.",
        display_name="Communication Timeout",
        default="10 seconds",
        required=True,
        validators=(v.TIME_PERIOD,),
    )
    PASSWORD = PropertyDescriptor(
        "password",
        "The password (requirepass in redis.conf).",
        display_name="Password",
        sensitive=True,
    )
    POOL_MAX_TOTAL = PropertyDescriptor(
        "pool_max_total",
        "The most connections the pool opens.",
        display_name="Pool - Max Total",
        default="8",
        required=True,
        validators=(v.POSITIVE_INTEGER,),
    )

    _client: redis.Redis | None = None

    def on_enabled(self, context: ConfigurationContext) -> None:
        mode = context.property(self.REDIS_MODE).value
        if mode != "Standalone":
            raise ValueError(f"Redis Mode {mode!r} is not supported; use Standalone")
        text = context.property(self.CONNECTION_STRING).evaluate().value or ""
        host, _, port = text.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"Connection String {text!r} is not hostname:port")
        timeout = context.property(self.COMMUNICATION_TIMEOUT).as_duration() or 10.0
        pool = redis.BlockingConnectionPool(
            host=host,
            port=int(port),
            db=context.property(self.DATABASE_INDEX).as_int() or 0,
            password=context.property(self.PASSWORD).value or None,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            max_connections=context.property(self.POOL_MAX_TOTAL).as_int() or 8,
            timeout=timeout,  # waiting for a free pooled connection
            decode_responses=True,
        )
        self._client = redis.Redis(connection_pool=pool)

    def on_disabled(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client.connection_pool.disconnect()
            self._client = None

    def client(self) -> redis.Redis:
        if self._client is None:
            raise CacheUnavailableError("the Redis connection pool is not enabled")
        return self._client


class RedisDistributedMapCacheClientService(
    DistributedMapCacheClient, ControllerService
):
    """The map cache in Redis (NiFi's RedisDistributedMapCacheClientService); TTL > 0
    makes every written key expire that long after its last write."""

    tags = ("redis", "distributed", "cache", "map")

    REDIS_CONNECTION_POOL = PropertyDescriptor(
        "redis_connection_pool",
        "The Redis connection pool service.",
        display_name="Redis Connection Pool",
        required=True,
        service=RedisConnectionPool,
    )
    TTL = PropertyDescriptor(
        "redis_cache_ttl",
        "How long written keys live; 0 secs: for ever.",
        display_name="TTL",
        default="0 secs",
        required=True,
        validators=(v.TIME_PERIOD,),
    )

    def on_enabled(self, context: ConfigurationContext) -> None:
        self._pool = context.property(self.REDIS_CONNECTION_POOL).as_service(
            RedisConnectionPool
        )
        self._ttl = int(context.property(self.TTL).as_duration() or 0)
        client = self._pool.client()
        self._fetch = client.register_script(_FETCH)
        self._replace = client.register_script(_REPLACE)

    def _call(self, fn: Callable[[redis.Redis], T]) -> T:
        try:
            return fn(self._pool.client())
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise CacheUnavailableError(f"Redis: {exc}") from exc

    def _ex(self) -> int | None:
        return self._ttl or None

    def get(self, key: str) -> str | None:
        return self._call(lambda c: c.get(key))  # type: ignore[return-value]

    def put(self, key: str, value: str) -> None:
        self._call(lambda c: c.set(key, value, ex=self._ex()))

    def put_if_absent(self, key: str, value: str) -> bool:
        return bool(self._call(lambda c: c.set(key, value, nx=True, ex=self._ex())))

    def get_and_put_if_absent(self, key: str, value: str) -> str | None:
        return self.get_and_put_if_absent_many([(key, value)])[0]

    def get_and_put_if_absent_many(
        self, items: Sequence[tuple[str, str]]
    ) -> list[str | None]:
        """One pipelined round trip of ``SET key value NX GET`` (atomic per key;
        Redis ≥ 7.0)."""

        def run(c: redis.Redis) -> list[Any]:
            pipe = c.pipeline(transaction=False)
            for key, value in items:
                pipe.set(key, value, nx=True, get=True, ex=self._ex())
            return pipe.execute()

        return [None if r is None else str(r) for r in self._call(run)]

    def contains_key(self, key: str) -> bool:
        return bool(self._call(lambda c: c.exists(key)))

    def remove(self, key: str) -> bool:
        return bool(self._call(lambda c: c.delete(key, key + REV)))

    def remove_by_pattern(self, regex: str) -> int:
        pattern = re.compile(regex)

        def run(c: redis.Redis) -> int:
            keys = [
                k
                for k in c.scan_iter(count=1000)
                if not str(k).endswith(REV) and pattern.fullmatch(str(k))
            ]
            for i in range(0, len(keys), 1000):
                chunk = keys[i : i + 1000]
                c.delete(*chunk, *(k + REV for k in chunk))
            return len(keys)

        return self._call(run)

    def fetch(self, key: str) -> CacheEntry | None:
        found = self._call(lambda c: self._fetch(keys=[key, key + REV], client=c))
        if not found:
            return None
        value, revision = found
        return CacheEntry(key, str(value), int(revision))

    def replace(self, entry: CacheEntry) -> bool:
        keys = [entry.key, entry.key + REV]
        args = [entry.value, str(entry.revision), str(self._ttl)]
        return bool(self._call(lambda c: self._replace(keys=keys, args=args, client=c)))
