"""The whole learner journey in a real browser, answers given through the quiz pages:

sign up, read module 1, fail its quiz, pass it on the retake, pass every other module, get the certificate,
then, signed out, open its public verification page, check the LinkedIn links and the `og:` tags, and download
the PDF.
"""
import hashlib
import io
import re
from urllib.parse import parse_qs, urlsplit

from tests.support.browser import (
    PASSWORD,
    accessibility_violations,
    answer_quiz,
    course_lesson_slugs,
    expect,
    screenshot,
)
from tests.support.paths import COURSE_URL_PATH

HOLDER = "Dorothy Vaughan"


def sign_up(page, username: str, full_name: str) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    # Confirm the address by following the link in the mail the site sent (the live server shares this process).
    from django.core import mail

    (link,) = re.findall(r"https?://\S+?(/accounts/verify-email/\S+/)", mail.outbox[-1].body)
    page.goto(link)
    expect(page.get_by_text(f"{username}@example.org is confirmed")).to_be_visible()


def take_quiz_from_the_lesson(page, lesson_slug: str, *, wrong: int = 0) -> None:
    expect(page).to_have_url(re.compile(re.escape(f"{COURSE_URL_PATH}{lesson_slug}/") + "$"))
    page.locator(".quiz-cta").get_by_role("link", name=re.compile(r"^Take the quiz")).click()
    expect(page).to_have_url(re.compile(re.escape(f"{COURSE_URL_PATH}{lesson_slug}/quiz/") + "$"))
    answer_quiz(page, lesson_slug, wrong=wrong)
    expect(page).to_have_url(re.compile(r"/quiz/attempts/\d+/$"))


def test_learner_fails_then_passes_module_one_and_completes_the_course_to_a_certificate(site, page, visitor_page):
    from certificates.models import Certificate

    slugs = course_lesson_slugs()
    assert len(slugs) == 7, f"the course has {len(slugs)} module files"

    # Sign up and read module 1.
    sign_up(page, "dorothy", HOLDER)
    page.get_by_role("link", name="Course", exact=True).click()
    page.get_by_role("link", name="The Problem With RNNs").click()

    # Fail its quiz: 2 of 5 wrong is 60 %, under the 80 % pass mark.
    take_quiz_from_the_lesson(page, slugs[0], wrong=2)
    expect(page.get_by_role("heading", level=1)).to_have_text("Not passed yet: 3/5")
    # A failed attempt shows neither the right answers nor which questions were wrong: only where to read again.
    expect(page.locator(".review-item--wrong")).to_have_count(0)
    expect(page.locator(".review-choice--key")).to_have_count(0)
    expect(page.get_by_role("heading", name="Sections to re-read")).to_be_visible()
    reread = page.locator(".reread-list a")
    expect(reread).not_to_have_count(0)
    assert reread.first.get_attribute("href").startswith(f"{COURSE_URL_PATH}{slugs[0]}/#")
    screenshot(page, "quiz-result-failed")

    # Retake and pass.
    page.get_by_role("link", name="Retake the quiz").click()
    answer_quiz(page, slugs[0])
    expect(page.get_by_role("heading", level=1)).to_have_text("Passed: 5/5")
    expect(page.locator(".review-choice--key")).to_have_count(5)
    screenshot(page, "quiz-result-passed")

    # Every other module, from the result page's "Continue" button through the lesson's quiz button.
    for slug in slugs[1:]:
        page.get_by_role("link", name=re.compile(r"^Continue with module")).click()
        take_quiz_from_the_lesson(page, slug)
        expect(page.get_by_role("heading", level=1)).to_have_text("Passed: 5/5")

    expect(page.get_by_role("heading", name="Course completed")).to_be_visible()
    page.get_by_role("link", name="Go to your dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Welcome"))
    expect(page.locator(".progress-table .status--passed")).to_have_count(7)
    certificate_status = page.locator(".certificate-status")
    expect(certificate_status).to_contain_text("Your certificate was issued")
    expect(certificate_status).to_contain_text(HOLDER)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "dashboard")
    dashboard_violations = accessibility_violations(page)

    certificate = Certificate.objects.get(user__username="dorothy")
    verification_path = urlsplit(certificate.get_absolute_url()).path
    expect(certificate_status.get_by_role("link", name="View and share")).to_have_attribute(
        "href", re.compile(re.escape(verification_path) + "$")
    )

    # Signed out, in a fresh browser profile: the public verification page.
    public = visitor_page
    public.goto(verification_path)
    expect(public.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(public.get_by_role("heading", name="Status: valid")).to_be_visible()
    expect(public.locator(".certificate-page__holder")).to_have_text(HOLDER)
    expect(public.locator(".certificate-facts")).to_contain_text(certificate.human_id)
    screenshot(public, "certificate-verification")
    verification_violations = accessibility_violations(public)

    og = {
        meta.get_attribute("property"): meta.get_attribute("content")
        for meta in public.locator("meta[property^='og:']").all()
    }
    assert og["og:url"] == certificate.verification_url
    assert HOLDER in og["og:title"] and "Transformers Architecture" in og["og:title"]
    assert certificate.human_id in og["og:description"]
    assert og["og:image"].endswith(f"{certificate.credential_id}.png")
    assert og["og:type"] == "website"
    share_image = public.request.get(urlsplit(og["og:image"]).path)
    assert share_image.ok and share_image.headers["content-type"] == "image/png"
    assert share_image.body()[:8] == b"\x89PNG\r\n\x1a\n"

    add_link = public.get_by_role("link", name=re.compile(r"^Add to LinkedIn profile"))
    add = urlsplit(add_link.get_attribute("href"))
    assert (add.scheme, add.netloc, add.path) == ("https", "www.linkedin.com", "/profile/add")
    add_params = {name: values[0] for name, values in parse_qs(add.query).items()}
    assert add_params["startTask"] == "CERTIFICATION_NAME"
    assert add_params["name"] == "Transformers Architecture"
    assert add_params["certUrl"] == certificate.verification_url
    assert add_params["certId"] == certificate.human_id
    assert add_params["issueYear"] == str(certificate.issued_at.year)
    share = urlsplit(public.get_by_role("link", name=re.compile(r"^Share on LinkedIn")).get_attribute("href"))
    assert (share.netloc, share.path) == ("www.linkedin.com", "/sharing/share-offsite/")
    assert parse_qs(share.query)["url"] == [certificate.verification_url]
    for link in (add_link, public.get_by_role("link", name=re.compile(r"^Share on LinkedIn"))):
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")

    # The PDF, downloaded the way a person does it; its hash is the one the page publishes.
    with public.expect_download() as download_info:
        public.get_by_role("link", name="Download PDF").click()
    pdf = download_info.value
    assert pdf.suggested_filename.endswith(".pdf")
    data = open(pdf.path(), "rb").read()  # noqa: SIM115
    assert data.startswith(b"%PDF")
    published_hash = public.locator(".certificate-hash").inner_text().strip()
    assert hashlib.sha256(data).hexdigest() == published_hash
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert HOLDER in text and certificate.human_id in text

    violations = dashboard_violations + verification_violations
    assert not violations, "\n".join(violations)
