"""Editing quizzes in the admin: nested editing, refused invalid questions, drafts vs published, read-only attempts."""
from __future__ import annotations

import pytest
from django.urls import reverse

from quizzes.models import Attempt, Choice, Question, Quiz
from tests.support.factories import UserFactory, make_course, make_module
from tests.support.quizzes import take_quiz

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(db):
    return make_course(modules=2)


@pytest.fixture
def quiz(course) -> Quiz:
    return Quiz.objects.get(module__order=1)


def _formset(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value is False:
                continue
            data[f"{prefix}-{index}-{key}"] = "on" if value is True else str(value)
    return data


def _choices_post(question: Question, correct_flags: list[bool], *, quiz: Quiz | None = None) -> dict:
    choices = list(question.choices.order_by("order", "id")) if question.pk else []
    rows = []
    for index, flag in enumerate(correct_flags):
        row = {"order": index, "text": f"Choice {index}", "is_correct": flag, "question": question.pk or ""}
        if index < len(choices):
            row["id"] = choices[index].pk
        rows.append(row)
    data = {
        "quiz": (quiz or question.quiz).pk, "order": question.order, "prompt": question.prompt,
        "explanation": question.explanation, "section": question.section,
    }
    return data | _formset("choices", rows, initial=min(len(choices), len(correct_flags)))


def _question_change(admin_client, question: Question, flags: list[bool]):
    url = reverse("admin:quizzes_question_change", args=[question.pk])
    return admin_client.post(url, _choices_post(question, flags))


def test_a_question_with_exactly_one_correct_choice_is_saved(admin_client, quiz):
    question = quiz.questions.first()
    response = _question_change(admin_client, question, [False, True, False, False])
    assert response.status_code == 302
    assert list(question.choices.order_by("order").values_list("is_correct", flat=True)) == [False, True, False, False]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ([False, False, False, False], "Exactly one choice must be marked correct; 0 are marked."),
        ([True, True, False, False], "Exactly one choice must be marked correct; 2 are marked."),
    ],
)
def test_a_question_without_exactly_one_correct_choice_is_refused(admin_client, quiz, flags, message):
    question = quiz.questions.first()
    before = list(question.choices.values_list("text", "is_correct"))
    response = _question_change(admin_client, question, flags)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(question.choices.values_list("text", "is_correct")) == before


def test_a_question_with_fewer_than_two_choices_is_refused(admin_client, quiz):
    question = quiz.questions.first()
    data = _choices_post(question, [True, False, False, False])
    for index in (1, 2, 3):
        data[f"choices-{index}-DELETE"] = "on"
    response = admin_client.post(reverse("admin:quizzes_question_change", args=[question.pk]), data)
    assert response.status_code == 200
    assert "A question needs at least two choices." in response.content.decode()
    assert question.choices.count() == 4


def test_a_new_question_can_be_added_with_its_choices_to_a_draft(admin_client, course):
    module = make_module(course=course, order=5, questions=0, published=False)
    question = Question(quiz=module.quiz, order=0, prompt="New?", explanation="Because.")
    response = admin_client.post(reverse("admin:quizzes_question_add"), _choices_post(question, [False, True]))
    assert response.status_code == 302
    created = Question.objects.get(prompt="New?")
    assert created.choices.count() == 2 and created.choices.get(is_correct=True).text == "Choice 1"


def test_a_published_quiz_bank_can_grow_with_valid_questions(admin_client, quiz):
    question = Question(quiz=quiz, order=6, prompt="Sixth?", explanation="Because.")
    response = admin_client.post(reverse("admin:quizzes_question_add"), _choices_post(question, [True, False]))
    assert response.status_code == 302
    assert quiz.questions.count() == 6


def test_a_question_of_a_published_quiz_is_deleted_only_while_the_bank_keeps_five(admin_client, quiz):
    def delete_page(question: Question) -> int:
        return admin_client.get(reverse("admin:quizzes_question_delete", args=[question.pk])).status_code

    fifth = quiz.questions.order_by("order").last()
    assert quiz.questions.count() == 5
    assert delete_page(fifth) == 403

    Question.objects.create(quiz=quiz, order=6, prompt="Sixth?", explanation="Because.")
    assert delete_page(fifth) == 200

    fifth.first_attempt = True
    fifth.save(update_fields=["first_attempt"])
    assert delete_page(fifth) == 403, "the first attempt's questions stay while the quiz is published"


def test_a_published_quiz_keeps_five_first_attempt_questions_or_none(admin_client, quiz):
    url = reverse("admin:quizzes_quiz_change", args=[quiz.pk])
    data = _quiz_post(quiz, published=True)
    data["questions-0-first_attempt"] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Mark exactly 5 questions (or none) as the first attempt" in response.content.decode()


def _quiz_post(quiz: Quiz, *, published: bool, delete: set[int] = frozenset(), new: int = 0) -> dict:
    questions = list(quiz.questions.order_by("order", "id"))
    rows = [
        {"id": q.pk, "quiz": quiz.pk, "order": q.order, "prompt": q.prompt, "explanation": q.explanation,
         "section": q.section, "DELETE": index in delete}
        for index, q in enumerate(questions)
    ]
    rows += [{"quiz": quiz.pk, "order": 9, "prompt": f"Extra {n}", "explanation": "Why."} for n in range(new)]
    data = {"module": quiz.module_id, "pass_mark": quiz.pass_mark, "cooloff_minutes": 5}
    if published:
        data["published"] = "on"
    return data | _formset("questions", rows, initial=len(questions))


