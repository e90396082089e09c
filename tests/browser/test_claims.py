"""Module 1 opens with its claims box, and every claim marker in the text leads to the note that corrects it."""
import re

import pytest

from tests.support.browser import expect, screenshot
from tests.support.paths import COURSE_URL_PATH

MODULE_1 = COURSE_URL_PATH + "the-problem-with-rnns/"

BROKEN_LINKS = """() => [...document.querySelectorAll('.prose a[href^="#claim-"], .prose a[href^="#experiment-"]')]
  .map(a => a.getAttribute('href'))
  .filter(href => !document.getElementById(href.slice(1)))"""

OVERFLOW = """box => ({scroll: box.scrollWidth, client: box.clientWidth,
  page: document.documentElement.scrollWidth, viewport: window.innerWidth})"""


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1366, "height": 768}],
                         ids=["phone", "laptop"])
def test_the_claims_box_fits_the_screen_and_every_claim_link_has_a_target(site, page, viewport):
    page.set_viewport_size(viewport)
    page.goto(MODULE_1)
    box = page.locator(".admonition.claims")
    expect(box).to_be_visible()
    expect(box.locator(".admonition-title")).to_have_text("Claims in this lesson")
    sizes = box.evaluate(OVERFLOW)
    assert sizes["scroll"] <= sizes["client"], f"the claims box scrolls sideways: {sizes}"
    assert sizes["page"] <= sizes["viewport"], f"the page scrolls sideways: {sizes}"
    assert page.evaluate(BROKEN_LINKS) == []
    box.scroll_into_view_if_needed()
    screenshot(page, f"claims-box-{viewport['width']}")


def test_a_claim_marker_takes_the_reader_to_its_note(site, page):
    page.goto(MODULE_1)
    marker = page.locator(".prose a.claim-marker", has_text="wrong: see note").first
    target = marker.get_attribute("href")
    marker.scroll_into_view_if_needed()
    screenshot(page, "claim-marker")
    assert target and target.startswith("#claim-")
    marker.click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    note = page.locator(target)
    expect(note).to_be_in_viewport()
    expect(note).to_have_class(re.compile(r"\badmonition\b"))
