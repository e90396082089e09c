"""A Redis outage takes down experiment runs, and nothing else.

Production shares one Redis between the Celery broker and the Django cache (config/settings/prod.py). This test
starts a redis-server of its own on a spare port, points this process's Celery app and the production CACHES at
it, and a real Celery worker too, then kills it: lessons, quizzes, the dashboard and certificates keep answering
quickly, /healthz reports the broker down, the experiment panel says runs are unavailable and a run request gets
a 503. Then it starts redis-server again on the same port: /healthz recovers and a new run is queued and run by
the same worker, with nothing restarted or reconfigured on the web side.
"""
from __future__ import annotations

import copy
import importlib
import os
import sys
import time
from unittest import mock

import pytest
from django.urls import reverse

from config.celery import app as celery_app
from experiments import selectors
from experiments.models import ExperimentRun
from tests.support.experiments import TINY_LATENCY_PARAMS, post_run
from tests.support.factories import ExperimentRunFactory, UserFactory
from tests.support.quizzes import complete_modules, open_quiz, quiz_url, take_quiz
from tests.support.services import RedisServer, free_port, require_binary

pytestmark = pytest.mark.redis

# A page may wait on the dead Redis for one short socket timeout (the broker check of a signed-in page, the
# cache's first failed call), never for the broker's publishing timeouts or kombu's retries.
QUICK_S = 3.0
UNAVAILABLE_NOTICE = "Experiment runs are unavailable right now; the results below are the latest measured."
# What config/settings/base.py gives Celery for a Redis broker.
PRODUCTION_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(require_binary("redis-server"), free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """Overrides tests/conftest.py's: the `celery_worker_process` of this module uses this module's Redis."""
    return redis_server.url


def production_caches(redis_url: str) -> dict:
    """CACHES exactly as config/settings/prod.py builds them (backend and options), for this test's Redis."""
    env = {
        "SECRET_KEY": "outage-test-" + "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://unused@127.0.0.1/unused",
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "SITE_URL": "https://academy.example.org",
        "CERTIFICATE_SIGNING_KEY_PATH": "/nonexistent/unused-key.json",
    }
    with mock.patch.dict(os.environ, env):
        sys.modules.pop("config.settings.prod", None)
        try:
            return copy.deepcopy(importlib.import_module("config.settings.prod").CACHES)
        finally:
            sys.modules.pop("config.settings.prod", None)


@pytest.fixture
def production_redis(redis_server, settings, monkeypatch):
    """Point the Django cache and this process's Celery app (broker and results) at the test's redis-server,
    the way production's settings point them at its Redis: configured once, as at start-up."""
    settings.CACHES = production_caches(redis_server.url)
    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    monkeypatch.setattr(selectors, "_broker_answers", {})  # nothing remembered about other brokers' health
    # Shared tasks (run_experiment) publish through the current app: make sure it is the site's, whatever Celery
    # app an earlier test created.
    celery_app.set_current()
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport_options, conf.result_backend)
    celery_app.close()  # drop pooled connections to the test settings' in-memory broker
    conf.broker_url = redis_server.url
    conf.broker_transport_options = dict(PRODUCTION_BROKER_TRANSPORT_OPTIONS)
    conf.result_backend = redis_server.url
    celery_app._local.__dict__.pop("backend", None)  # the result backend is built lazily from conf, per thread
    try:
        yield redis_server
    finally:
        celery_app.close()
        conf.broker_url, conf.broker_transport_options, conf.result_backend = saved
        celery_app._local.__dict__.pop("backend", None)


@pytest.fixture
def certificate(course, settings, tmp_path):
    """Grace completed the course and holds a certificate (its PDF stored in this test's own folder)."""
    from certificates.services import issue_certificate

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_PATH = tmp_path / "signing-key.json"
    grace = UserFactory(username="grace", full_name="Grace Hopper")
    complete_modules(grace, course)
    return issue_certificate(user=grace, course=course)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def healthz(client) -> tuple[int, dict, float]:
    response, elapsed = timed(lambda: client.get("/healthz?workers=0"))
    return response.status_code, response.json(), elapsed


