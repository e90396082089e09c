"""Resume where you stopped: the lesson script reports the section in view; course and home pages offer "Continue"."""
from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from quizzes.models import ModuleProgress
from tests.support.factories import UserFactory, make_course, make_module

pytestmark = pytest.mark.django_db

ENDPOINT = "/progress/position/"


@pytest.fixture
def course(db):
    course = make_course(modules=2)
    make_module(course=course, order=3, questions=None)
    lesson = course.modules.get(order=2).lesson
    lesson.body = "## Queries and keys\n\nText.\n\n### Scaling the scores\n\nMore text.\n\n## Softmax\n\nEnd."
    lesson.save()
    return course


def lesson_of(course, order):
    return course.modules.get(order=order).lesson


def continue_links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<p class="continue-reading"><a class="button" href="([^"]+)">([^<]+)</a>', html)


def csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def post_with_token(client: Client, data: dict):
    # What the script does: the token of the page's forms, sent in the body (sendBeacon cannot set headers).
    client.get("/")
    token = client.cookies["csrftoken"].value
    return client.post(ENDPOINT, {**data, "csrfmiddlewaretoken": token})


def test_the_endpoint_is_the_one_the_script_is_given():
    assert reverse("reading_position") == ENDPOINT


def test_a_section_of_a_lesson_is_recorded_with_one_row_per_reader_and_module(user, course):
    client = csrf_client(user)
    lesson = lesson_of(course, 2)
    response = post_with_token(client, {"lesson": lesson.slug, "section": "scaling-the-scores"})
    assert response.status_code == 204
    assert response.content == b""
    post_with_token(client, {"lesson": lesson.slug, "section": "softmax"})
    rows = ModuleProgress.objects.filter(user=user, module=lesson.module)
    assert rows.count() == 1
    row = rows.get()
    assert row.last_section == "softmax" and row.last_seen_at is not None
    assert row.read_at is not None  # reporting a position means the reader opened the lesson


def test_recording_a_position_keeps_the_rest_of_the_progress(user, course):
    lesson = lesson_of(course, 2)
    csrf_client(user).get(lesson.get_absolute_url())
    first_read = ModuleProgress.objects.get(user=user, module=lesson.module).read_at
    post_with_token(csrf_client(user), {"lesson": lesson.slug, "section": "softmax"})
    row = ModuleProgress.objects.get(user=user, module=lesson.module)
    assert row.read_at == first_read and row.attempts == 0 and row.completed_at is None


def test_recording_an_existing_position_is_a_single_update(signed_in_client, user, course, django_assert_max_num_queries):
    lesson = lesson_of(course, 2)
    signed_in_client.get(lesson.get_absolute_url())  # creates the progress row
    lesson = type(lesson).objects.only("id", "module_id", "toc").get(pk=lesson.pk)
    from quizzes.services import record_reading_position

    with django_assert_max_num_queries(1):
        record_reading_position(user=user, lesson=lesson, anchor="softmax")


def test_an_unknown_lesson_is_not_found(user, course):
    response = post_with_token(csrf_client(user), {"lesson": "no-such-lesson", "section": "softmax"})
    assert response.status_code == 404
    assert not ModuleProgress.objects.filter(last_seen_at__isnull=False).exists()


def test_an_unpublished_lesson_is_not_found(user, course):
    lesson = lesson_of(course, 2)
    type(lesson.module).objects.filter(pk=lesson.module_id).update(published=False)
    response = post_with_token(csrf_client(user), {"lesson": lesson.slug, "section": "softmax"})
    assert response.status_code == 404


@pytest.mark.parametrize("section", ["not-a-heading", "", "section-1"])
def test_a_section_not_in_the_lessons_table_of_contents_is_refused(user, course, section):
    # "section-1" is a heading of another lesson, not of this one.
    response = post_with_token(csrf_client(user), {"lesson": lesson_of(course, 2).slug, "section": section})
    assert response.status_code == 400
    assert not ModuleProgress.objects.filter(last_seen_at__isnull=False).exists()


def test_an_anonymous_reader_is_refused(course):
    client = Client(enforce_csrf_checks=True)
    client.get("/")
    response = client.post(
        ENDPOINT,
        {"lesson": lesson_of(course, 2).slug, "section": "softmax", "csrfmiddlewaretoken": "x" * 32},
    )
    assert response.status_code == 403
    assert not ModuleProgress.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(user, course):
    response = csrf_client(user).post(ENDPOINT, {"lesson": lesson_of(course, 2).slug, "section": "softmax"})
    assert response.status_code == 403
    assert not ModuleProgress.objects.filter(last_seen_at__isnull=False).exists()


