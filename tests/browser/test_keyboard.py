"""Keyboard-only use: every step here is a key press (Tab, Shift+Tab, Enter, Space, arrow keys), never a click."""
import re

import pytest

from tests.support.browser import expect, question_prompt, quiz_answer_key
from tests.support.paths import COURSE_URL_PATH

MODULE_1 = COURSE_URL_PATH + "the-problem-with-rnns/"

FOCUSED = """() => {
  const el = document.activeElement;
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    type: el.getAttribute('type'),
    text: (el.innerText || el.getAttribute('aria-label') || el.value || '').trim().slice(0, 80),
    href: el.getAttribute('href'),
    visible: box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && Number(style.opacity) > 0,
    onScreen: box.right > 0 && box.left < window.innerWidth,
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    scrollsSideways: el.scrollWidth > el.clientWidth,
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_until(page, predicate, *, limit: int = 400) -> tuple[dict, list[dict]]:
    """Press Tab until the focused element satisfies `predicate`; return it and every element passed on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        seen.append(element)
        if predicate(element):
            return element, seen
    raise AssertionError(f"never reached the element after {limit} Tab presses; last: {seen[-5:]}")


def test_skip_link_is_the_first_tab_stop_and_jumps_to_the_content(site, page):
    page.goto(MODULE_1)
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"] == "Skip to content"
    assert first["visible"] and first["onScreen"], "the skip link must appear on screen when focused"
    assert first["outline"], "the focused skip link needs a visible focus ring"

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))
    assert page.evaluate("document.activeElement.id") == "main"
    # The next Tab continues inside the content, not back in the site header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def test_lesson_can_be_read_and_left_with_the_keyboard_alone(site, page):
    page.goto(MODULE_1)
    toc_link, _ = tab_until(page, lambda el: (el["href"] or "").startswith("#") and el["href"] != "#main")
    target = toc_link["href"]
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    expect(page.locator(target)).to_be_in_viewport()

    next_link, passed = tab_until(page, lambda el: el["text"].startswith("Next"))
    stops = [*passed, next_link]
    hidden = [el for el in stops if not (el["visible"] and el["onScreen"])]
    assert not hidden, f"Tab stops a sighted keyboard user cannot see: {hidden}"
    no_ring = [el for el in stops if not el["outline"]]
    assert not no_ring, f"Tab stops without a visible focus ring: {no_ring}"

    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Attention: The Core Idea")
    page.keyboard.press("Shift+Tab")  # from the top of the new page back into the footer
    assert focused(page)["tag"] in {"a", "button"}


def test_wide_code_listings_scroll_sideways_with_the_arrow_keys(site, page):
    page.goto(MODULE_1)
    wide = page.locator(".code-block pre").evaluate_all(
        "blocks => blocks.filter(b => b.scrollWidth > b.clientWidth).length"
    )
    if not wide:
        pytest.skip("module 1 has no listing wider than the desktop column")
    tab_until(page, lambda el: el["tag"] == "pre" and el["scrollsSideways"])
    before = page.evaluate("document.activeElement.scrollLeft")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("before => document.activeElement.scrollLeft > before", arg=before)


def test_quiz_can_be_answered_and_submitted_with_the_keyboard_alone(site, signed_in_page):
    page = signed_in_page
    slug = "the-problem-with-rnns"
    key = quiz_answer_key(slug)
    page.goto(f"{COURSE_URL_PATH}{slug}/quiz/")
    questions = page.locator("fieldset.quiz-question")
    count = questions.count()

    first_radio, _ = tab_until(page, lambda el: el["type"] == "radio")
    assert first_radio["outline"], "a focused answer needs a visible focus ring"
    for index in range(count):
        fieldset = questions.nth(index)
        radios = fieldset.locator("input[type=radio]")
        ids = radios.evaluate_all("inputs => inputs.map(input => input.id)")
        labels = [fieldset.locator(f"label[for='{input_id}']").inner_text().strip() for input_id in ids]
        right = labels.index(key[question_prompt(fieldset)]["right"])
        # Tab enters a radio group on its first answer; arrow keys move through the group, choosing as they go.
        assert focused(page)["id"] == ids[0], f"question {index + 1}: Tab should land on its first answer"
        if index == count - 1:
            # Leave the last question unanswered and submit: the page comes back with the other answers kept and
            # focus on the summary of what is missing, whose link leads to the question.
            page.keyboard.press("Tab")
            assert focused(page)["text"] == "Submit answers"
            page.keyboard.press("Enter")
            expect(page.locator("#quiz-errors")).to_be_focused()
            expect(questions.nth(0).locator("input:checked")).to_have_count(1)
            page.keyboard.press("Tab")
            assert focused(page)["text"] == f"Question {count}"
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(f"#question-{count}$"))
            page.keyboard.press("Tab")
            assert focused(page)["id"] == ids[0]
        page.keyboard.press("Space")
        for _ in range(right):
            page.keyboard.press("ArrowDown")
        expect(radios.nth(right)).to_be_checked()
        page.keyboard.press("Tab")

    assert focused(page)["text"] == "Submit answers"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Passed: {count}/{count}")
    # From the result, Tab reaches the way on without the mouse.
    tab_until(page, lambda el: el["text"].startswith("Continue with module 2"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Attention: The Core Idea")
