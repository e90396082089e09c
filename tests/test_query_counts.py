"""The query budget: the lesson, course and certificate verification pages cost a constant number of SQL
queries, whatever the number of modules. (The quiz pages' own counts are specified by the quizzes app in
tests/quizzes/test_answer_key_safety.py.)

Each page is fetched for a course of 7 modules and again for one of 20: the counts must be equal and stay under
a fixed ceiling. Warm views only: the first view of a lesson may refresh its render cache and record the read.
"""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from certificates.services import issue_certificate
from quizzes.models import ModuleProgress
from tests.support.factories import UserFactory, make_course

pytestmark = pytest.mark.django_db

COURSE_URL = "/courses/transformers-architecture/"
# Ceilings: today's counts plus one, so a page may lose a query without a test edit but never grow unnoticed.
# Anonymous: the lesson (with module and course) + the published modules (with lesson and quiz).
LESSON_PAGE_ANONYMOUS = 3
COURSE_PAGE_ANONYMOUS = 3
# Signed in (sessions come from the cache): the user and the learner's progress rows; the lesson rows are this
# process's copy, and the read is recorded on the first visit only. The course page reads its rows each time.
LESSON_PAGE_SIGNED_IN = 3
COURSE_PAGE_SIGNED_IN = 5
VERIFICATION_PAGE = 3


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    """The budgets are for rendering the pages; a whole-page cache hit (tests/test_page_cache.py) costs none."""
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Certificates write their PDF: to this test's own folder, never the developer's .var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_PATH = tmp_path / "signing-key.json"


def _queries(client, url: str) -> int:
    client.get(url)  # warm: the render cache, the read record, the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _page_counts(client, modules: int) -> dict[str, int]:
    course = make_course(modules=modules)
    middle = course.modules.get(order=modules // 2).lesson
    counts = {"course": _queries(client, COURSE_URL), "lesson": _queries(client, f"{COURSE_URL}{middle.slug}/")}
    course.delete()
    return counts


def test_anonymous_course_and_lesson_pages_cost_the_same_queries_for_7_or_20_modules(client):
    seven, twenty = _page_counts(client, 7), _page_counts(client, 20)
    assert seven == twenty
    assert seven["course"] <= COURSE_PAGE_ANONYMOUS, seven
    assert seven["lesson"] <= LESSON_PAGE_ANONYMOUS, seven


def test_signed_in_course_and_lesson_pages_cost_the_same_queries_for_7_or_20_modules(client):
    client.force_login(UserFactory())
    seven, twenty = _page_counts(client, 7), _page_counts(client, 20)
    assert seven == twenty
    assert seven["course"] <= COURSE_PAGE_SIGNED_IN, seven
    assert seven["lesson"] <= LESSON_PAGE_SIGNED_IN, seven


@pytest.mark.parametrize("modules", [7, 20])
def test_lesson_and_course_pages_stay_within_their_query_budget(client, modules, django_assert_max_num_queries):
    course = make_course(modules=modules)
    url = f"{COURSE_URL}{course.modules.get(order=modules).lesson.slug}/"
    client.force_login(UserFactory())
    client.get(url)
    with django_assert_max_num_queries(LESSON_PAGE_SIGNED_IN):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(COURSE_PAGE_SIGNED_IN):
        assert client.get(COURSE_URL).status_code == 200


def _certificate_for_a_course_of(modules: int):
    course = make_course(modules=modules)
    user = UserFactory(full_name="Grace Hopper")
    now = timezone.now()
    for module in course.modules.all():
        ModuleProgress.objects.create(user=user, module=module, read_at=now, completed_at=now, attempts=1,
                                      best_score=5, best_total=5)
    return issue_certificate(user=user, course=course)


@pytest.mark.parametrize("modules", [7, 20])
def test_verification_page_costs_the_same_queries_whatever_the_number_of_modules(
    client, modules, django_assert_max_num_queries
):
    certificate = _certificate_for_a_course_of(modules)
    url = certificate.get_absolute_url()
    with django_assert_max_num_queries(VERIFICATION_PAGE):
        response = client.get(url)
    assert response.status_code == 200
    assert "Grace Hopper" in response.content.decode()


def test_verification_page_query_count_is_equal_for_7_and_20_modules(client):
    counts = {}
    for modules in (7, 20):
        certificate = _certificate_for_a_course_of(modules)
        counts[modules] = _queries(client, certificate.get_absolute_url())
        certificate.delete()
        certificate.course.delete()
    assert counts[7] == counts[20], counts
