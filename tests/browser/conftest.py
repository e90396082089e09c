"""Real-browser end-to-end fixtures: Playwright (sync API) driving the system Chromium against `live_server`.

Every test in this folder is a browser test: tests/conftest.py marks them `browser` and `slow`. The helpers they
call (sign_in, screenshot, accessibility_violations, answer_quiz...) are in tests/support/browser.py. Missing
Chromium or Playwright fails the browser tests in CI (`CI=true`) and skips them elsewhere, like the PostgreSQL
and Redis fixtures do.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from tests.support.browser import (
    CHROMIUM_ARGS,
    DESKTOP,
    EXPECT_TIMEOUT_MS,
    MOBILE,
    BrowserErrors,
    chromium_path,
    expect,
    new_context,
    sign_in,
    unavailable,
)
from tests.support.factories import UserFactory
from tests.support.paths import COURSE_DIR, COURSE_URL_PATH


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One Chromium for the whole browser package, closed when its last test is done.

    Playwright's sync API keeps an asyncio loop running on this thread while it is open, which makes Django refuse
    ORM calls from the test itself ("async unsafe"); the tests are plain synchronous code, so that guard is lifted
    for exactly as long as the browser is open.
    """
    path = chromium_path()
    if not path:
        unavailable("Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
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


@pytest.fixture
def context(browser, live_server, browser_errors):
    """A fresh browser profile (no cookies) at desktop size. Fails the test on any JavaScript or CSP error."""
    context = new_context(browser, live_server, DESKTOP, browser_errors)
    yield context
    context.close()
    unexpected = browser_errors.unexpected()
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def mobile_page(browser, live_server, browser_errors):
    context = new_context(browser, live_server, MOBILE, browser_errors)
    context_page = context.new_page()
    yield context_page
    context.close()
    unexpected = browser_errors.unexpected()
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


@pytest.fixture
def visitor_page(browser, live_server, browser_errors):
    """A second, separate browser profile at desktop size: someone else, signed out."""
    context = new_context(browser, live_server, DESKTOP, browser_errors)
    yield context.new_page()
    context.close()
    unexpected = browser_errors.unexpected()
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


@pytest.fixture
def learner(transactional_db):
    return UserFactory(username="grace", full_name="Grace Hopper")


@pytest.fixture
def signed_in_page(context, page, live_server, learner):
    sign_in(context, live_server.url, learner)
    return page


@pytest.fixture(scope="session")
def tiny_results() -> dict[str, tuple[dict, dict]]:
    """name -> (result, figure) of a real toy-sized chart run (tests.support.charts), computed once per session
    on first use."""
    return {}