def wait_for(condition, *, timeout: float, what: str, details=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s\n{details()}")


def test_with_redis_down_the_course_keeps_working_and_runs_come_back_with_redis(
        production_redis, celery_worker_process, course, certificate, user, client):
    from django.test import Client

    reader = Client()
    reader.force_login(user)  # the session is written through the (Redis) cache, as in production
    module = course.modules.order_by("order").first()
    lesson_url = module.lesson.get_absolute_url()
    course_url = reverse("course_detail", kwargs={"course_slug": course.slug})
    pdf_url = reverse("certificates:pdf", kwargs={"credential_id": certificate.credential_id})
    worker_logs = celery_worker_process["logs"]

    latest_run = ExperimentRunFactory(succeeded=True)  # the sequence-latency chart module 1 shows

    # All good: the broker answers and a signed-in reader is offered runs.
    status, health, _ = healthz(client)
    assert status == 200 and health["broker"]["ok"] is True, health
    assert "Run on this server</button>" in reader.get(lesson_url).content.decode()
    open_quiz(reader, module)  # warm: opening the quiz form creates the attempt

    production_redis.kill()

    # Reading, quizzes, progress and certificates answer quickly, from PostgreSQL alone.
    pages = {
        "anonymous lesson": lambda: client.get(lesson_url),
        "anonymous course page": lambda: client.get(course_url),
        "signed-in lesson": lambda: reader.get(lesson_url),
        "signed-in course page": lambda: reader.get(course_url),
        "quiz page": lambda: reader.get(quiz_url(module)),
        "quiz submission": lambda: take_quiz(reader, module, follow=False),
        "dashboard": lambda: reader.get(reverse("dashboard")),
        "certificate verification page": lambda: client.get(certificate.get_absolute_url()),
        "certificate PDF": lambda: client.get(pdf_url),
    }
    for name, load in pages.items():
        response, elapsed = timed(load)
        assert response.status_code in (200, 302), f"{name}: {response.status_code}"
        assert elapsed < QUICK_S, f"{name} took {elapsed:.1f} s with Redis down"
    submission = take_quiz(reader, module, follow=False)
    assert submission.status_code == 302 and "/quiz/attempts/" in submission["Location"], submission
    assert reader.get(submission["Location"]).status_code == 200  # the graded result
    assert reader.get(pdf_url).content.startswith(b"%PDF")

    # /healthz says the broker is down, quickly.
    status, health, elapsed = healthz(client)
    assert status == 503 and health["status"] == "degraded"
    assert health["broker"]["ok"] is False and health["database"]["ok"] is True
    assert elapsed < QUICK_S

    # Within the few seconds a web process remembers the broker's health, the panel says runs are unavailable,
    # keeping the latest results; a run request gets a clear 503.
    def panel_says_unavailable() -> str | None:
        response, elapsed = timed(lambda: reader.get(lesson_url))
        assert response.status_code == 200 and elapsed < QUICK_S, (response.status_code, elapsed)
        html = response.content.decode()
        return html if UNAVAILABLE_NOTICE in html else None

    lesson = wait_for(panel_says_unavailable, timeout=selectors.RUNS_AVAILABLE_TTL_S + 1,
                      what="the experiment panel did not say runs are unavailable")
    assert "Run on this server</button>" not in lesson
    assert f"Latest run (#{latest_run.pk}) measured on" in lesson
    response, elapsed = timed(lambda: post_run(reader, "sequence-latency", TINY_LATENCY_PARAMS))
    assert response.status_code == 503
    assert response.json()["error"].startswith("experiment runs are unavailable right now")
    assert response["Retry-After"] == "60"
    assert elapsed < QUICK_S

    production_redis.start()  # same port, empty: nothing survived the crash

    # The same web process, untouched, sees the broker again and queues a run; the worker runs it.
    status, health, _ = healthz(client)
    assert status == 200 and health["broker"]["ok"] is True, health
    response = post_run(reader, "sequence-latency", TINY_LATENCY_PARAMS)
    assert response.status_code == 202, response.content
    assert "Run on this server</button>" in reader.get(lesson_url).content.decode()
    run_id = response.json()["id"]
    run = wait_for(
        lambda: ExperimentRun.objects.filter(pk=run_id, status=ExperimentRun.Status.SUCCEEDED).first(),
        timeout=180, what=f"run {run_id} did not succeed on the worker that lived through the outage",
        details=lambda: f"{ExperimentRun.objects.get(pk=run_id).__dict__}\nworker log:\n{worker_logs()[-4000:]}",
    )
    assert run.result["table"]["rows"]
