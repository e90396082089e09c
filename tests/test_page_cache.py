"""The whole-page cache for anonymous readers (core/page_cache.py): fast, and never wrong or personal."""
from __future__ import annotations

import socket
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.services import revoke_certificate
from core.cache import ResilientRedisCache
from experiments import services as experiment_services
from lessons.models import Lesson
from tests.support.factories import SMALL_FIGURE, SMALL_RESULT, ExperimentRunFactory

pytestmark = pytest.mark.django_db

LESSON_URL = "/courses/transformers-architecture/the-problem-with-rnns/"
COURSE_URL = "/courses/transformers-architecture/"


@pytest.fixture(autouse=True)
def _page_cache_on(settings, tmp_path):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 60
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_PATH = tmp_path / "signing-key.json"


def fetch_twice(client, url: str):
    """The first view stores the page (after the first view ever has started a generation); the next is a hit."""
    client.get(url)
    client.get(url)
    return client.get(url)


def test_an_anonymous_reader_gets_the_lesson_from_the_cache_without_a_query(client, course):
    fetch_twice(client, LESSON_URL)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LESSON_URL)
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "hit"
    assert len(queries) == 0
    assert "<h1>" in response.content.decode()


def test_a_cached_page_keeps_the_security_headers(client, course):
    response = fetch_twice(client, LESSON_URL)
    assert response["X-Page-Cache"] == "hit"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]


def test_signed_in_readers_never_get_the_anonymous_copy(signed_in_client, course):
    fetch_twice(Client(), LESSON_URL)
    response = signed_in_client.get(LESSON_URL)
    assert response.get("X-Page-Cache") != "hit"
    assert "Sign out" in response.content.decode()


def test_an_anonymous_reader_never_gets_a_signed_in_readers_page(signed_in_client, course):
    signed_in_client.get(LESSON_URL)
    signed_in_client.get(LESSON_URL)
    html = fetch_twice(Client(), LESSON_URL).content.decode()
    assert "Sign out" not in html


def test_an_admin_edit_of_a_lesson_shows_at_once(client, course):
    assert fetch_twice(client, LESSON_URL)["X-Page-Cache"] == "hit"
    lesson = Lesson.objects.get(slug="the-problem-with-rnns")
    lesson.body += "\n\nA paragraph the admin added a moment ago.\n"
    lesson.save()
    response = client.get(LESSON_URL)
    assert response["X-Page-Cache"] == "miss"
    assert "A paragraph the admin added a moment ago." in response.content.decode()


def test_a_change_during_a_render_is_not_hidden_by_the_copy_that_render_stores(client, course, monkeypatch):
    fetch_twice(client, COURSE_URL)
    from core import page_cache
    from lessons import views

    original = views.selectors.get_course

    def edit_while_rendering(slug):
        found = original(slug)
        page_cache.invalidate("content")  # an admin saves a lesson while this page is being rendered
        return found

    monkeypatch.setattr(views.selectors, "get_course", edit_while_rendering)
    page_cache.invalidate("content")  # so that the next view renders
    assert client.get(COURSE_URL)["X-Page-Cache"] == "miss"  # stored under the generation it started with
    monkeypatch.setattr(views.selectors, "get_course", original)
    assert client.get(COURSE_URL)["X-Page-Cache"] == "miss"


def test_a_successful_experiment_run_replaces_the_cached_lesson_chart(client, course):
    fetch_twice(client, LESSON_URL)
    run = ExperimentRunFactory(running=True)
    assert fetch_twice(client, LESSON_URL)["X-Page-Cache"] == "hit"
    result = {**SMALL_RESULT, "notes": ["measured just now by the test"]}
    assert experiment_services.complete_run(run_id=run.pk, result=result, figure=dict(SMALL_FIGURE))
    response = client.get(LESSON_URL)
    assert response["X-Page-Cache"] == "miss"
    assert "measured just now by the test" in response.content.decode()


