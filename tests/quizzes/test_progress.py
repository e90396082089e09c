"""Progress: read, completed, best score and attempts, the same on every page; the dashboard; the signal."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser

from lessons.selectors import published_modules
from quizzes.models import ModuleProgress
from quizzes.selectors import course_progress
from quizzes.signals import course_completed
from tests.support.factories import make_course, make_module
from tests.support.quizzes import quiz_url, take_quiz

pytestmark = pytest.mark.django_db

COURSE_URL = "/courses/transformers-architecture/"


@pytest.fixture
def course(db):
    return make_course(modules=7)


def modules_of(course):
    return list(course.modules.order_by("order").select_related("lesson"))


@pytest.fixture
def completions():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    course_completed.connect(receiver, dispatch_uid="test-completions")
    yield received
    course_completed.disconnect(dispatch_uid="test-completions")


def _status_text(html: str) -> list[str]:
    return re.findall(r'class="status status--\w+">([^<]+)<', html)


def test_opening_a_lesson_marks_its_module_read(signed_in_client, user, course):
    module = modules_of(course)[0]
    assert signed_in_client.get(module.lesson.get_absolute_url()).status_code == 200
    progress = ModuleProgress.objects.get(user=user, module=module)
    assert progress.read_at is not None and progress.completed_at is None
    first_read = progress.read_at
    signed_in_client.get(module.lesson.get_absolute_url())
    progress.refresh_from_db()
    assert progress.read_at == first_read


def test_an_anonymous_visit_records_nothing(client, course):
    client.get(modules_of(course)[0].lesson.get_absolute_url())
    assert not ModuleProgress.objects.exists()


def test_course_page_lesson_page_and_dashboard_show_the_same_status(signed_in_client, course):
    first, second, third = modules_of(course)[:3]
    take_quiz(signed_in_client, first, right=5)
    take_quiz(signed_in_client, first, right=2)
    signed_in_client.get(second.lesson.get_absolute_url())
    take_quiz(signed_in_client, third, right=1)

    course_html = signed_in_client.get(COURSE_URL).content.decode()
    assert _status_text(course_html) == ["Completed", "Read", "Quiz not passed yet", "Not started", "Not started",
                                         "Not started", "Not started"]
    assert "best score 5/5, 2 attempts" in course_html
    assert "best score 1/5, 1 attempt<" in course_html
    assert "1 of 7 modules done" in course_html
    assert '<progress class="course-progress__bar" value="1" max="7"' in course_html

    for module, expected in ((first, "Completed"), (second, "Read"), (third, "Quiz not passed yet")):
        lesson_html = signed_in_client.get(module.lesson.get_absolute_url()).content.decode()
        assert _status_text(lesson_html)[0] == expected
        assert "1 of 7 modules done" in lesson_html

    dashboard = signed_in_client.get("/dashboard/").content.decode()
    assert _status_text(dashboard)[:7] == ["Completed", "Read", "Quiz not passed yet", "Not started", "Not started",
                                       "Not started", "Not started"]
    rows = re.findall(r"<tr>(.*?)</tr>", dashboard, re.S)[1:]
    assert "5/5" in rows[0] and '<td data-label="Attempts">2</td>' in rows[0]
    assert "1/5" in rows[2] and '<td data-label="Attempts">1</td>' in rows[2]
    assert "(best 1/5)" in rows[2]


def test_a_failed_quiz_is_not_shown_as_merely_read(signed_in_client, course):
    module = modules_of(course)[0]
    signed_in_client.get(module.lesson.get_absolute_url())
    take_quiz(signed_in_client, module, right=0)
    dashboard = signed_in_client.get("/dashboard/").content.decode()
    assert _status_text(dashboard)[0] == "Quiz not passed yet"
    assert "(best 0/5)" in dashboard


def test_the_lesson_page_ends_with_a_take_the_quiz_call_to_action(client, signed_in_client, course):
    module = modules_of(course)[0]
    for visitor in (client, signed_in_client):
        html = visitor.get(module.lesson.get_absolute_url()).content.decode()
        assert "Take the quiz" in html
        assert f'href="{quiz_url(module)}"' in html
        assert html.index("Take the quiz") > html.index('class="prose"')


def test_a_module_without_a_published_quiz_has_no_call_to_action(signed_in_client, course):
    module = make_module(course=course, order=8, questions=None)
    html = signed_in_client.get(module.lesson.get_absolute_url()).content.decode()
    assert "Take the quiz" not in html


def test_dashboard_after_passing_one_module(signed_in_client, course):
    take_quiz(signed_in_client, modules_of(course)[0])
    html = signed_in_client.get("/dashboard/").content.decode()
    assert "1 of 7 modules done" in html
    assert '<progress class="course-progress__bar" value="1" max="7"' in html
    for module in modules_of(course)[1:]:
        assert f"Pass the quiz of module {module.order}: {module.title}" in html
    assert "Pass the quiz of module 1:" not in html
    assert "Still missing for your certificate" in html


def test_dashboard_after_passing_all_seven_modules(signed_in_client, course, completions):
    for module in modules_of(course):
        take_quiz(signed_in_client, module)
    html = signed_in_client.get("/dashboard/").content.decode()
    assert "All 7 modules completed" in html
    assert '<progress class="course-progress__bar" value="7" max="7"' in html
    assert "Pass the quiz of" not in html
    assert "Nothing is missing" in html
    assert _status_text(html)[:7] == ["Completed"] * 7
    assert len(completions) == 1


def test_the_result_page_counts_modules_done_until_the_last_one_completes_the_course(signed_in_client, course):
    modules = modules_of(course)
    for done, module in enumerate(modules[:-1], start=1):
        html = take_quiz(signed_in_client, module).content.decode()
        assert f"{done} of 7 modules done" in html
    html = take_quiz(signed_in_client, modules[-1]).content.decode()
    assert "Course completed" in html and "You have completed all 7 modules" in html


def test_course_completed_is_sent_once_on_completion_then_on_each_later_pass(signed_in_client, user, course,
                                                                              completions):
    modules = modules_of(course)
    for module in modules[:-1]:
        take_quiz(signed_in_client, module)
    take_quiz(signed_in_client, modules[-1], right=3)
    assert completions == []
    take_quiz(signed_in_client, modules[-1])
    assert len(completions) == 1
    assert completions[0]["user"] == user and completions[0]["course"] == course
    assert completions[0]["newly_completed"] is True and completions[0]["attempt"].passed
    take_quiz(signed_in_client, modules[0], right=2)  # a failed retake: the course stays complete, no signal
    assert len(completions) == 1
    take_quiz(signed_in_client, modules[0])
    assert len(completions) == 2 and completions[1]["newly_completed"] is False


def test_a_failing_receiver_does_not_undo_the_pass(signed_in_client, course, caplog):
    def broken(sender, **kwargs):
        ModuleProgress.objects.all().delete()  # a partial write that must be rolled back
        raise RuntimeError("certificate service down")

    course_completed.connect(broken, dispatch_uid="test-broken")
    try:
        for module in modules_of(course):
            response = take_quiz(signed_in_client, module)
    finally:
        course_completed.disconnect(dispatch_uid="test-broken")
    assert response.status_code == 200 and "Course completed" in response.content.decode()
    assert ModuleProgress.objects.filter(completed_at__isnull=False).count() == 7
    assert "course_completed receiver failed" in caplog.text


def test_anonymous_progress_is_not_started_and_needs_no_queries(course, django_assert_num_queries):
    modules = list(published_modules(course))
    with django_assert_num_queries(0):
        progress = course_progress(user=AnonymousUser(), course=course, modules=modules)
    assert (progress.done, progress.total, progress.is_complete) == (0, 7, False)
    assert {status.state for status in progress.modules} == {"not-started"}
    assert len(progress.missing) == 7


def test_course_progress_for_a_learner_takes_one_query(user, course, django_assert_num_queries):
    modules = list(published_modules(course))
    with django_assert_num_queries(1):
        progress = course_progress(user=user, course=course, modules=modules)
    assert progress.summary == "0 of 7 modules done"


def test_anonymous_visitors_see_a_sign_in_prompt_on_the_course_page(client, course):
    html = client.get(COURSE_URL).content.decode()
    assert "to track your progress" in html
    assert "status--" not in html


def test_the_dashboard_requires_signing_in(client, course):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/?next=/dashboard/")


def test_the_dashboard_includes_the_certificate_section(signed_in_client, course):
    response = signed_in_client.get("/dashboard/")
    assert "certificates/_dashboard_certificate.html" in [t.name for t in response.templates]


def test_the_quick_completeness_check_agrees_with_the_full_progress(user, django_assert_num_queries):
    """A submission asks only "is the course complete?" (one query); the pages use the full progress."""
    from django.utils import timezone

    from quizzes.selectors import course_is_complete

    course = make_course(modules=3)
    modules = list(course.modules.order_by("order"))
    hidden = make_module(course=course, order=4)
    hidden.published = False
    hidden.save()

    def agree() -> bool:
        with django_assert_num_queries(1):
            quick = course_is_complete(user=user, course=course)
        assert quick == course_progress(user=user, course=course).is_complete
        return quick

    assert agree() is False
    ModuleProgress.objects.create(user=user, module=modules[0], completed_at=timezone.now(), attempts=1)
    ModuleProgress.objects.create(user=user, module=modules[1], read_at=timezone.now(), attempts=2)
    assert agree() is False
    ModuleProgress.objects.create(user=user, module=modules[2], completed_at=timezone.now(), attempts=1)
    assert agree() is False  # module 2 was attempted but never passed
    ModuleProgress.objects.filter(module=modules[1]).update(completed_at=timezone.now())
    assert agree() is True  # the unpublished module does not count
