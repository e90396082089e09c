"""The project's browser harness (system Chromium through Playwright), reused for the certificate pages."""
from tests.browser.conftest import (  # noqa: F401  (fixtures, made available to this package)
    browser,
    browser_errors,
    context,
    learner,
    mobile_page,
    page,
    signed_in_page,
)