def test_revoking_a_certificate_shows_on_its_cached_verification_page(client, certificate):
    url = reverse("certificates:verify", kwargs={"credential_id": certificate.credential_id})
    first = fetch_twice(client, url)
    assert first["X-Page-Cache"] == "hit"
    assert "Status: valid" in first.content.decode()
    revoke_certificate(certificate=certificate, reason="Issued in error", actor=None)
    html = client.get(url).content.decode()
    assert "Status: valid" not in html
    assert "revoked" in html.lower()


@pytest.mark.parametrize(
    "extra",
    [{"QUERY_STRING": "utm_source=linkedin"}, {"HTTP_COOKIE": "messages=abc"}],
    ids=["query string", "messages cookie"],
)
def test_requests_that_may_differ_bypass_the_cache(client, course, extra):
    fetch_twice(client, LESSON_URL)
    response = client.get(LESSON_URL, **extra)
    assert response.get("X-Page-Cache") != "hit"


def test_pages_that_are_not_marked_are_never_stored(client, course):
    client.get("/accounts/login/")
    response = client.get("/accounts/login/")
    assert "X-Page-Cache" not in response
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_a_marked_page_that_uses_a_csrf_token_is_not_stored(client, course, monkeypatch):
    """A CSRF token belongs to one visitor: a page that printed one must never be served to another."""
    from django.middleware.csrf import get_token

    from lessons import views

    original = views.render

    def render_with_token(request, *args, **kwargs):
        get_token(request)
        return original(request, *args, **kwargs)

    monkeypatch.setattr(views, "render", render_with_token)
    for _ in range(3):
        response = client.get(COURSE_URL)
        assert response["X-Page-Cache"] == "miss"


def test_the_page_cache_can_be_turned_off(client, course, settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    assert "X-Page-Cache" not in fetch_twice(client, LESSON_URL)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_redis_is_an_empty_cache_and_is_not_retried_on_every_call():
    cache = ResilientRedisCache(f"redis://127.0.0.1:{_closed_port()}/0", {})
    started = time.monotonic()
    assert cache.get("page", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set("page", b"html") is None
    assert cache.add("page", b"html") is False
    assert cache.paused()
    for _ in range(1000):
        cache.get("page")
    assert time.monotonic() - started < 2
    with pytest.raises(ValueError):
        cache.incr("counter")


def test_pages_and_sign_in_keep_working_while_the_cache_server_is_down(client, course, settings, user):
    # Production's cache backend, pointed at a port nothing listens on (the settings fixture resets the cache
    # handler, and `django.core.cache.cache` follows it).
    settings.CACHES = {"default": {"BACKEND": "core.cache.ResilientRedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0"}}
    for _ in range(3):
        assert client.get(LESSON_URL).status_code == 200
    client.force_login(user)
    response = client.get(LESSON_URL)
    assert response.status_code == 200
    assert "Sign out" in response.content.decode()


def test_signed_in_readers_see_admin_edits_of_lessons_and_questions_at_once(signed_in_client, course):
    """Lesson rows and quiz structures are kept per process (ProcessCopies) under the same generation."""
    from quizzes.models import Question

    quiz_url = LESSON_URL + "quiz/"
    signed_in_client.get(LESSON_URL)
    signed_in_client.get(quiz_url)
    lesson = Lesson.objects.get(slug="the-problem-with-rnns")
    lesson.body += "\n\nAn afterword the admin wrote for signed-in readers.\n"
    lesson.save()
    assert "An afterword the admin wrote" in signed_in_client.get(LESSON_URL).content.decode()
    question = Question.objects.filter(quiz__module=lesson.module).order_by("order").first()
    question.prompt = "Which reworded question does the admin want answered?"
    question.save()
    assert "Which reworded question does the admin want answered?" in signed_in_client.get(quiz_url).content.decode()


def test_a_change_renews_the_generation_again_when_it_commits(course, django_capture_on_commit_callbacks):
    """A reader between the save and the commit still sees the old rows: what it stores must not stay current."""
    from core import page_cache

    lesson = Lesson.objects.get(slug="the-problem-with-rnns")
    with django_capture_on_commit_callbacks(execute=True):
        lesson.body += "\n\nEdited inside a transaction.\n"
        lesson.save()
        between_save_and_commit = page_cache.current_generation("content")
    assert page_cache.current_generation("content") != between_save_and_commit
