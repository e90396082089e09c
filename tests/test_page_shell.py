"""Signed-in lesson pages from a shared shell (core/page_shell.py, lessons/views.py): as fast as a cached page,
yet every reader sees only their own name, progress, runs and CSRF token, and edits show at once."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from experiments import services as experiment_services
from lessons.models import Lesson
from quizzes.models import ModuleProgress
from tests.support.factories import SMALL_FIGURE, SMALL_RESULT, ExperimentRunFactory, UserFactory

pytestmark = pytest.mark.django_db

COURSE = "/courses/transformers-architecture/"
PANEL_LESSON = COURSE + "the-problem-with-rnns/"  # module 1: three experiment panels
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


@pytest.fixture(autouse=True)
def _shells_on(settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 60


def reader(full_name: str, username: str) -> Client:
    client = Client()
    client.force_login(UserFactory(full_name=full_name, username=username, email=f"{username}@example.com"))
    return client


@pytest.fixture
def ada() -> Client:
    return reader("Ada Lovelace", "ada")


@pytest.fixture
def grace() -> Client:
    return reader("Grace Hopper", "grace")


def html_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def other_lesson_url(course) -> str:
    module = course.modules.get(order=3)
    return f"{COURSE}{module.lesson.slug}/"


def test_the_second_signed_in_reader_gets_the_shared_shell_without_rendering_the_lesson(ada, grace, course):
    url = other_lesson_url(course)
    assert ada.get(url)["X-Page-Shell"] == "miss"
    grace.get(url)  # her first visit records the read
    with CaptureQueriesContext(connection) as queries:
        response = grace.get(url)
    assert response["X-Page-Shell"] == "hit"
    assert "<h1>" in html_of(response) and "Sign out" in html_of(response)
    # The user (sessions come from the cache), whether the reader has a run of the page's experiments in progress,
    # and the reader's progress rows: nothing of the lesson itself.
    assert len(queries) <= 3, [q["sql"] for q in queries]


def test_two_readers_never_see_each_others_name_progress_marks_runs_or_csrf_token(ada, grace, course):
    ada_user = ada.session["_auth_user_id"]
    module = course.modules.get(order=1)
    ModuleProgress.objects.create(user_id=ada_user, module=module, read_at=timezone.now(),
                                  completed_at=timezone.now(), attempts=3, best_score=4, best_total=5)
    run = ExperimentRunFactory(running=True, started_by_id=ada_user, experiment="sequence-latency")

    ada_first = html_of(ada.get(PANEL_LESSON))
    grace_page = grace.get(PANEL_LESSON)
    ada_again = ada.get(PANEL_LESSON)
    grace_again = grace.get(PANEL_LESSON)

    assert f"Your run #{run.pk}" in ada_first and "best score 4/5, 3 attempts" in ada_first
    assert ada_again["X-Page-Shell"] == "private"  # her own run is on the page: never shared
    assert grace_again["X-Page-Shell"] == "hit"
    ada_tokens = set(CSRF_INPUT.findall(ada_first)) | set(CSRF_INPUT.findall(html_of(ada_again)))
    for page in (html_of(grace_page), html_of(grace_again)):
        for secret in ("Ada Lovelace", "ada@example.com", f"Your run #{run.pk}", run.get_absolute_url(),
                       "best score 4/5", "status--passed"):
            assert secret not in page
        assert not ada_tokens & set(CSRF_INPUT.findall(page))
        assert "Grace Hopper" not in page  # nobody's name is part of the lesson page
    grace_tokens = set(CSRF_INPUT.findall(html_of(grace_again)))
    assert grace_tokens and not grace_tokens & set(CSRF_INPUT.findall(html_of(ada_again)))


def test_each_reader_sees_their_own_progress_mark_on_the_shared_page(ada, grace, course):
    url = other_lesson_url(course)
    module = course.modules.get(order=3)
    ada.get(url)
    ModuleProgress.objects.filter(module=module).update(completed_at=timezone.now(), attempts=1, best_score=5,
                                                        best_total=5)
    grace_page = html_of(grace.get(url))
    ada_page = ada.get(url)
    assert ada_page["X-Page-Shell"] == "hit"
    assert "status--passed" in html_of(ada_page) and "best score 5/5, 1 attempt" in html_of(ada_page)
    assert "status--read" in grace_page and "status--passed" not in grace_page and "best score 5/5" not in grace_page


def test_the_forms_of_a_shared_page_carry_the_readers_own_valid_csrf_token(grace, course):
    """Without JavaScript the page is plain forms: sign out must work with the token the shared page carries."""
    grace.get(PANEL_LESSON)
    response = grace.get(PANEL_LESSON)
    assert response["X-Page-Shell"] == "hit"
    html = html_of(response)
    tokens = CSRF_INPUT.findall(html)
    assert len(tokens) >= 2  # sign out and the experiments' Run forms
    assert 'method="post" action="/experiments/runs/"' in html and "page-shell-hole" not in html
    grace.handler.enforce_csrf_checks = True
    assert grace.post("/accounts/logout/", {"csrfmiddlewaretoken": tokens[-1]}).status_code == 302
    assert "Sign out" not in grace.get(PANEL_LESSON).content.decode()


def test_an_admin_edit_shows_at_once_to_signed_in_readers(grace, course):
    url = other_lesson_url(course)
    grace.get(url)
    assert grace.get(url)["X-Page-Shell"] == "hit"
    lesson = Lesson.objects.get(module__order=3, module__course=course)
    lesson.body += "\n\nA paragraph the admin added a moment ago.\n"
    lesson.save()
    response = grace.get(url)
    assert response["X-Page-Shell"] == "miss"
    assert "A paragraph the admin added a moment ago." in html_of(response)


def test_a_new_run_shows_its_chart_at_once_to_signed_in_readers(grace, course):
    run = ExperimentRunFactory(running=True)
    grace.get(PANEL_LESSON)
    assert grace.get(PANEL_LESSON)["X-Page-Shell"] == "hit"
    result = {**SMALL_RESULT, "notes": ["measured a moment ago by the test"]}
    assert experiment_services.complete_run(run_id=run.pk, result=result, figure=dict(SMALL_FIGURE))
    assert "measured a moment ago by the test" in html_of(grace.get(PANEL_LESSON))


def test_the_message_after_a_run_form_post_is_shown_to_its_reader_only(ada, grace, course):
    """The Run form without JavaScript: a plain POST, then the lesson again with the outcome as a message."""
    grace.get(PANEL_LESSON)
    posted = ada.post("/experiments/runs/", {"experiment": "no-such-experiment", "next": PANEL_LESSON})
    assert posted.status_code == 302
    ada_page = ada.get(PANEL_LESSON)
    assert ada_page["X-Page-Shell"] == "private"
    assert "Unknown experiment" in html_of(ada_page)
    assert "Unknown experiment" not in html_of(grace.get(PANEL_LESSON))
    assert "Unknown experiment" not in html_of(ada.get(PANEL_LESSON))  # shown once


def test_with_the_cache_turned_off_pages_are_rendered_for_each_request(grace, course, settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    url = other_lesson_url(course)
    grace.get(url)
    response = grace.get(url)
    assert response["X-Page-Shell"] == "miss" and "Sign out" in html_of(response)

