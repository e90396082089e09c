"""The verification page and the dashboard block in a real Chromium: scripts work under the site's rules, the
pages pass axe, and the name correction works from the keyboard."""
from __future__ import annotations

import re

import pytest

from certificates.models import Certificate
from certificates.services import issue_certificate
from tests.support.browser import accessibility_violations, screenshot
from tests.support.quizzes import complete_modules

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def grace_certificate(learner, seven_modules, certificate_files) -> Certificate:
    complete_modules(learner, seven_modules)
    return issue_certificate(user=learner, course=seven_modules)


def test_verification_page_passes_axe_on_desktop_and_mobile(live_server, page, mobile_page, grace_certificate):
    violations = []
    for viewer, name in ((page, "desktop"), (mobile_page, "mobile")):
        viewer.goto(grace_certificate.get_absolute_url())
        violations += accessibility_violations(viewer)
        screenshot(viewer, f"certificate-page-{name}")
    assert not violations, "\n".join(violations)


def test_copy_link_puts_the_verification_url_on_the_clipboard(live_server, context, page, grace_certificate):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(grace_certificate.get_absolute_url())

    page.get_by_role("button", name="Copy link").click()

    page.get_by_text("Link copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == grace_certificate.verification_url


def test_the_page_checks_a_pdf_file_against_the_published_hash(live_server, page, grace_certificate):
    page.goto(grace_certificate.get_absolute_url())
    genuine = page.request.get(f"/certificates/{grace_certificate.credential_id}.pdf").body()
    picker = page.get_by_label("Check a PDF file against this record")

    picker.set_input_files(files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": genuine}])
    page.get_by_text("Match: this file is the certificate as issued.").wait_for()

    edited = genuine.replace(b"Grace Hopper", b"Grace Hoppet")
    picker.set_input_files(files=[{"name": "edited.pdf", "mimeType": "application/pdf", "buffer": edited}])
    page.get_by_text(re.compile("No match: this file differs")).wait_for()


def test_holder_corrects_the_name_from_the_dashboard_with_the_keyboard(live_server, signed_in_page, grace_certificate):
    dashboard = signed_in_page
    dashboard.goto("/dashboard/")
    assert not accessibility_violations(dashboard)
    dashboard.get_by_text("Correct the name on your certificate").focus()
    dashboard.keyboard.press("Enter")
    dashboard.get_by_label("Name on the certificate").fill("Rear Admiral Grace Hopper")
    dashboard.keyboard.press("Enter")

    dashboard.get_by_text("Your certificate was re-issued with the name “Rear Admiral Grace Hopper”.").wait_for()
    dashboard.locator(".certificate-status").scroll_into_view_if_needed()
    screenshot(dashboard, "certificate-dashboard")
    certificate = Certificate.objects.get()
    assert (certificate.holder_name, certificate.revision) == ("Rear Admiral Grace Hopper", 2)
