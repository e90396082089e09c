"""Taking a quiz requires an account; anonymous visitors are shown the way in and brought back."""
from __future__ import annotations

import pytest

from quizzes.models import Attempt, Choice
from tests.support.factories import make_course
from tests.support.quizzes import parse_quiz_form, quiz_url, take_quiz

pytestmark = pytest.mark.django_db


@pytest.fixture
def module(db):
    return make_course(modules=1).modules.get()


def test_a_visitor_is_told_an_attempt_asks_five_questions_from_a_larger_bank(client):
    module = make_course(modules=1, questions=12, cooloff_minutes=10).modules.get()
    html = client.get(quiz_url(module)).content.decode()
    assert "Each attempt asks 5 multiple-choice questions, drawn from a bank of 12." in html
    assert "retakes are unlimited (10 minutes after a failed attempt)" in html


def test_an_anonymous_visitor_sees_the_question_count_and_a_sign_in_link_back_to_the_quiz(client, module):
    url = quiz_url(module)
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Each attempt asks 5 multiple-choice questions." in html
    assert f'href="/accounts/login/?next={url}"' in html
    assert f'href="/accounts/signup/?next={url}"' in html
    assert "<fieldset" not in html
    for text in Choice.objects.values_list("text", flat=True):
        assert text not in html
    assert not Attempt.objects.exists()


def test_an_anonymous_post_is_redirected_to_sign_in_and_records_nothing(client, module):
    response = client.post(quiz_url(module), {"attempt": "1"})
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={quiz_url(module)}"
    assert not Attempt.objects.exists()


def test_signing_in_from_the_prompt_returns_to_the_quiz(client, user, module):
    url = quiz_url(module)
    response = client.post(
        f"/accounts/login/?next={url}",
        {"username": "ada", "password": "correct horse battery staple", "next": url},
    )
    assert response.status_code == 302 and response.url == url
    form = parse_quiz_form(client.get(response.url).content.decode())
    assert len(form.questions) == 5


def test_the_result_page_requires_signing_in(signed_in_client, module):
    result_url = take_quiz(signed_in_client, module, follow=False).url
    signed_in_client.logout()
    response = signed_in_client.get(result_url)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/?next=")
