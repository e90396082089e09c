"""The quiz pages in a real browser: keyboard only, and axe-core finds no serious accessibility problem."""
from __future__ import annotations

import difflib
import re

from tests.support.browser import accessibility_violations, expect, sign_in

QUIZ = "/courses/transformers-architecture/the-problem-with-rnns/quiz/"


def _rightness(label: str, right: set[str]) -> float:
    """How closely a rendered choice label matches a right answer's source text (math renders differently)."""
    plain = " ".join(re.sub(r"[$\\{}_^`*]", "", label).split()).lower()
    return max(difflib.SequenceMatcher(None, plain, " ".join(re.sub(r"[$\\{}_^`*]", "", r).split()).lower()).ratio()
               for r in right)


def _pick(fieldset, right: set[str], *, correct: bool) -> None:
    labels = fieldset.locator("label")
    texts = [labels.nth(i).inner_text() for i in range(labels.count())]
    scores = [_rightness(t, right) for t in texts]
    label = labels.nth(scores.index(max(scores) if correct else min(scores)))
    fieldset.locator(f"#{label.get_attribute('for')}").check()


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
        _pick(questions.nth(index), right, correct=index < 2)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("alert")).to_contain_text("2 questions are still unanswered")
    expect(page.locator("#quiz-errors")).to_be_focused()
    violations += accessibility_violations(page)

    for index in (3, 4):  # answered wrong: 2 of 5 right
        _pick(questions.nth(index), right, correct=False)
    page.get_by_role("button", name="Submit answers").click()
    expect(page).to_have_url(re.compile(r"/quiz/attempts/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    violations += accessibility_violations(page)

    page.get_by_role("link", name="Retake the quiz").click()
    for index in range(5):
        _pick(questions.nth(index), right, correct=True)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passed: 5/5")
    violations += accessibility_violations(page)
    assert not violations, "\n".join(violations)
