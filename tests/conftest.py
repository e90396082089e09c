"""Shared fixtures. Services (PostgreSQL, Redis) are required in CI: missing means fail, not skip.

Fixtures live in conftest files; everything else a test needs from outside its own module (factories, helpers
that act like a learner, the browser harness...) lives in ``tests.support`` and is imported from there.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time

import pytest
from django.core.management import call_command

from tests.support.factories import UserFactory, make_course
from tests.support.paths import COURSE_DIR, REPO
from tests.support.quizzes import complete_modules
from tests.support.services import (
    PG_URL,
    REDIS_HOST,
    REDIS_PORT,
    database_url_of_current_test_db,
    require_service,
)
from tests.support.slow import FAST_TEST_BUDGET_S, is_browser_test, slow_reason


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
    return UserFactory(username="ada", full_name="Ada Lovelace")


@pytest.fixture
def signed_in_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def certificate_files(settings, tmp_path) -> None:
    """PDFs and the signing key go to this test's own folder, never the developer's .var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_PATH = tmp_path / "signing-key.json"


@pytest.fixture
def seven_modules(db):
    """A course like the real one, seven modules with a quiz each, built without the content files."""
    return make_course(modules=7)


@pytest.fixture
def certificate(user, seven_modules, certificate_files):
    """Ada's certificate, issued the way completion issues it."""
    from certificates.services import issue_certificate

    complete_modules(user, seven_modules)
    return issue_certificate(user=user, course=seven_modules)


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
        "DATABASE_URL": database_url_of_current_test_db(),
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


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tests that tests.support.slow finds slow, and everything under tests/browser/ `browser`, so new
    tests are marked by where they live and what they use rather than by someone remembering to."""
    for item in items:
        if is_browser_test(item.path):
            item.add_marker(pytest.mark.browser)
        reason = slow_reason(path=item.path, fixturenames=item.fixturenames)
        if reason:
            item.add_marker(pytest.mark.slow(reason=reason))


_unmarked_slow_tests: list[tuple[float, str]] = []


def pytest_runtest_logreport(report) -> None:
    """Note a test not marked slow whose body ran over budget. Only the body: the session's database set-up lands
    in the first test's set-up, and fixtures that cost seconds are marked slow by tests/support/slow.py."""
    if report.when == "call" and "slow" not in report.keywords and report.duration > FAST_TEST_BUDGET_S:
        _unmarked_slow_tests.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Name the tests of the fast subset that took longer than its budget: mark them slow or make them quicker."""
    if not _unmarked_slow_tests:
        return
    terminalreporter.section(f"tests not marked slow that took over {FAST_TEST_BUDGET_S:.0f} s")
    for duration, nodeid in sorted(_unmarked_slow_tests, reverse=True):
        terminalreporter.write_line(f"{duration:5.1f} s  {nodeid}")
