"""The real course content (content/transformers-architecture): module 1's quiz is the seed's, verbatim."""
from __future__ import annotations

import pytest

from lessons.models import Module
from quizzes.models import Quiz
from tests.support.quizzes import quiz_url, take_quiz

pytestmark = pytest.mark.django_db

# The five questions at the end of the seed text of module 1 ("Test Your Knowledge"), with their choices in the
# seed's order; the right choice of each is marked with a leading "*".
SEED_QUIZ = [
    ("What is the main limitation of RNNs for long sequences?", [
        "They use too much memory",
        "They are too fast",
        "*Vanishing gradients make it hard to learn long-range dependencies",
        "They only work with images",
    ]),
    ("Why can't RNNs be easily parallelized?", [
        "They require too many GPUs",
        "*They process tokens sequentially, with each step depending on the previous one",
        "They don't use matrix operations",
        "They are inherently parallel",
    ]),
    ('What is the "information bottleneck" problem in RNNs?', [
        "RNNs run out of memory",
        "RNNs are too slow",
        "RNNs can't process text",
        "*The fixed-size hidden state must compress all past information",
    ]),
    ("How do Transformers address the sequential processing limitation?", [
        "*They process all tokens in parallel using attention mechanisms",
        "They use faster CPUs",
        "They reduce sequence length",
        "They eliminate hidden states entirely",
    ]),
    ('What was the key insight in the "Attention Is All You Need" paper?', [
        "RNNs work better than attention",
        "Sequential processing is essential",
        "*Self-attention alone can model sequences without recurrence or convolution",
        "Attention should only be used with RNNs",
    ]),
]


def test_module_one_quiz_is_the_seed_quiz_verbatim(course):
    quiz = Quiz.objects.get(module__course=course, module__lesson__slug="the-problem-with-rnns")
    assert quiz.published and quiz.pass_mark == 80
    actual = [
        (question.prompt, [("*" if c.is_correct else "") + c.text for c in question.choices.order_by("order", "id")])
        for question in quiz.questions.filter(first_attempt=True).order_by("order", "id")
    ]
    assert actual == SEED_QUIZ
    assert quiz.questions.count() >= 10, "the seed's five are the first attempt's; retakes draw from the bank"


def test_every_quiz_of_the_course_is_valid_and_links_to_existing_lesson_sections(course):
    quizzes = Quiz.objects.filter(module__course=course).select_related("module__lesson")
    assert quizzes.exists()
    for quiz in quizzes:
        where = quiz.module.lesson.slug
        assert quiz.published, f"{where}: the quiz is not publishable (five questions, one right choice each)"
        anchors = {item["id"] for item in quiz.module.lesson.toc}
        for question in quiz.questions.prefetch_related("choices"):
            choices = list(question.choices.all())
            assert len(choices) == 4 and sum(c.is_correct for c in choices) == 1, f"{where}: {question}"
            assert question.explanation.strip(), f"{where}: {question} has no explanation"
            assert question.section in anchors, f"{where}: #{question.section} is not a heading of the lesson"


def test_a_learner_passes_module_one_of_the_real_course_through_the_site(signed_in_client, course):
    module = Module.objects.select_related("lesson", "course").get(course=course, lesson__slug="the-problem-with-rnns")
    lesson_html = signed_in_client.get(module.lesson.get_absolute_url()).content.decode()
    assert "Take the quiz" in lesson_html and quiz_url(module) in lesson_html
    result = take_quiz(signed_in_client, module).content.decode()
    assert "Passed: 5/5" in result
    assert "Self-attention alone can model sequences without recurrence or convolution" in result
    total = Module.objects.filter(course=course, published=True).count()
    dashboard = signed_in_client.get("/dashboard/").content.decode()
    assert f"1 of {total} modules done" in dashboard
