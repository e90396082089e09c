"""A Redis cache that treats an unreachable server as an empty cache instead of an error.

Production keeps the page cache, cached sessions and the experiment poll records in Redis (the same server as
the Celery broker). When that Redis is down the site must keep serving lessons, quizzes and certificates from
PostgreSQL, so every cache call here answers "miss" (reads) or does nothing (writes) on a connection
error. After one failure the cache stays off for ``RETRY_AFTER_S`` seconds, so a dead or hung server costs one
short socket timeout per process every few seconds, never one per request.

A write that did not reach Redis must not let an older value come back when Redis does (a session deleted by
a sign-out, a page-cache generation that was renewed): the keys of failed writes are remembered and deleted
before this process uses the cache again.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0
# Beyond this many keys to reconcile, the oldest are dropped (and logged): memory must stay bounded.
MAX_UNSYNCED_KEYS = 100_000
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


class _Outage(Exception):
    """Redis is unreachable (or was a moment ago): the caller falls back."""


class ResilientRedisCacheClient(RedisCacheClient):
    """Django's Redis client (keys already made), degraded while Redis cannot be reached."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        # Short socket timeouts: a hung Redis must not hold a request for redis-py's default of "forever".
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}
        self._paused_until = 0.0
        self._unsynced: dict[str, None] = {}  # keys whose last write failed, oldest first
        self._lock = threading.Lock()

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        # Django builds a new redis.Redis for every call (~170 response callbacks registered each time, a large
        # share of a cached page's CPU); one per connection pool does the same, since a client takes a
        # connection from its pool for each command and can be shared by threads.
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients.setdefault(index, self._client(connection_pool=self._get_connection_pool(write)))
        return client

    # --- the circuit --------------------------------------------------------------------------------------

    def paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def _pause(self, exc: BaseException) -> None:
        with self._lock:
            first = not self.paused()
            self._paused_until = time.monotonic() + RETRY_AFTER_S
        if first:
            logger.warning("cache unavailable for %.0f s: %s: %s", RETRY_AFTER_S, type(exc).__name__, exc)

    def _remember(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._unsynced.pop(key, None)
                self._unsynced[key] = None
            while len(self._unsynced) > MAX_UNSYNCED_KEYS:
                dropped = next(iter(self._unsynced))
                del self._unsynced[dropped]
                logger.warning("cache: too many keys to reconcile after an outage; %s may be stale", dropped)

    def _reconcile(self) -> None:
        """Delete the keys whose writes failed, before anything else reads or writes them."""
        if not self._unsynced:  # the common case, without taking the lock
            return
        with self._lock:
            keys = list(self._unsynced)
        if not keys:
            return
        super().delete_many(keys)  # raises if Redis is still away: the keys stay remembered
        with self._lock:
            for key in keys:
                self._unsynced.pop(key, None)
        logger.warning("cache reachable again: deleted %d key(s) written during the outage", len(keys))

    def _call(self, method: str, *args: Any, written: Iterable[str] = ()) -> Any:
        written = list(written)
        if self.paused():
            self._remember(written)
            raise _Outage
        try:
            self._reconcile()
            return getattr(super(), method)(*args)
        except OUTAGE_ERRORS as exc:
            self._remember(written)
            self._pause(exc)
            raise _Outage from exc

    # --- Django's client API ------------------------------------------------------------------------------

    def get(self, key: str, default: Any) -> Any:
        try:
            return self._call("get", key, default)
        except _Outage:
            return default

    def get_many(self, keys: list[str]) -> dict:
        try:
            return self._call("get_many", keys)
        except _Outage:
            return {}

    def has_key(self, key: str) -> bool:
        try:
            return self._call("has_key", key)
        except _Outage:
            return False

    def add(self, key: str, value: Any, timeout: int | None) -> bool:
        try:
            return self._call("add", key, value, timeout, written=[key])
        except _Outage:
            return False

    def set(self, key: str, value: Any, timeout: int | None) -> None:
        try:
            self._call("set", key, value, timeout, written=[key])
        except _Outage:
            return None

    def touch(self, key: str, timeout: int | None) -> bool:
        try:
            return self._call("touch", key, timeout, written=[key])
        except _Outage:
            return False

    def delete(self, key: str) -> bool:
        try:
            return self._call("delete", key, written=[key])
        except _Outage:
            return False

    def set_many(self, data: dict, timeout: int | None) -> list:
        with contextlib.suppress(_Outage):
            self._call("set_many", data, timeout, written=list(data))
        return []  # Redis either took them all or will see them deleted after the outage

    def delete_many(self, keys: list[str]) -> None:
        try:
            self._call("delete_many", keys, written=keys)
        except _Outage:
            return None

    def incr(self, key: str, delta: int) -> int:
        try:
            return self._call("incr", key, delta, written=[key])
        except _Outage as exc:
            # No sensible fallback value exists for a counter; Django's callers expect ValueError for "missing".
            raise ValueError(f"Key {key!r} not available: the cache is unreachable") from exc

    def clear(self) -> bool:
        # FLUSHDB of the cache's database (tests and maintenance only: never point the cache at the broker's).
        try:
            return self._call("clear")
        except _Outage:
            return False


class ResilientRedisCache(RedisCache):
    """django.core.cache's RedisCache on :class:`ResilientRedisCacheClient`."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient

    def paused(self) -> bool:
        return self._cache.paused()
