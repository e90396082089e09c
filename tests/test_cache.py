"""The production cache backend (core/cache.py) against a real redis-server that hangs and comes back."""
from __future__ import annotations

import os
import signal
import time

import pytest

from core import cache as resilient
from core.cache import ResilientRedisCache
from tests.support.services import RedisServer, free_port, require_binary


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(require_binary("redis-server"), free_port(), tmp_path)
    server.start()
    yield server
    os.kill(server.process.pid, signal.SIGCONT)  # in case a test left it stopped
    server.stop()


@pytest.fixture
def short_pause(monkeypatch):
    monkeypatch.setattr(resilient, "RETRY_AFTER_S", 0.3)


def hang(server: RedisServer) -> None:
    """Like a Redis host that stops answering (not a refused connection): the harder case for timeouts."""
    os.kill(server.process.pid, signal.SIGSTOP)


def resume(server: RedisServer) -> None:
    os.kill(server.process.pid, signal.SIGCONT)
    time.sleep(0.35)  # past the pause


def test_a_hung_redis_costs_one_short_timeout_then_the_cache_is_skipped(redis_server, short_pause):
    cache = ResilientRedisCache(redis_server.url, {})
    cache.set("page", "html")
    hang(redis_server)
    started = time.monotonic()
    assert cache.get("page") is None
    assert cache.get_many(["page", "other"]) == {}
    assert time.monotonic() - started < 1.5  # one 0.5 s socket timeout, then the pause
    assert cache.paused()
    resume(redis_server)
    assert cache.get("page") == "html"


def test_a_delete_lost_in_an_outage_is_done_when_redis_is_back(redis_server, short_pause):
    """A sign-out during a blip deletes the cached session: the session must not come back with Redis."""
    cache = ResilientRedisCache(redis_server.url, {})
    cache.set("session:abc", {"_auth_user_id": "7"})
    hang(redis_server)
    cache.delete("session:abc")
    resume(redis_server)
    assert cache.get("session:abc") is None


def test_a_write_lost_in_an_outage_never_lets_the_older_value_back(redis_server, short_pause):
    """E.g. a page-cache generation renewed during the outage: the old one must not be trusted again."""
    cache = ResilientRedisCache(redis_server.url, {})
    cache.set("page-cache:generation:content", "old")
    cache.set_many({"a": 1, "b": 2})
    hang(redis_server)
    cache.set("page-cache:generation:content", "new")
    cache.set_many({"a": 10})
    resume(redis_server)
    assert cache.get("page-cache:generation:content") is None
    assert cache.get_many(["a", "b"]) == {"b": 2}


def test_writes_while_the_cache_is_paused_are_reconciled_too(redis_server, short_pause):
    cache = ResilientRedisCache(redis_server.url, {})
    cache.set("x", "old")
    hang(redis_server)
    cache.get("x")  # fails, opens the pause
    cache.set("x", "new")  # skipped without touching Redis
    cache.delete("y")
    resume(redis_server)
    assert cache.get("x") is None


def test_a_counter_is_never_invented_during_an_outage(redis_server, short_pause):
    cache = ResilientRedisCache(redis_server.url, {})
    cache.set("count", 1)
    hang(redis_server)
    with pytest.raises(ValueError):
        cache.incr("count")
    resume(redis_server)
    assert cache.get("count") is None  # the lost increment made the old value unusable
