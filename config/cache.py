"""A Redis cache that treats an unreachable server as an empty cache instead of an error.

Production keeps the page cache, cached sessions and the experiment poll fast path in the same Redis as the
Celery broker. When that Redis is down the site must keep serving lessons, quizzes and certificates from
PostgreSQL (issue #7), so every cache call here answers "miss" (reads) or does nothing (writes) on a connection
error. After one failure the cache stays off for ``RETRY_AFTER_S`` seconds, so a dead or hung server costs one
short socket timeout per process every few seconds, never one per request.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

T = TypeVar("T")


def _tolerant(fallback: Callable[..., Any]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run the Redis call unless the cache is in a pause; on an outage error, start a pause and fall back."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def wrapper(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> T:
            if self.paused():
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except OUTAGE_ERRORS as exc:
                self.pause(exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _default(key: str, default: Any = None, version: int | None = None) -> Any:
    return default


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _empty(*args: Any, **kwargs: Any) -> dict:
    return {}


def _all_failed(data: dict, *args: Any, **kwargs: Any) -> list:
    return list(data)


class ResilientRedisCache(RedisCache):
    """django.core.cache's RedisCache, degraded to a no-op cache while Redis cannot be reached."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        # Short socket timeouts: a hung Redis must not hold a request for redis-py's default of "forever".
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def pause(self, exc: BaseException) -> None:
        with self._lock:
            first = not self.paused()
            self._paused_until = time.monotonic() + RETRY_AFTER_S
        if first:
            logger.warning("cache unavailable for %.0f s: %s: %s", RETRY_AFTER_S, type(exc).__name__, exc)

    get = _tolerant(_default)(RedisCache.get)
    get_many = _tolerant(_empty)(RedisCache.get_many)
    set = _tolerant(_nothing)(RedisCache.set)
    add = _tolerant(_false)(RedisCache.add)
    touch = _tolerant(_false)(RedisCache.touch)
    delete = _tolerant(_false)(RedisCache.delete)
    delete_many = _tolerant(_nothing)(RedisCache.delete_many)
    has_key = _tolerant(_false)(RedisCache.has_key)
    set_many = _tolerant(_all_failed)(RedisCache.set_many)
    clear = _tolerant(_false)(RedisCache.clear)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        # No sensible fallback value exists for a counter: callers of incr handle ValueError (a missing key).
        if self.paused():
            raise ValueError(f"Key {key!r} not available: the cache is unreachable")
        try:
            return super().incr(key, delta, version)
        except OUTAGE_ERRORS as exc:
            self.pause(exc)
            raise ValueError(f"Key {key!r} not available: the cache is unreachable") from exc
