"""Fill the bench database: schema, the real course, and the learners, sessions and attempts the load needs.

Run by run_all.py as ``python -m perf.prepare`` with the bench environment (perf.settings, the bench database);
collectstatic runs beside it.
Writes ``.var/bench/fixtures.json``: the URLs to load, signed-in session cookies, and one ready-to-send quiz
submission per open attempt (each attempt can be sealed exactly once, so submissions are never replayed).

Learners are created the way the product would hold them; their attempts are opened with the product's own
``quizzes.services.build_layout`` (the shuffled order and opaque tokens the quiz form shows), in bulk, because
going through the HTTP form for thousands of attempts would take longer than the benchmark itself.
"""
from __future__ import annotations

import json
import os

import django

N_READERS = int(os.environ.get("BENCH_READERS", "64"))
N_SUBMITTERS = int(os.environ.get("BENCH_SUBMITTERS", "900"))
N_GRADUATES = int(os.environ.get("BENCH_GRADUATES", "20"))
PASS_SHARE = 0.75  # most submissions pass (progress changes), some fail (the other grading path)


def _session_cookies(users) -> list[str]:
    """A signed-in session per user, stored exactly as django.contrib.auth.login stores one (in bulk)."""
    from datetime import timedelta

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store = SessionStore()
    expire = timezone.now() + timedelta(days=1)
    keys, rows = [], []
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        keys.append(key)
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
    Session.objects.bulk_create(rows, batch_size=500)
    return keys


def _csrf_secret() -> str:
    from django.middleware.csrf import _get_new_csrf_string

    return _get_new_csrf_string()


def create_users(prefix: str, count: int):
    from django.utils import timezone

    from accounts.models import User

    confirmed = timezone.now()  # certificates wait for a confirmed address; these learners have confirmed theirs
    users = [
        User(username=f"{prefix}{i}", email=f"{prefix}{i}@bench.invalid", full_name=f"Bench {prefix.title()} {i}",
             password="!", email_verified_at=confirmed)  # unusable password: they only use the sessions made below
        for i in range(count)
    ]
    User.objects.bulk_create(users, batch_size=500)
    return list(User.objects.filter(username__startswith=prefix).order_by("pk"))


def _submission_body(*, attempt, csrf: str, questions, passing: bool) -> str:
    """The form body a learner's browser sends: attempt id, CSRF token and one token per question."""
    from urllib.parse import urlencode

    from quizzes.services import field_name, tokens_by_question

    tokens = tokens_by_question(attempt.layout)
    fields = {"csrfmiddlewaretoken": csrf, "attempt": str(attempt.pk)}
    for number, question in enumerate(questions):
        right = next(c.pk for c in question.choices.all() if c.is_correct)
        answer_right = passing or number >= 2  # failing: the first two questions wrong -> 3/5 < 80%
        wanted = (lambda choice_id, right=right: choice_id == right) if answer_right else (
            lambda choice_id, right=right: choice_id != right)
        token = next(t for t, choice_id in tokens[question.pk].items() if wanted(choice_id))
        fields[field_name(question)] = token
    return urlencode(fields)


def _graduates(course, modules) -> list[str]:
    """Learners who completed every module, each with the certificate the product issues: verification URLs."""
    from django.utils import timezone

    from certificates.services import issue_certificate
    from quizzes.models import ModuleProgress

    now = timezone.now()
    users = create_users("graduate", N_GRADUATES)
    ModuleProgress.objects.bulk_create(
        ModuleProgress(user=user, module=module, read_at=now, completed_at=now, attempts=1, best_score=5,
                       best_total=5)
        for user in users for module in modules
    )
    return [issue_certificate(user=user, course=course).get_absolute_url() for user in users]


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from lessons.models import Course
    from quizzes.models import Attempt, Quiz
    from quizzes.services import build_layout

    from .common import COURSE_DIR, COURSE_SLUG, FIXTURES_JSON

    quiet = open(os.devnull, "w")  # noqa: SIM115
    call_command("migrate", "--no-input", verbosity=0, stdout=quiet)
    call_command("load_course", str(COURSE_DIR), stdout=quiet)

    course = Course.objects.get(slug=COURSE_SLUG)
    modules = list(course.modules.filter(published=True).select_related("lesson").order_by("order"))
    course_url = course.get_absolute_url()
    lesson_urls = [module.lesson.get_absolute_url() for module in modules]

    readers = create_users("reader", N_READERS)
    reader_sessions = _session_cookies(readers)

    # Quiz submissions: every quiz but the last published one, so no submission completes the course (issuing a
    # certificate is measured on its own, not hidden inside the submission figures).
    quizzes = list(
        Quiz.objects.filter(module__course=course, module__published=True, published=True)
        .select_related("module__lesson").order_by("module__order")
    )
    submit_quizzes = quizzes[:-1] if len(quizzes) > 1 else quizzes
    questions_by_quiz = {
        quiz.pk: list(quiz.questions.order_by("order", "id").prefetch_related("choices")) for quiz in submit_quizzes
    }
    submitters = create_users("submitter", N_SUBMITTERS) if submit_quizzes else []
    submissions = []
    with transaction.atomic():
        attempts = Attempt.objects.bulk_create(
            [
                Attempt(user=user, quiz=quiz, layout=build_layout(questions_by_quiz[quiz.pk]))
                for user in submitters for quiz in submit_quizzes
            ],
            batch_size=500,
        )
    quiz_by_pk = {quiz.pk: quiz for quiz in submit_quizzes}
    session_by_user = {
        user.pk: (key, _csrf_secret()) for user, key in zip(submitters, _session_cookies(submitters), strict=True)
    }
    for index, attempt in enumerate(attempts):
        session, csrf = session_by_user[attempt.user_id]
        quiz = quiz_by_pk[attempt.quiz_id]
        passing = (index % 100) < PASS_SHARE * 100
        submissions.append({
            "path": f"{course_url}{quiz.module.lesson.slug}/quiz/",
            "cookie": f"sessionid={session}; csrftoken={csrf}",
            "body": _submission_body(attempt=attempt, csrf=csrf, questions=questions_by_quiz[quiz.pk], passing=passing),
            "attempt": attempt.pk,
        })

    verification_urls = _graduates(course, modules)

    fixtures = {
        "verification_urls": verification_urls,
        "course_url": course_url,
        "lesson_urls": lesson_urls,
        "module_count": len(modules),
        # A signed-in browser always holds a CSRF cookie (set by the sign-in form, rotated by the sign-in), so
        # a reader's request carries one, as the quiz submissions' do.
        "reader_cookies": [f"sessionid={key}; csrftoken={_csrf_secret()}" for key in reader_sessions],
        "submissions": submissions,
        "submit_quizzes": len(submit_quizzes),
    }
    FIXTURES_JSON.parent.mkdir(parents=True, exist_ok=True)
    FIXTURES_JSON.write_text(json.dumps(fixtures))
    print(json.dumps({key: (len(value) if isinstance(value, list) else value) for key, value in fixtures.items()}))


if __name__ == "__main__":
    main()
