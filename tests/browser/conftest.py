"""Real-browser end-to-end harness: Playwright (sync API) driving the system Chromium against `live_server`.

Chromium comes from the operating system (`chromium` in the Makefile's APT_PACKAGES); Playwright's own browser
download is never used. Missing Chromium or Playwright fails the browser tests in CI (`CI=true`) and skips them
elsewhere, like the PostgreSQL and Redis fixtures do.

Screenshots land in the git-ignored `screenshots/` folder at the repository root.
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

try:  # Test modules import `expect` from here, so a missing Playwright skips (or, in CI, fails) them cleanly.
    from playwright.sync_api import expect
except ImportError:
    expect = None

REPO = Path(__file__).resolve().parent.parent.parent
COURSE_DIR = REPO / "content" / "transformers-architecture"
COURSE_URL_PATH = "/courses/transformers-architecture/"
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


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One Chromium for the whole browser package, closed when its last test is done.

    Playwright's sync API keeps an asyncio loop running on this thread while it is open, which makes Django refuse
    ORM calls from the test itself ("async unsafe"); the tests are plain synchronous code, so that guard is lifted
    for exactly as long as the browser is open.
    """
    path = chromium_path()
    if not path:
        _unavailable("Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements.txt)")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class BrowserErrors:
    """JavaScript errors and console errors (CSP violations, failed requests) seen by a test's pages."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def unexpected(self) -> list[str]:
        return list(self.messages)


_warmed_up: set[str] = set()


@pytest.fixture
def site(live_server, transactional_db):
    """The live server with the real course loaded, as `make run` loads it.

    The first lesson page a server process renders imports the experiment catalogue (PyTorch), which takes
    seconds on a busy runner; one untimed request per live server pays that once, so the tests' per-step
    timeouts measure the pages, not the import.
    """
    call_command("load_course", str(COURSE_DIR), stdout=open(os.devnull, "w"))  # noqa: SIM115
    if live_server.url not in _warmed_up:
        from django.test import Client

        Client().get(COURSE_URL_PATH + "the-problem-with-rnns/")
        _warmed_up.add(live_server.url)
    return live_server


@pytest.fixture
def browser_errors() -> BrowserErrors:
    return BrowserErrors()


def _new_context(browser, live_server, viewport: dict, browser_errors: BrowserErrors):
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


@pytest.fixture
def context(browser, live_server, browser_errors):
    """A fresh browser profile (no cookies) at desktop size. Fails the test on any JavaScript or CSP error."""
    context = _new_context(browser, live_server, DESKTOP, browser_errors)
    yield context
    context.close()
    unexpected = browser_errors.unexpected()
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def mobile_page(browser, live_server, browser_errors):
    context = _new_context(browser, live_server, MOBILE, browser_errors)
    context_page = context.new_page()
    yield context_page
    context.close()
    unexpected = browser_errors.unexpected()
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


@pytest.fixture
def visitor_page(browser, live_server, browser_errors):
    """A second, separate browser profile at desktop size: someone else, signed out."""
    context = _new_context(browser, live_server, DESKTOP, browser_errors)
    yield context.new_page()
    context.close()
    unexpected = browser_errors.unexpected()
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


def sign_in(context, base_url: str, user) -> None:
    """Give the browser profile a signed-in session for `user` (the sign-in form itself is tested separately)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


@pytest.fixture
def learner(transactional_db):
    from tests.factories import UserFactory

    return UserFactory(username="grace", full_name="Grace Hopper")


@pytest.fixture
def signed_in_page(context, page, live_server, learner):
    sign_in(context, live_server.url, learner)
    return page


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
