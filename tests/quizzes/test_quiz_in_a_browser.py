"""The quiz pages in a real browser: keyboard only, and axe-core finds no serious accessibility problem."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import accessibility_violations, expect, sign_in

pytestmark = pytest.mark.browser

QUIZ = "/courses/transformers-architecture/the-problem-with-rnns/quiz/"


def _right_texts() -> set[str]:
    from quizzes.models import Choice

    return set(
        Choice.objects.filter(question__quiz__module__lesson__slug="the-problem-with-rnns", is_correct=True)
        .values_list("text", flat=True)
    )


def test_a_learner_answers_the_quiz_with_the_keyboard_alone(site, signed_in_page):
    page = signed_in_page
    page.goto(QUIZ)
    right = _right_texts()
    questions = page.locator("fieldset.quiz-question")
    assert questions.count() == 5
    for _ in range(40):  # through the skip link, the header and the breadcrumbs to the first question
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "radio":
            break
    for index in range(5):
        labels = questions.nth(index).locator("label").all_inner_texts()
        target = next(i for i, text in enumerate(labels) if text.strip() in right)
        if index:
            page.keyboard.press("Tab")  # a radio group is one tab stop: Tab goes to the next question
        assert page.evaluate("document.activeElement.type") == "radio"
        assert page.evaluate("document.activeElement.name") == questions.nth(index).locator("input").first.get_attribute("name")
        if target == 0:
            page.keyboard.press("Space")
        for _ in range(target):
            page.keyboard.press("ArrowDown")  # moves and selects within the group
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Submit answers"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/quiz/attempts/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Passed: 5/5")


def test_quiz_pages_have_no_serious_accessibility_violations(site, context, page, live_server, learner):
    violations = []
    page.goto(QUIZ)  # signed out: the question count and the sign-in prompt
    expect(page.get_by_role("link", name="Sign in and take the quiz")).to_be_visible()
    violations += accessibility_violations(page)

    sign_in(context, live_server.url, learner)
    page.goto(QUIZ)
    violations += accessibility_violations(page)

    right = _right_texts()
    questions = page.locator("fieldset.quiz-question")
    for index in (0, 1, 2):  # two right, one wrong, two left unanswered
        fieldset = questions.nth(index)
        labels = [text.strip() for text in fieldset.locator("label").all_inner_texts()]
        choice = next(t for t in labels if (t in right) == (index < 2))
        fieldset.get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("alert")).to_contain_text("2 questions are still unanswered")
    expect(page.locator("#quiz-errors")).to_be_focused()
    violations += accessibility_violations(page)

    for index in (3, 4):  # answered wrong: 2 of 5 right
        fieldset = questions.nth(index)
        labels = [text.strip() for text in fieldset.locator("label").all_inner_texts()]
        fieldset.get_by_label(next(t for t in labels if t not in right), exact=True).check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page).to_have_url(re.compile(r"/quiz/attempts/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    violations += accessibility_violations(page)

    page.get_by_role("link", name="Retake the quiz").click()
    for index in range(5):
        fieldset = questions.nth(index)
        labels = [text.strip() for text in fieldset.locator("label").all_inner_texts()]
        fieldset.get_by_label(next(t for t in labels if t in right), exact=True).check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passed: 5/5")
    violations += accessibility_violations(page)
    assert not violations, "\n".join(violations)
