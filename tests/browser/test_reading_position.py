"""Resume where you stopped, in a real browser: scrolling a lesson records the section, the course page offers it."""
import re
import time

from tests.support.browser import expect
from tests.support.paths import COURSE_URL_PATH

LESSON = "the-problem-with-rnns"


def recorded_section(user, lesson_slug: str, *, other_than: str = "", timeout_s: float = 15.0) -> str:
    """The section recorded for ``user`` in the lesson, waiting for the page's request to land."""
    from quizzes.models import ModuleProgress

    deadline = time.monotonic() + timeout_s
    section = ""
    while time.monotonic() < deadline:
        row = ModuleProgress.objects.filter(user=user, module__lesson__slug=lesson_slug).first()
        section = row.last_section if row else ""
        if section and section != other_than:
            return section
        time.sleep(0.2)
    return section


def long_sections(page) -> list[str]:
    """Anchors of lesson headings whose section is taller than the viewport (so the heading alone is in view)."""
    return page.evaluate(
        """() => {
          const hs = Array.from(document.querySelectorAll('.prose h2[id], .prose h3[id]'));
          return hs.filter((h, i) => i + 1 < hs.length && i > 0
            && hs[i + 1].getBoundingClientRect().top - h.getBoundingClientRect().top > window.innerHeight)
            .map(h => h.id);
        }"""
    )


def scroll_to(page, anchor: str) -> None:
    page.locator(f"#{anchor}").evaluate("h => window.scrollTo(0, h.getBoundingClientRect().top + scrollY - 40)")


def test_scrolling_a_lesson_records_the_section_and_the_course_page_offers_it(site, signed_in_page, learner):
    from lessons.models import Lesson

    page = signed_in_page
    titles = {item["id"]: item["text"] for item in Lesson.objects.get(slug=LESSON).toc}
    page.goto(f"{COURSE_URL_PATH}{LESSON}/")
    candidates = long_sections(page)
    assert len(candidates) >= 2, "the lesson needs two long sections for this test"
    first, second = candidates[0], candidates[-1]

    # The first section change is sent at once.
    scroll_to(page, first)
    assert recorded_section(learner, LESSON) == first

    page.goto(COURSE_URL_PATH)
    link = page.get_by_role("link", name=f"Continue: module 1, section {titles[first]}")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(re.escape(f"{COURSE_URL_PATH}{LESSON}/#{first}") + "$"))

    # A later change, within the quiet interval, is sent when the reader leaves the page.
    scroll_to(page, second)
    page.goto("/")
    assert recorded_section(learner, LESSON, other_than=first) == second
    page.reload()
    expect(page.get_by_role("link", name=f"Continue: module 1, section {titles[second]}")).to_be_visible()
