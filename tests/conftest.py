"""Shared fixtures. Services (PostgreSQL, Redis) are required in CI: missing means fail, not skip."""
from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parent.parent
COURSE_DIR = REPO / "content" / "transformers-architecture"
PG_URL = os.environ.get("PG_TEST_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must exercise the real service", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return PG_URL


@pytest.fixture
def redis_url() -> str:
    """A Redis database of its own (1-15, random) so parallel suites on one machine rarely meet."""
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    import redis

    db = random.randint(1, 15)
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
    client.flushdb()
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
    client.flushdb()


@pytest.fixture
def course(db):
    """The real course, loaded from content/ the way `make run` loads it."""
    call_command("load_course", str(COURSE_DIR), stdout=open(os.devnull, "w"))  # noqa: SIM115
    from lessons.models import Course

    return Course.objects.get(slug="transformers-architecture")


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory(username="ada", full_name="Ada Lovelace")


@pytest.fixture
def signed_in_client(client, user):
    client.force_login(user)
    return client


def _database_url_of_current_test_db() -> str:
    from django.db import connection

    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker started by ``celery_worker_process``; a test module may override it."""
    return {}


@pytest.fixture
def celery_worker_process(transactional_db, redis_url, tmp_path, worker_env):
    """Start a real Celery worker process against real Redis and the current test database.

    Yields a dict with the broker URL and a `logs()` callable. The worker is terminated afterwards.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url_of_current_test_db(),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "TA_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
        **worker_env,
    }
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "celery,gpu", "-c", "1",
         "--pool", "prefork", "-n", f"test-{os.getpid()}@%h", "--loglevel", "INFO", "--without-gossip",
         "--without-mingle"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "ready" not in log_path.read_text() and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    if "ready" not in log_path.read_text():
        proc.kill()
        pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-3000:]}")
    try:
        yield {"broker_url": redis_url, "process": proc, "logs": log_path.read_text}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached pages and sessions never leak from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _clean_sqlite_test_files():
    yield
    var = REPO / ".var"
    for path in var.glob(f"test-{os.getpid()}.sqlite3*"):
        path.unlink(missing_ok=True)
    shutil.rmtree(var / f"test-media-{os.getpid()}", ignore_errors=True)


def pytest_report_header(config) -> str:
    return f"test database: {os.environ.get('TEST_DATABASE_URL') or 'SQLite file'}; chromium: {shutil.which('chromium')}"


# Fixtures that start a real process (a Celery worker, a live server for Chromium): a test using one is slow.
_SLOW_FIXTURES = {"celery_worker_process", "live_server", "site", "page"}


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every browser, integration and real-worker test `slow`, so `make test-fast` (-m "not slow") is a quick
    subset for developers while `make test` and CI run everything."""
    for item in items:
        path = str(item.path)
        if "/tests/browser/" in path or "/tests/integration/" in path or _SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
