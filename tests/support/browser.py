"""The real-browser harness's helpers: Playwright (sync API) driving the system Chromium against `live_server`.

The fixtures (the browser, its contexts and pages, the live site) are in tests/browser/conftest.py; these are the
plain functions the browser tests call. Chromium comes from the operating system (`chromium` in the Makefile's
APT_PACKAGES); Playwright's own browser download is never used. Screenshots land in the git-ignored
`screenshots/` folder at the repository root.
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.support.paths import COURSE_DIR, REPO

try:  # Test modules import `expect` from here, so a missing Playwright skips (or, in CI, fails) them cleanly.
    from playwright.sync_api import expect
except ImportError:
    expect = None

SCREENSHOT_DIR = REPO / "screenshots"
PASSWORD = "correct horse battery staple"

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A healthy page answers in well under a second; these leave room for a busy 2-core runner (the live server,
# Chromium, a Celery worker and the test itself share it).
DEFAULT_TIMEOUT_MS = 30_000
EXPECT_TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable(reason: str) -> None:
    """Skip the test, or fail it in CI (``CI=true``), where the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests", pytrace=False)
    pytest.skip(reason)


class BrowserErrors:
    """JavaScript errors and console errors (CSP violations, failed requests) seen by a test's pages."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def unexpected(self) -> list[str]:
        return list(self.messages)


def new_context(browser, live_server, viewport: dict, browser_errors: BrowserErrors):
    """A fresh browser profile against the live server whose pages report their errors to ``browser_errors``."""
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-US")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)

    def watch(page) -> None:
        page.on("pageerror", lambda error: browser_errors.messages.append(f"{page.url}: JS error: {error}"))
        page.on(
            "console",
            lambda message: message.type == "error"
            and browser_errors.messages.append(f"{page.url}: console: {message.text}"),
        )

    context.on("page", watch)
    return context


def sign_in(context, base_url: str, user) -> None:
    """Give the browser profile a signed-in session for `user` (the sign-in form itself is tested separately)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def screenshot(page, name: str) -> Path:
    """A viewport screenshot (not full page: they stay small) under screenshots/<name>.png."""
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


BLOCKING_IMPACTS = ("serious", "critical")


def accessibility_violations(
    page, *, impacts: tuple[str, ...] = BLOCKING_IMPACTS, exclude: tuple[str, ...] = ()
) -> list[str]:
    """axe-core (bundled with axe-playwright-python, no network) on the current page; one line per rule.

    Each line names the page, the rule, its impact, how many elements break it and the first few of them (CSS
    selector and a short piece of HTML), so a failure says exactly what to fix. `exclude`: CSS selectors whose
    elements (and their descendants) are not checked.
    """
    from axe_playwright_python.sync_playwright import Axe

    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]})
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in impacts:
            continue
        nodes = violation["nodes"]
        examples = "; ".join(
            f"{' '.join(str(part) for part in node['target'])} = {node['html'][:140]}" for node in nodes[:3]
        )
        lines.append(
            f"{page.url}: [{violation['impact']}] {violation['id']} ({violation['help']}), "
            f"{len(nodes)} element(s), e.g. {examples}"
        )
    return lines


# --- Quizzes: the answer key comes from the content files, the way an author wrote it ---------------------


def quiz_answer_key(lesson_slug: str) -> dict[str, dict]:
    """{prompt: {"right": text, "wrong": [texts]}} from the module file's front matter."""
    from lessons.services import parse_module_file

    (path,) = COURSE_DIR.glob(f"[0-9][0-9]-{lesson_slug}.md")
    key = {}
    for question in parse_module_file(path).quiz["questions"]:
        choices = [c if isinstance(c, dict) else {"text": c} for c in question["choices"]]
        key[question["prompt"]] = {
            "right": next(c["text"] for c in choices if c.get("correct")),
            "wrong": [c["text"] for c in choices if not c.get("correct")],
        }
    return key


def course_lesson_slugs() -> list[str]:
    from lessons.services import parse_module_file

    sources = sorted((parse_module_file(path) for path in COURSE_DIR.glob("[0-9][0-9]-*.md")), key=lambda s: s.order)
    return [source.slug for source in sources]


def question_prompt(fieldset) -> str:
    """The prompt of a quiz question: its legend without the "Question N of M" counter."""
    legend = fieldset.locator("legend")
    counter = legend.locator(".quiz-question__number").inner_text()
    return legend.inner_text().removeprefix(counter).strip()


def _plain(text: str) -> str:
    """Text to compare a rendered quiz line with its source: math delimiters, markup and spacing removed."""
    return " ".join(re.sub(r"[$\\{}_^`*]", "", text).split()).lower()


def _closest(candidates, text: str):
    return max(candidates, key=lambda c: difflib.SequenceMatcher(None, _plain(c), _plain(text)).ratio())


def answer_quiz(page, lesson_slug: str, *, wrong: int = 0) -> None:
    """Answer the quiz on the current page by clicking labels: the first `wrong` questions wrongly, the rest right,
    then submit. The page shows the five questions the attempt drew from the module's bank; each is matched to
    the content file by its text (prompts and choices may contain rendered math)."""
    key = quiz_answer_key(lesson_slug)
    questions = page.locator("fieldset.quiz-question")
    count = questions.count()
    assert count == 5 and len(key) >= count, f"the page shows {count} questions, the bank has {len(key)}"
    for index in range(count):
        fieldset = questions.nth(index)
        answer = key[_closest(key, question_prompt(fieldset))]
        wanted = answer["wrong"][0] if index < wrong else answer["right"]
        labels = fieldset.locator("label")
        texts = [labels.nth(i).inner_text() for i in range(labels.count())]
        label = labels.nth(texts.index(_closest(texts, wanted)))
        fieldset.locator(f"#{label.get_attribute('for')}").check()
    page.get_by_role("button", name="Submit answers").click()
