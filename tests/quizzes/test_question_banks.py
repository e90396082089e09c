"""Each attempt draws five questions from the module's bank: the seed's five first, then across the sections,
least-asked first, so retakes do not repeat one set."""
from __future__ import annotations

from collections import Counter

import pytest

from quizzes.models import Attempt, Question
from quizzes.services import questions_of
from tests.support.factories import UserFactory, make_course
from tests.support.quizzes import open_quiz, take_quiz

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank_module():
    """A module with a bank of 12 questions over 4 sections (3 each); questions 1-5 are the first attempt's."""
    module = make_course(modules=2, questions=12).modules.get(order=1)
    for index, question in enumerate(Question.objects.filter(quiz__module=module).order_by("order")):
        question.section = f"section-{index % 4 + 1}"
        question.first_attempt = index < 5
        question.save()
    return module


def _asked(client, module) -> list[int]:
    open_quiz(client, module)
    attempt = Attempt.objects.filter(submitted_at__isnull=True).get()
    return [entry["question"] for entry in attempt.layout]


def test_a_learners_first_attempt_asks_the_first_attempt_questions(signed_in_client, bank_module):
    first = set(Question.objects.filter(quiz__module=bank_module, first_attempt=True).values_list("pk", flat=True))
    assert set(_asked(signed_in_client, bank_module)) == first


def test_later_attempts_cover_every_section_and_prefer_questions_not_asked_yet(signed_in_client, bank_module):
    take_quiz(signed_in_client, bank_module, right=0)  # the first attempt: questions 1-5
    second = _asked(signed_in_client, bank_module)
    sections = Counter(Question.objects.get(pk=pk).section for pk in second)
    assert set(sections) == {"section-1", "section-2", "section-3", "section-4"}
    first_five = set(Question.objects.filter(quiz__module=bank_module, first_attempt=True).values_list("pk", flat=True))
    assert len(set(second) - first_five) >= 5 - 1  # 7 fresh questions exist: at most one repeat (for coverage)


def test_over_three_attempts_every_question_of_the_bank_is_asked(signed_in_client, bank_module):
    seen = set()
    for _ in range(3):
        seen |= set(_asked(signed_in_client, bank_module))
        take_quiz(signed_in_client, bank_module, right=0)
    assert seen == set(Question.objects.filter(quiz__module=bank_module).values_list("pk", flat=True))


def test_grading_counts_only_the_five_questions_asked(signed_in_client, bank_module):
    take_quiz(signed_in_client, bank_module, right=5)
    attempt = Attempt.objects.get()
    assert (attempt.score, attempt.total, attempt.passed) == (5, 5, True)
    bank = list(Question.objects.filter(quiz__module=bank_module))
    assert len(questions_of(attempt, bank)) == 5


def test_another_learner_starts_with_the_first_attempt_questions_too(client, bank_module):
    first = set(Question.objects.filter(quiz__module=bank_module, first_attempt=True).values_list("pk", flat=True))
    for _ in range(2):
        client.force_login(UserFactory())
        assert set(_asked(client, bank_module)) == first
        client.logout()
        Attempt.objects.filter(submitted_at__isnull=True).delete()
