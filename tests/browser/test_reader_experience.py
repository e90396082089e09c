"""Reading on a phone and a laptop, in light and dark mode: nothing cut off, the outline and the header always at
hand, typeset math, a glossary one click from each term, and a home page whose call to action is above the fold."""
from __future__ import annotations

import time

import pytest

from tests.support.browser import MOBILE, accessibility_violations, course_lesson_slugs, expect, screenshot, sign_in
from tests.support.paths import COURSE_URL_PATH


def _wait_until(page, expression: str, timeout_s: float = 15.0) -> None:
    """Poll an expression with page.evaluate: wait_for_function evaluates a string, which the site's CSP forbids."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout_s:g} s: {expression}"
        page.wait_for_timeout(100)


LAPTOP = {"width": 1366, "height": 768}
CODE_TOKENS = ".code-block pre code"

# Everything inside <main> that is cut off without a scroll container, or that reaches past the viewport, with
# where it is; [] when the page reads in full at this width. A box that scrolls (overflow-x auto or scroll) is
# fine: its content is reachable and site.css draws a shadow at the edge that has more.
CLIPPED_CONTENT_JS = """
() => {
  const viewport = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
    " \\"" + (el.textContent || "").trim().slice(0, 40) + "\\"";
  if (document.documentElement.scrollWidth > viewport + 1) {
    problems.push("the page is " + document.documentElement.scrollWidth + " px wide in a " + viewport + " px viewport");
  }
  for (const el of document.querySelectorAll("main *")) {
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;  // visually hidden text, empty elements
    let clipper = el.parentElement;
    while (clipper && clipper !== document.body && getComputedStyle(clipper).overflowX === "visible") {
      clipper = clipper.parentElement;
    }
    if (clipper && clipper !== document.body) {
      const overflow = getComputedStyle(clipper).overflowX;
      if (overflow === "auto" || overflow === "scroll") continue;
      const edge = clipper.getBoundingClientRect();
      if (edge.width <= 1 || edge.height <= 1) continue;  // visually hidden on purpose: text for screen readers
      if (box.right > edge.right + 1 || box.left < edge.left - 1) {
        problems.push(name(el) + " is cut off by " + name(clipper) + " (no scroll container)");
      }
    } else if (box.right > viewport + 1 || box.left < -1) {
      problems.push(name(el) + " reaches past the viewport (" + Math.round(box.left) + ".." + Math.round(box.right) + ")");
    }
    if (problems.length > 20) break;
  }
  return problems;
}
"""


def test_no_lesson_is_cut_off_or_widens_the_page_on_a_phone(site, mobile_page):
    problems = []
    for slug in course_lesson_slugs():
        mobile_page.goto(f"{COURSE_URL_PATH}{slug}/")
        problems += [f"{slug}: {problem}" for problem in mobile_page.evaluate(CLIPPED_CONTENT_JS)]
    assert not problems, "\n".join(problems)


def test_course_home_glossary_and_dashboard_are_not_cut_off_on_a_phone(site, mobile_page, learner):
    sign_in(mobile_page.context, site.url, learner)
    problems = []
    for path in ["/", COURSE_URL_PATH, COURSE_URL_PATH + "glossary/", "/dashboard/"]:
        mobile_page.goto(path)
        problems += [f"{path}: {problem}" for problem in mobile_page.evaluate(CLIPPED_CONTENT_JS)]
    assert not problems, "\n".join(problems)


def test_wide_formula_and_table_of_module_six_scroll_to_their_last_column_on_a_phone(site, mobile_page):
    mobile_page.goto(COURSE_URL_PATH + "the-full-transformer/")
    table = mobile_page.locator(".table-wrap", has_text="Pre-LN (GPT-2")
    formula = mobile_page.locator(".math.block", has=mobile_page.locator("math", has_text="LayerNorm")).first
    for box in (table, formula):
        box.scroll_into_view_if_needed()
        sizes = box.evaluate("el => [el.scrollWidth, el.clientWidth, getComputedStyle(el).overflowX]")
        assert sizes[0] > sizes[1] and sizes[2] == "auto", f"expected a sideways-scrolling box, got {sizes}"
        assert box.get_attribute("tabindex") == "0"  # keyboard users can scroll it too
        box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    header = table.locator("th", has_text="Pre-LN (GPT-2")
    right = header.evaluate("el => el.getBoundingClientRect().right")
    assert right <= MOBILE["width"], "after scrolling the table, its Pre-LN column is on screen"
    screenshot(mobile_page, "reader-phone-table-scrolled")


def test_phone_header_is_one_row_stays_on_screen_and_the_contents_button_opens_the_outline(site, mobile_page):
    mobile_page.goto(COURSE_URL_PATH + "the-full-transformer/")
    header = mobile_page.locator(".site-header")
    assert header.bounding_box()["height"] <= 64, "the header is one compact row"
    mobile_page.mouse.wheel(0, 6000)
    _wait_until(mobile_page, "window.scrollY > 3000")
    expect(header).to_be_in_viewport()
    assert header.bounding_box()["y"] == 0

    outline = mobile_page.locator("#lesson-toc")
    expect(outline).not_to_be_in_viewport()
    contents = mobile_page.get_by_role("button", name="Contents")
    contents.click()
    expect(contents).to_have_attribute("aria-expanded", "true")
    expect(outline).to_be_in_viewport()
    screenshot(mobile_page, "reader-phone-contents")
    outline.get_by_role("link", name="Post-LN vs Pre-LN").click()
    expect(contents).to_have_attribute("aria-expanded", "false")
    expect(mobile_page.locator("#post-ln-vs-pre-ln")).to_be_in_viewport()
    expect(mobile_page.get_by_role("link", name="Top")).to_be_visible()


def test_a_phone_opens_a_lesson_on_its_title_with_the_outline_behind_the_contents_button(site, mobile_page):
    mobile_page.goto(COURSE_URL_PATH + "positional-encoding/")
    expect(mobile_page.get_by_role("heading", level=1)).to_be_in_viewport()
    assert mobile_page.get_by_role("heading", level=1).bounding_box()["y"] < 250, "the title leads the first screen"
    outline = mobile_page.locator("#lesson-toc")
    expect(outline).to_be_hidden()
    mobile_page.get_by_role("button", name="Contents").click()
    expect(outline).to_be_visible()
    mobile_page.keyboard.press("Escape")
    expect(outline).to_be_hidden()


def test_reading_progress_bar_grows_as_the_reader_scrolls(site, page):
    page.goto(COURSE_URL_PATH + "positional-encoding/")
    width = "el => el.getBoundingClientRect().width"
    bar = page.locator(".reading-progress__bar")
    assert bar.evaluate(width) < 5
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    _wait_until(page, "document.querySelector('.reading-progress__bar').getBoundingClientRect().width > 200")
    half = bar.evaluate(width)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    _wait_until(page, f"document.querySelector('.reading-progress__bar').getBoundingClientRect().width > {half}")
    page.get_by_role("link", name="Top").click()
    _wait_until(page, "window.scrollY < 50")


def test_dashboard_on_a_phone_shows_every_column_of_each_module(site, mobile_page, learner):
    sign_in(mobile_page.context, site.url, learner)
    mobile_page.goto("/dashboard/")
    first_module = mobile_page.locator(".progress-table tbody tr").first
    for label in ("Status", "Best score", "Attempts", "Next step"):
        cell = first_module.locator(f'td[data-label="{label}"]')
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"], f"{label} is off-screen"
    expect(first_module.get_by_role("link", name="Read the lesson of module 1")).to_be_in_viewport()
    screenshot(mobile_page, "reader-phone-dashboard")


def test_theme_toggle_is_remembered_across_pages_and_visits(site, page):
    page.goto("/")
    toggle = page.get_by_role("button", name="Dark mode")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    background = "getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    dark = page.evaluate(background)
    assert dark != light

    page.goto(COURSE_URL_PATH + "the-problem-with-rnns/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")  # set before paint, by theme-init.js
    assert page.evaluate(background) == dark
    page.reload()
    assert page.evaluate(background) == dark
    page.get_by_role("button", name="Dark mode").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) == light


def test_dark_mode_follows_the_system_setting_until_the_reader_chooses(site, page):
    page.emulate_media(color_scheme="dark")
    page.goto(COURSE_URL_PATH + "the-problem-with-rnns/")
    expect(page.get_by_role("button", name="Dark mode")).to_have_attribute("aria-pressed", "true")
    # The lesson card is dark, its text light: luminance of the two colours, compared.
    colours = page.locator(".lesson").evaluate(
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]"
    )
    def luminance(rgb: str) -> float:
        r, g, b = (int(part) for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    assert luminance(colours[0]) < 60 < 180 < luminance(colours[1]), colours
    screenshot(page, "reader-lesson-dark")


def test_formulas_are_set_in_the_served_opentype_math_font(site, page):
    page.goto(COURSE_URL_PATH + "scaled-dot-product-self-attention/")
    page.locator("math").first.scroll_into_view_if_needed()
    _wait_until(page, "document.fonts.check('16px \"STIX Math\"')")
    family = page.locator("math").first.evaluate("el => getComputedStyle(el).fontFamily")
    assert family.startswith('"STIX Math"')
    response = page.request.get("/static/fonts/STIXMath-Regular.otf")
    assert response.ok and response.body()[:4] == b"OTTO"  # an OpenType (CFF) font file


def test_home_shows_its_call_to_action_above_the_fold_on_a_laptop_and_links_every_module(site, page):
    page.set_viewport_size(LAPTOP)
    page.goto("/")
    start = page.get_by_role("link", name="Start module 1: The Problem with RNNs")
    box = start.bounding_box()
    assert box["y"] + box["height"] <= LAPTOP["height"], f"the call to action ends at {box['y'] + box['height']} px"
    modules = page.locator(".module-list--compact li")
    assert modules.count() == len(course_lesson_slugs())
    for index in range(modules.count()):
        link = modules.nth(index).get_by_role("link")
        assert link.get_attribute("href") == f"{COURSE_URL_PATH}{course_lesson_slugs()[index]}/"
    screenshot(page, "reader-home-laptop")
    start.click()
    expect(page).to_have_url(f"{site.url}{COURSE_URL_PATH}the-problem-with-rnns/")


def test_a_term_links_from_its_first_use_in_a_lesson_to_its_glossary_entry(site, page):
    page.goto(COURSE_URL_PATH + "positional-encoding/")
    links = page.locator(".prose a.glossary-term")
    assert links.count() >= 5
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(hrefs) == len(set(hrefs)), "each term is linked once per lesson, at its first use"
    assert not page.locator("code a.glossary-term, h2 a.glossary-term, h3 a.glossary-term, math a").count()
    term = page.locator('.prose a.glossary-term[href$="#positional-encoding"]')
    term.click()
    expect(page).to_have_url(f"{site.url}{COURSE_URL_PATH}glossary/#positional-encoding")
    entry = page.locator("dt#positional-encoding")
    expect(entry).to_be_in_viewport()
    expect(page.locator("dt#positional-encoding + dd")).to_contain_text("position")


@pytest.fixture
def certificate_path(learner, settings, tmp_path):
    """The learner completed the real course and holds its certificate; the path of its public page."""
    from django.utils import timezone

    from certificates.services import issue_certificate
    from lessons.models import Course
    from quizzes.models import ModuleProgress

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_PATH = tmp_path / "signing-key.json"
    course = Course.objects.get(slug="transformers-architecture")
    now = timezone.now()
    for module in course.modules.filter(published=True):
        ModuleProgress.objects.update_or_create(
            user=learner, module=module,
            defaults={"read_at": now, "completed_at": now, "attempts": 1, "best_score": 5, "best_total": 5},
        )
    from urllib.parse import urlsplit

    return urlsplit(issue_certificate(user=learner, course=course).get_absolute_url()).path


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_pages_pass_axe_in_light_and_dark_mode(site, page, learner, certificate_path, scheme):
    page.emulate_media(color_scheme=scheme)
    violations = []
    for path in ["/", COURSE_URL_PATH, COURSE_URL_PATH + "glossary/", certificate_path]:
        page.goto(path)
        violations += accessibility_violations(page)
    page.goto(COURSE_URL_PATH + "multi-head-attention/")
    violations += accessibility_violations(page, exclude=(CODE_TOKENS,))
    sign_in(page.context, site.url, learner)
    for path in ["/dashboard/", COURSE_URL_PATH + "the-problem-with-rnns/quiz/"]:
        page.goto(path)
        violations += accessibility_violations(page)
    assert not violations, f"{scheme} mode:\n" + "\n".join(violations)
