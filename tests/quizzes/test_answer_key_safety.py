"""The answer key never reaches the browser before a pass, and forged submissions are refused."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quizzes.models import Answer, Attempt, Choice, Question
from tests.support.factories import UserFactory, make_course
from tests.support.quizzes import answers, open_quiz, quiz_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(db):
    return make_course(modules=2)


@pytest.fixture
def module(course):
    return course.modules.get(order=1)


class _AssetParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        for name in ("src", "href"):
            url = attrs.get(name) or ""
            if url.startswith("/static/"):
                self.urls.append(url)


def _static_text(client, url: str) -> str:
    response = client.get(url)
    if response.status_code == 200:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return body.decode("utf-8", "replace")
    path = finders.find(url.removeprefix("/static/"))
    assert path, f"{url} is referenced by the quiz page but does not exist"
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def test_the_quiz_page_and_every_asset_it_loads_carry_no_answer_key(signed_in_client, module):
    response = signed_in_client.get(quiz_url(module))
    html = response.content.decode()
    parser = _AssetParser()
    parser.feed(html)
    assert any(url.endswith(".js") for url in parser.urls) and any(url.endswith(".css") for url in parser.urls)
    texts = {"page": html} | {url: _static_text(signed_in_client, url) for url in parser.urls}
    explanations = list(Question.objects.values_list("explanation", flat=True))
    for where, text in texts.items():
        assert not re.search(r"correct", text, re.IGNORECASE), f"'correct' appears in {where}"
        assert not any(explanation in text for explanation in explanations), f"an explanation appears in {where}"
        assert "is_key" not in text and "review-choice--key" not in text.replace(".review-choice--key", ""), where
    # Choices are sent as opaque per-attempt tokens: no choice id appears at all, so neither the ids nor
    # their authoring order can hint at the right one.
    values = re.findall(r'type="radio" name="question-\d+" id="[^"]+" value="([^"]+)"', html)
    assert len(values) == 20
    choice_ids = {str(pk) for pk in Choice.objects.values_list("pk", flat=True)}
    assert not choice_ids & set(values)
    assert not any(value.isdigit() for value in values)
    assert "data-" not in html.replace("data-quiz-form", "")


def test_the_quiz_page_shows_choice_texts_only(signed_in_client, module):
    form = open_quiz(signed_in_client, module)
    texts = {option.label for question in form.questions for option in question.options}
    assert texts == set(Choice.objects.filter(question__quiz__module=module).values_list("text", flat=True))


def _forge(case: str, form, module, other_quiz_question: Question) -> list[tuple[str, str]]:
    data = answers(form, module)
    first, second = form.questions[0], form.questions[1]
    items = list(data.items())
    if case == "unknown choice":
        data[first.name] = "not-a-token"
    elif case == "choice id instead of token":
        data[first.name] = str(Choice.objects.filter(question__quiz__module=module).first().pk)
    elif case == "choice of another question":
        data[first.name] = second.options[0].value
    elif case == "question of another quiz":
        data[f"question-{other_quiz_question.pk}"] = "whatever"
    elif case == "question id that is not a number":
        data["question-abc"] = first.options[0].value
    elif case == "repeated field":
        return [*items, (first.name, first.options[1].value)]
    elif case == "repeated attempt":
        return [*items, ("attempt", form.attempt)]
    elif case == "no attempt":
        del data["attempt"]
    elif case == "attempt that is not a number":
        data["attempt"] = "1; DROP TABLE"
    return list(data.items())


FORGERIES = [
    "unknown choice", "choice id instead of token", "choice of another question", "question of another quiz",
    "question id that is not a number", "repeated field", "repeated attempt", "no attempt",
    "attempt that is not a number",
]


@pytest.mark.parametrize("case", FORGERIES)
def test_a_forged_post_is_refused_with_a_400_and_records_nothing(signed_in_client, course, module, case):
    other_module = course.modules.get(order=2)
    other_question = Question.objects.filter(quiz__module=other_module).first()
    form = open_quiz(signed_in_client, module)
    items = _forge(case, form, module, other_question)
    body = "&".join(f"{k}={v}" for k, v in items)
    response = signed_in_client.post(quiz_url(module), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400, case
    html = response.content.decode()
    assert "These answers could not be accepted" in html
    assert "Nothing was recorded" in html
    assert not Attempt.objects.filter(submitted_at__isnull=False).exists()
    assert not Answer.objects.exists()


def test_an_attempt_of_another_learner_or_another_quiz_is_refused(signed_in_client, user, course, module):
    form = open_quiz(signed_in_client, module)
    data = answers(form, module)
    other_module = course.modules.get(order=2)
    assert signed_in_client.post(quiz_url(other_module), data).status_code == 400
    signed_in_client.force_login(UserFactory())
    assert signed_in_client.post(quiz_url(module), data).status_code == 400
    assert not Attempt.objects.filter(submitted_at__isnull=False).exists()


def _queries(action) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = action()
    return len(captured), response


@pytest.mark.parametrize("questions", [5, 10])
def test_showing_and_grading_a_quiz_take_a_bounded_number_of_queries(
    client, questions, django_assert_max_num_queries
):
    course = make_course(modules=2, questions=questions)  # two: passing one does not complete the course
    module = course.modules.get(order=1)
    url = quiz_url(module)
    client.force_login(UserFactory())
    with django_assert_max_num_queries(12):
        first_show = client.get(url)
    with django_assert_max_num_queries(10):
        client.get(url)
    form = open_quiz(client, module)
    with django_assert_max_num_queries(20):
        graded = client.post(url, answers(form, module))
    with django_assert_max_num_queries(12):
        result = client.get(graded.url)
    assert first_show.status_code == 200 and graded.status_code == 302 and result.status_code == 200
    assert Answer.objects.count() == min(questions, 5)  # a bank of ten: each attempt asks five


def test_query_counts_are_the_same_for_banks_of_10_and_20_questions(client):
    counts = {}
    for questions in (10, 20):
        course = make_course(modules=2, questions=questions)
        module = course.modules.get(order=1)
        url = quiz_url(module)
        client.force_login(UserFactory())
        show_new, _ = _queries(lambda url=url: client.get(url))
        show_again, _ = _queries(lambda url=url: client.get(url))
        data = answers(open_quiz(client, module), module)
        grade, graded = _queries(lambda url=url, data=data: client.post(url, data))
        result, _ = _queries(lambda graded=graded: client.get(graded.url))
        counts[questions] = {"show new": show_new, "show again": show_again, "grade": grade, "result": result}
        course.delete()
    assert counts[10] == counts[20], counts
