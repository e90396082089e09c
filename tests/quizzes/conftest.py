"""The real-browser harness of tests/browser, made available to the quiz browser tests in this folder."""
from tests.browser.conftest import (  # noqa: F401
    browser,
    browser_errors,
    context,
    learner,
    page,
    signed_in_page,
    site,
)
