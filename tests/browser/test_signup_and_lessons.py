"""A visitor signs up and reads module 1 in a real browser, on a desktop and on a phone-sized screen."""
import re

from tests.support.browser import PASSWORD, expect, screenshot
from tests.support.paths import COURSE_URL_PATH

MODULE_1 = COURSE_URL_PATH + "the-problem-with-rnns/"


def test_visitor_signs_up_and_lands_on_the_dashboard(site, page):
    from accounts.models import User

    page.goto("/")
    page.get_by_role("link", name="Sign up free").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your free account")
    page.get_by_label("Username").fill("katherine")
    page.get_by_label("Full name").fill("Katherine Johnson")
    page.get_by_label("Email").fill("katherine@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert User.objects.get(username="katherine").full_name == "Katherine Johnson"


def test_signup_form_shows_errors_next_to_the_fields(site, page):
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("katherine")
    page.get_by_label("Full name").fill("   ")
    page.get_by_label("Email").fill("katherine@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD + " typo")
    page.get_by_role("button", name="Create account").click()

    expect(page.locator(".field--error .field__error")).to_have_count(2)
    expect(page.locator(".field--error").filter(has=page.get_by_label("Full name"))).to_contain_text("required")
    expect(page.get_by_label("Username")).to_have_value("katherine")


def test_reader_goes_from_the_catalog_to_module_one_and_on_to_module_two(site, page):
    page.goto("/")
    page.get_by_role("link", name="Start the course").click()
    expect(page).to_have_url(re.compile(re.escape(COURSE_URL_PATH) + "$"))
    page.get_by_role("link", name="The Problem With RNNs").click()

    expect(page).to_have_url(re.compile(re.escape(MODULE_1) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("The Problem With RNNs")
    expect(page.locator(".lesson-header .meta")).to_contain_text("min read")
    toc = page.get_by_role("navigation", name="On this page")
    expect(toc).to_be_visible()
    assert toc.get_by_role("link").count() >= 3
    # Math is server-rendered MathML, code is highlighted on the server: both are in the DOM without any script.
    assert page.locator(".prose math").count() > 0
    assert page.locator(".prose pre code").count() > 0
    screenshot(page, "lesson-desktop")

    first_section = toc.get_by_role("link").first
    target = first_section.get_attribute("href")
    first_section.click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    expect(page.locator(target)).to_be_in_viewport()

    page.get_by_role("navigation", name="Lessons").get_by_role("link", name=re.compile("Next")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Attention: The Core Idea")
    expect(page.locator(".lesson-header .eyebrow")).to_have_text(re.compile(r"^Module 2 of \d+$"))


def test_lesson_fits_a_phone_screen_without_sideways_scrolling(site, mobile_page):
    page = mobile_page
    page.goto(MODULE_1)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page_width = page.evaluate("document.documentElement.scrollWidth")
    viewport_width = page.evaluate("window.innerWidth")
    assert page_width <= viewport_width, f"the page is {page_width}px wide on a {viewport_width}px screen"
    # Wide things (code, tables, display math) scroll inside their own box instead of widening the page.
    assert page.evaluate("document.body.scrollWidth") <= viewport_width
    screenshot(page, "lesson-mobile")


def test_copy_button_copies_a_code_listing(site, context, page):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(MODULE_1)
    block = page.locator(".code-block").filter(has=page.locator(".copy-button")).first
    expected = block.locator("pre code").inner_text()
    block.get_by_role("button", name="Copy code to clipboard").click()
    expect(block.get_by_role("button", name="Copy code to clipboard")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == expected