def test_only_post_is_accepted(signed_in_client, course):
    assert signed_in_client.get(ENDPOINT).status_code == 405


def test_a_runaway_client_is_throttled(signed_in_client, course, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "reading_position": {"user": "3/h"}}
    data = {"lesson": lesson_of(course, 2).slug, "section": "softmax"}
    codes = [signed_in_client.post(ENDPOINT, data).status_code for _ in range(4)]
    assert codes == [204, 204, 204, 429]


def test_course_and_home_pages_offer_the_most_recent_position(signed_in_client, user, course):
    signed_in_client.post(ENDPOINT, {"lesson": lesson_of(course, 1).slug, "section": "section-1"})
    signed_in_client.post(ENDPOINT, {"lesson": lesson_of(course, 2).slug, "section": "scaling-the-scores"})
    expected = [(lesson_of(course, 2).get_absolute_url() + "#scaling-the-scores",
                 "Continue: module 2, section Scaling the scores")]
    assert continue_links(signed_in_client.get(course.get_absolute_url()).content.decode()) == expected
    assert continue_links(signed_in_client.get("/").content.decode()) == expected

    signed_in_client.post(ENDPOINT, {"lesson": lesson_of(course, 1).slug, "section": "section-1"})
    assert continue_links(signed_in_client.get("/").content.decode()) == [
        (lesson_of(course, 1).get_absolute_url() + "#section-1", "Continue: module 1, section Section 1")
    ]


def test_no_continue_link_without_a_recorded_position(signed_in_client, course):
    assert continue_links(signed_in_client.get(course.get_absolute_url()).content.decode()) == []
    assert continue_links(signed_in_client.get("/").content.decode()) == []


def test_another_reader_and_an_anonymous_reader_never_see_someones_position(client, user, course):
    ModuleProgress.objects.create(user=user, module=lesson_of(course, 2).module, last_section="softmax",
                                  last_seen_at="2026-01-01T00:00Z")
    reader = Client()
    reader.force_login(user)
    assert continue_links(reader.get("/").content.decode())  # the position is there for its reader

    other = Client()
    other.force_login(UserFactory(username="grace"))
    for url in ("/", course.get_absolute_url()):
        assert continue_links(other.get(url).content.decode()) == []
        assert continue_links(client.get(url).content.decode()) == []  # anonymous, and the cached copy
        assert continue_links(client.get(url).content.decode()) == []


def test_a_section_removed_since_still_offers_the_lesson(signed_in_client, user, course):
    lesson = lesson_of(course, 2)
    signed_in_client.post(ENDPOINT, {"lesson": lesson.slug, "section": "softmax"})
    lesson.body = "## Queries and keys\n\nText."
    lesson.save()
    assert continue_links(signed_in_client.get(course.get_absolute_url()).content.decode()) == [
        (lesson.get_absolute_url(), "Continue: module 2")
    ]


def test_a_position_in_an_unpublished_module_is_not_offered(signed_in_client, course):
    lesson = lesson_of(course, 2)
    signed_in_client.post(ENDPOINT, {"lesson": lesson.slug, "section": "softmax"})
    type(lesson.module).objects.filter(pk=lesson.module_id).update(published=False)
    assert continue_links(signed_in_client.get("/").content.decode()) == []


def test_the_signed_in_lesson_page_loads_the_script_with_the_same_attributes_for_every_reader(course):
    lesson = lesson_of(course, 2)
    pages = []
    for name in ("ada", "grace"):
        client = Client()
        client.force_login(UserFactory(username=name))
        pages.append(client.get(lesson.get_absolute_url()).content.decode())
    tags = [re.findall(r'<script src="[^"]*reading-position[^"]*"[^>]*>', html) for html in pages]
    assert len(tags[0]) == 1 and tags[0] == tags[1]
    assert f'data-lesson="{lesson.slug}"' in tags[0][0] and f'data-endpoint="{ENDPOINT}"' in tags[0][0]
    assert 'name="csrfmiddlewaretoken"' in pages[0]  # the token the script sends


def test_the_anonymous_lesson_page_does_not_load_the_script(client, course):
    assert "reading-position" not in client.get(lesson_of(course, 2).get_absolute_url()).content.decode()


def test_the_account_export_includes_the_reading_position(signed_in_client, user, course):
    from accounts.services import export_account_data

    signed_in_client.post(ENDPOINT, {"lesson": lesson_of(course, 2).slug, "section": "softmax"})
    (row,) = [p for p in export_account_data(user=user)["progress"] if p["last_section"]]
    assert row["module"] == "Topic 2" and row["last_section"] == "softmax" and row["last_seen_at"]
