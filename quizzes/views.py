"""Thin views: quiz form and result, dashboard, reading position. Logic lives in services, reads in selectors."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from certificates.services import issue_for_completed_course
from core.throttle import throttle
from lessons.models import Course

from . import selectors, services
from .models import QUESTIONS_PER_QUIZ, Attempt
from .presentation import attempt_review, form_questions, sections_to_reread


def _quiz_url(page: selectors.QuizPage) -> str:
    return reverse("quiz", kwargs={"course_slug": page.course.slug, "lesson_slug": page.lesson.slug})


def _module_status(request: HttpRequest, page: selectors.QuizPage) -> selectors.ModuleStatus | None:
    progress = selectors.course_progress(user=request.user, course=page.course, modules=[page.module])
    return progress.status_for(page.module)


@require_http_methods(["GET", "HEAD", "POST"])
def quiz(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect_to_login(request.get_full_path())
        page = selectors.quiz_page(course_slug=course_slug, lesson_slug=lesson_slug, with_questions=False)
        bank_size = selectors.question_count(page.quiz)
        return render(
            request,
            "quizzes/quiz_signin.html",
            {"page": page, "bank_size": bank_size, "asked": min(bank_size, QUESTIONS_PER_QUIZ),
             "quiz_url": _quiz_url(page)},
        )
    page = selectors.quiz_page(course_slug=course_slug, lesson_slug=lesson_slug)
    if request.method == "POST":
        return _submit(request, page)
    allowed_at = selectors.retake_allowed_at(user=request.user, quiz=page.quiz)
    if allowed_at is not None:
        return render(request, "quizzes/quiz_cooloff.html", {"page": page, "allowed_at": allowed_at})
    attempt = services.start_attempt(user=request.user, quiz=page.quiz, questions=page.questions)
    return _render_form(request, page, attempt)


def _render_form(
    request: HttpRequest,
    page: selectors.QuizPage,
    attempt: Attempt,
    answers: services.SubmittedAnswers | None = None,
    notice: str = "",
) -> HttpResponse:
    questions = form_questions(
        attempt=attempt,
        questions=services.questions_of(attempt, page.questions),
        chosen_tokens=answers.tokens if answers else None,
        missing=answers.missing if answers else (),
    )
    return render(
        request,
        "quizzes/quiz_form.html",
        {
            "page": page,
            "attempt": attempt,
            "questions": questions,
            "unanswered": [q for q in questions if q.error],
            "notice": notice,
            "status": _module_status(request, page),
        },
    )


def _bad_submission(request: HttpRequest, page: selectors.QuizPage, message: str) -> HttpResponse:
    return render(
        request, "quizzes/bad_submission.html", {"page": page, "message": message, "quiz_url": _quiz_url(page)},
        status=400,
    )


def _submit(request: HttpRequest, page: selectors.QuizPage) -> HttpResponse:
    attempt_ids = request.POST.getlist("attempt")
    if len(attempt_ids) != 1 or not attempt_ids[0].isdigit():
        return _bad_submission(request, page, "The answers did not say which attempt they belong to.")
    attempt = Attempt.objects.filter(pk=int(attempt_ids[0]), user=request.user, quiz=page.quiz).first()
    if attempt is None:
        message = "These answers belong to an attempt that is not yours or not of this quiz."
        return _bad_submission(request, page, message)
    attempt.quiz = page.quiz  # already loaded with its module and course
    if attempt.is_sealed:
        messages.info(request, "You already submitted this attempt; here is its result.")
        return redirect(_result_url(page, attempt))
    if not services.layout_matches(attempt.layout, page.questions):
        services.refresh_layout(attempt=attempt, questions=page.questions)
        notice = "This quiz was updated while you were answering it. Please answer the questions again."
        return _render_form(request, page, attempt, notice=notice)
    asked = services.questions_of(attempt, page.questions)
    try:
        answers = services.read_answers(attempt=attempt, questions=asked, data=request.POST)
    except services.ForgedSubmission as exc:
        return _bad_submission(request, page, str(exc))
    if not answers.complete:
        return _render_form(request, page, attempt, answers=answers)
    result = services.submit_attempt(user=request.user, attempt=attempt, questions=asked, answers=answers.choices)
    if result.course_complete:
        # Idempotent: a later pass of a completed course retries a certificate that could not be issued before.
        issue_for_completed_course(user=request.user, course=result.attempt.quiz.module.course)
    if not result.recorded:
        messages.info(request, "You already submitted this attempt; here is its result.")
    return redirect(_result_url(page, result.attempt))


def _result_url(page: selectors.QuizPage, attempt: Attempt) -> str:
    return reverse(
        "quiz_result",
        kwargs={"course_slug": page.course.slug, "lesson_slug": page.lesson.slug, "attempt_id": attempt.pk},
    )


@require_safe
@login_required
def quiz_result(request: HttpRequest, course_slug: str, lesson_slug: str, attempt_id: int) -> HttpResponse:
    page = selectors.quiz_page(course_slug=course_slug, lesson_slug=lesson_slug)
    attempt = selectors.sealed_attempt(user=request.user, quiz=page.quiz, attempt_id=attempt_id)
    progress = selectors.course_progress(user=request.user, course=page.course)
    status = progress.status_for(page.module)
    next_status = next(
        (s for s in progress.modules if s.module.order > page.module.order and not s.completed), None
    )
    allowed_at = selectors.retake_allowed_at(user=request.user, quiz=page.quiz)
    return render(
        request,
        "quizzes/quiz_result.html",
        {
            "page": page,
            "attempt": attempt,
            "review": attempt_review(attempt=attempt, questions=services.questions_of(attempt, page.questions)),
            "reread": sections_to_reread(
                attempt=attempt, questions=services.questions_of(attempt, page.questions), toc=page.lesson.toc
            ),
            "progress": progress,
            "status": status,
            "next_status": next_status,
            "allowed_at": allowed_at,
            "quiz_url": _quiz_url(page),
        },
    )


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    courses = [
        selectors.course_progress(user=request.user, course=course) for course in Course.objects.order_by("title")
    ]
    return render(request, "quizzes/dashboard.html", {"course_progresses": courses})


@require_POST
@throttle("reading_position")
def reading_position(request: HttpRequest) -> HttpResponse:
    """Record the section a signed-in reader is reading (sent by static/js/reading-position.js): 204, no body.

    The script sends form data with the CSRF token in it, as navigator.sendBeacon cannot set headers.
    """
    if not request.user.is_authenticated:
        return HttpResponseForbidden("Sign in to keep your place.")
    lesson = selectors.lesson_for_reading_position(lesson_slug=request.POST.get("lesson", ""))
    try:
        services.record_reading_position(user=request.user, lesson=lesson, anchor=request.POST.get("section", ""))
    except services.UnknownSection:
        return HttpResponseBadRequest("That section is not in the lesson.")
    return HttpResponse(status=204)
