"""axe-core on the main pages: no serious or critical violations, for anonymous visitors and signed-in learners."""

from tests.support.browser import accessibility_violations, answer_quiz
from tests.support.paths import COURSE_URL_PATH

# The syntax-highlighted tokens inside code listings are thousands of <span>s per lesson, which makes axe's
# colour-contrast rule take seconds per page. Their colours come from one stylesheet section shared by every
# lesson, so module 1 is checked in full and the other lessons without the tokens (the <pre> boxes themselves
# are still checked, e.g. for keyboard scrolling).
CODE_TOKENS = ".code-block pre code"


def lesson_paths() -> list[str]:
    from lessons.models import Lesson

    return [lesson.get_absolute_url() for lesson in Lesson.objects.order_by("module__order")]


def test_public_pages_have_no_serious_accessibility_violations(site, page):
    violations = []
    public_paths = [
        "/",
        COURSE_URL_PATH,
        COURSE_URL_PATH + "the-problem-with-rnns/quiz/",  # the quiz's "sign in to take it" page
        "/accounts/signup/",
        "/accounts/login/",
        "/about/",
        "/certificates/",
    ]
    for path in public_paths:
        page.goto(path)
        violations += accessibility_violations(page)
    assert not violations, "\n".join(violations)


def test_module_one_lesson_page_has_no_serious_accessibility_violations(site, page):
    page.goto(lesson_paths()[0])
    violations = accessibility_violations(page)
    assert not violations, "\n".join(violations)


def test_every_lesson_text_has_no_serious_accessibility_violations(site, page):
    violations = []
    for path in lesson_paths()[1:]:
        page.goto(path)
        violations += accessibility_violations(page, exclude=(CODE_TOKENS,))
    assert not violations, "\n".join(violations)


def test_signup_form_with_errors_has_no_serious_accessibility_violations(site, page):
    page.goto("/accounts/signup/")
    page.get_by_role("button", name="Create account").click()
    page.locator(".field__error").first.wait_for()
    violations = accessibility_violations(page)
    assert not violations, "\n".join(violations)


def test_pages_for_a_signed_in_learner_have_no_serious_accessibility_violations(site, signed_in_page):
    page = signed_in_page
    violations = []
    for path in [COURSE_URL_PATH, "/dashboard/"]:
        page.goto(path)
        violations += accessibility_violations(page)
    assert not violations, "\n".join(violations)


def test_quiz_pages_have_no_serious_accessibility_violations(site, signed_in_page):
    page = signed_in_page
    slug = "the-problem-with-rnns"
    violations = []
    page.goto(f"{COURSE_URL_PATH}{slug}/quiz/")
    violations += accessibility_violations(page)

    page.get_by_role("button", name="Submit answers").click()  # nothing answered: the error summary
    page.locator("#quiz-errors").wait_for()
    violations += accessibility_violations(page)

    answer_quiz(page, slug, wrong=2)
    page.get_by_role("heading", name="Not passed yet: 3/5").wait_for()
    violations += accessibility_violations(page)

    page.get_by_role("link", name="Retake the quiz").click()
    answer_quiz(page, slug)
    page.get_by_role("heading", name="Passed: 5/5").wait_for()
    violations += accessibility_violations(page)
    assert not violations, "\n".join(violations)