def test_a_quiz_and_its_questions_are_edited_together(admin_client, quiz):
    url = reverse("admin:quizzes_quiz_change", args=[quiz.pk])
    page = admin_client.get(url).content.decode()
    assert "4 choices, 1 marked correct" in page and "edit choices" in page
    data = _quiz_post(quiz, published=True)
    data["questions-0-prompt"] = "Reworded prompt?"
    assert admin_client.post(url, data).status_code == 302
    quiz.refresh_from_db()
    assert quiz.cooloff_minutes == 5 and quiz.questions.filter(prompt="Reworded prompt?").exists()


def test_a_quiz_without_five_questions_can_be_saved_as_a_draft_but_not_published(admin_client, quiz):
    url = reverse("admin:quizzes_quiz_change", args=[quiz.pk])
    refused = admin_client.post(url, _quiz_post(quiz, published=True, delete={4}))
    assert refused.status_code == 200
    assert "A published quiz needs at least 5 questions (each attempt draws 5); this one would have 4." in (
        refused.content.decode()
    )
    assert quiz.questions.count() == 5

    draft = admin_client.post(url, _quiz_post(quiz, published=False, delete={4}))
    assert draft.status_code == 302
    quiz.refresh_from_db()
    assert quiz.questions.count() == 4 and not quiz.published

    again = admin_client.post(url, _quiz_post(quiz, published=True))
    assert again.status_code == 200 and "this one would have 4" in again.content.decode()


def test_a_quiz_whose_question_lacks_valid_choices_cannot_be_published(admin_client, quiz):
    Choice.objects.filter(question=quiz.questions.first()).update(is_correct=False)
    quiz.published = False
    quiz.save()
    response = admin_client.post(reverse("admin:quizzes_quiz_change", args=[quiz.pk]), _quiz_post(quiz, published=True))
    assert response.status_code == 200
    assert "need at least two choices with exactly one correct" in response.content.decode()


def test_the_site_shows_only_published_quizzes(admin_client, client, quiz):
    quiz.published = False
    quiz.save()
    client.force_login(UserFactory())
    assert client.get(f"/courses/transformers-architecture/{quiz.module.lesson.slug}/quiz/").status_code == 404


def test_attempts_are_read_only_and_filterable_by_quiz_user_and_passed(admin_client, signed_in_client, quiz, user):
    take_quiz(signed_in_client, quiz.module, right=2)
    take_quiz(signed_in_client, quiz.module, right=5)
    changelist = reverse("admin:quizzes_attempt_changelist")
    assert admin_client.get(changelist).status_code == 200
    for query in (f"quiz__id__exact={quiz.pk}", f"user__id__exact={user.pk}", "passed__exact=1", "passed__exact=0"):
        response = admin_client.get(f"{changelist}?{query}")
        assert response.status_code == 200, query
    passed_only = admin_client.get(f"{changelist}?passed__exact=1").context["cl"].result_count
    assert passed_only == 1
    attempt = Attempt.objects.filter(submitted_at__isnull=False).first()
    detail = admin_client.get(reverse("admin:quizzes_attempt_change", args=[attempt.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert admin_client.get(reverse("admin:quizzes_attempt_add")).status_code == 403
    assert admin_client.post(reverse("admin:quizzes_attempt_delete", args=[attempt.pk])).status_code == 403


def test_every_quiz_admin_page_renders(admin_client, signed_in_client, quiz):
    take_quiz(signed_in_client, quiz.module, right=2)
    question = quiz.questions.first()
    for name, args in [
        ("quizzes_quiz_changelist", []), ("quizzes_quiz_add", []), ("quizzes_quiz_change", [quiz.pk]),
        ("quizzes_question_changelist", []), ("quizzes_question_add", []), ("quizzes_question_change", [question.pk]),
        ("quizzes_moduleprogress_changelist", []), ("quizzes_attempt_changelist", []),
    ]:
        assert admin_client.get(reverse(f"admin:{name}", args=args)).status_code == 200, name


def test_question_text_saved_from_the_admin_keeps_unix_line_endings(admin_client, course):
    from quizzes.models import Question

    question = Question.objects.select_related("quiz").first()
    url = f"/admin/quizzes/question/{question.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "academy-wide-input" in page and "academy-wide-text" in page
    from django.contrib import admin
    from django.test import RequestFactory

    from accounts.models import User

    request = RequestFactory().get(url)
    request.user = User.objects.get(is_superuser=True)
    form_class = admin.site._registry[Question].get_form(request, question)
    form = form_class(
        data={"quiz": question.quiz_id, "order": question.order, "prompt": "Line one\r\nline two",
              "explanation": "Because\r\nof this", "section": question.section},
        instance=question,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["prompt"] == "Line one\nline two"
    assert form.cleaned_data["explanation"] == "Because\nof this"
