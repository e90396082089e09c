"""Reads for quiz pages, lesson/course status and the dashboard.

``course_progress`` is the one place progress is computed, so the course page, the lesson pages, the quiz
result and the dashboard can never disagree.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from core import page_cache
from lessons.models import Course, Lesson, Module
from lessons.selectors import published_modules

from .models import Attempt, Choice, ModuleProgress, Question, Quiz

NOT_STARTED, READ, NOT_PASSED, COMPLETED = "not-started", "read", "not-passed", "completed"
STATE_LABELS = {NOT_STARTED: "Not started", READ: "Read", NOT_PASSED: "Quiz not passed yet", COMPLETED: "Completed"}


@dataclass(frozen=True)
class ModuleStatus:
    module: Module
    has_quiz: bool
    read: bool = False
    completed: bool = False
    attempts: int = 0
    best_score: int | None = None
    best_total: int | None = None

    @property
    def state(self) -> str:
        if self.completed:
            return COMPLETED
        if self.attempts:  # a failed quiz says more than "Read": the reader is not done with this module
            return NOT_PASSED
        return READ if self.read else NOT_STARTED

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def best(self) -> str:
        """The best score as learners read it, e.g. "4/5" (empty before the first attempt)."""
        return f"{self.best_score}/{self.best_total}" if self.best_total else ""

    @property
    def missing(self) -> str:
        """What this module still lacks for the certificate, in words ("" when completed)."""
        if self.completed:
            return ""
        name = f"module {self.module.order}: {self.module.title}"
        if not self.has_quiz:
            return f"Wait for the quiz of {name} to be published"
        return f"Pass the quiz of {name}"


@dataclass(frozen=True)
class CourseProgress:
    course: Course
    modules: list[ModuleStatus] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.modules)

    @property
    def done(self) -> int:
        return sum(status.completed for status in self.modules)

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def started(self) -> bool:
        return any(status.read or status.attempts for status in self.modules)

    @property
    def missing(self) -> list[str]:
        return [status.missing for status in self.modules if not status.completed]

    @property
    def summary(self) -> str:
        return f"{self.done} of {self.total} modules done"

    def status_for(self, module: Module) -> ModuleStatus | None:
        return next((status for status in self.modules if status.module.pk == module.pk), None)


def _has_published_quiz(module: Module) -> bool:
    quiz = getattr(module, "quiz", None)  # select_related by published_modules, so no query here
    return quiz is not None and quiz.published


def course_progress(
    *, user: User | AnonymousUser, course: Course, modules: Sequence[Module] | None = None
) -> CourseProgress:
    """Every published module's status for ``user``.

    ``modules`` lets a page pass the list it already loaded (from ``lessons.selectors.published_modules``,
    which brings each module's quiz along); then an anonymous visitor costs no query at all and a signed-in
    learner one.
    """
    modules = list(published_modules(course)) if modules is None else list(modules)
    records = _progress_rows(user=user, module_ids=[m.pk for m in modules]) if user.is_authenticated else {}
    statuses = []
    for module in modules:
        record = records.get(module.pk)
        if record is None:
            statuses.append(ModuleStatus(module=module, has_quiz=_has_published_quiz(module)))
            continue
        read, completed, attempts, best_score, best_total = record
        statuses.append(
            ModuleStatus(
                module=module,
                has_quiz=_has_published_quiz(module),
                read=bool(read),
                completed=bool(completed),
                attempts=attempts,
                best_score=best_score,
                best_total=best_total,
            )
        )
    return CourseProgress(course=course, modules=statuses)


_PROGRESS_ROWS_SQL = (
    "SELECT module_id, read_at IS NOT NULL, completed_at IS NOT NULL, attempts, best_score, best_total "
    "FROM {table} WHERE user_id = %s AND module_id IN ({modules})"
)


def _progress_rows(*, user: User, module_ids: list[int]) -> dict[int, tuple]:
    """The learner's progress rows as plain values, by module id. Every signed-in page reads them, and the ORM's
    query building and model instances cost several times the query itself (~1.2 against ~0.2 ms of CPU)."""
    if not module_ids:
        return {}
    sql = _PROGRESS_ROWS_SQL.format(
        table=ModuleProgress._meta.db_table, modules=", ".join(["%s"] * len(module_ids))
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, *module_ids])
        return {row[0]: row[1:] for row in cursor.fetchall()}



def course_is_complete(*, user: User, course: Course) -> bool:
    """``course_progress(...).is_complete`` in one aggregate query: what a quiz submission needs to know."""
    completed = ModuleProgress.objects.filter(module=OuterRef("pk"), user=user, completed_at__isnull=False)
    counts = Module.objects.filter(course=course, published=True).aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(Exists(completed)))
    )
    return counts["total"] > 0 and counts["done"] == counts["total"]


@dataclass
class QuizPage:
    quiz: Quiz
    module: Module
    lesson: Lesson
    course: Course
    questions: list[Question]

    @property
    def question_count(self) -> int:
        return len(self.questions)


# Every quiz view and every submission needs the quiz structure; re-reading it costs three queries and ~2.4 ms
# of CPU, so each process keeps a copy while the published content is unchanged.
_quiz_pages = page_cache.ProcessCopies("content")


def quiz_page(*, course_slug: str, lesson_slug: str, with_questions: bool = True) -> QuizPage:
    """A published quiz with its questions and choices: this process's copy while the published content is
    unchanged, else three queries whatever the number of questions. Callers must not modify what it returns."""
    return _quiz_pages.get(
        (course_slug, lesson_slug, with_questions),
        lambda: _load_quiz_page(course_slug=course_slug, lesson_slug=lesson_slug, with_questions=with_questions),
    )


def _load_quiz_page(*, course_slug: str, lesson_slug: str, with_questions: bool) -> QuizPage:
    try:
        quiz = Quiz.objects.select_related("module__course", "module__lesson").get(
            published=True,
            module__published=True,
            module__course__slug=course_slug,
            module__lesson__slug=lesson_slug,
        )
    except Quiz.DoesNotExist as exc:
        raise Http404("This lesson has no quiz") from exc
    questions: list[Question] = []
    if with_questions:
        questions = list(
            quiz.questions.order_by("order", "id").prefetch_related(
                Prefetch("choices", queryset=Choice.objects.order_by("order", "id"))
            )
        )
    module = quiz.module
    return QuizPage(quiz=quiz, module=module, lesson=module.lesson, course=module.course, questions=questions)


def question_count(quiz: Quiz) -> int:
    return quiz.questions.count()


def open_attempt_for(*, user: User, quiz: Quiz) -> Attempt | None:
    return Attempt.objects.filter(user=user, quiz=quiz, submitted_at__isnull=True).first()


def last_sealed_attempt(*, user: User, quiz: Quiz) -> Attempt | None:
    return Attempt.objects.filter(user=user, quiz=quiz, submitted_at__isnull=False).order_by("-submitted_at").first()


def retake_allowed_at(*, user: User, quiz: Quiz) -> datetime | None:
    """When the learner may retake ``quiz`` after a failure (None: now).

    Two rules, the later wins: the quiz's own pause after any failed attempt (``cooloff_minutes``), and a pause
    that grows with repeated failures: after ``QUIZ_FREE_FAILURES`` failed attempts within
    ``QUIZ_FAILURE_WINDOW_HOURS``, each further failure waits the next step of ``QUIZ_COOLOFF_STEPS_MINUTES``
    (10 min, 1 h, 6 h by default), so a script cannot guess its way through while a learner loses little.
    Retakes stay unlimited.
    """
    now = timezone.now()
    window_start = now - timedelta(hours=settings.QUIZ_FAILURE_WINDOW_HOURS)
    failures = list(
        Attempt.objects.filter(user=user, quiz=quiz, passed=False, submitted_at__gte=window_start)
        .order_by("-submitted_at").values_list("submitted_at", flat=True)[:50]
    )
    last = last_sealed_attempt(user=user, quiz=quiz)
    if last is None or last.passed or not failures:
        return None
    waits = [timedelta(minutes=quiz.cooloff_minutes)]
    beyond_free = len(failures) - settings.QUIZ_FREE_FAILURES
    if beyond_free >= 0:
        steps = settings.QUIZ_COOLOFF_STEPS_MINUTES
        waits.append(timedelta(minutes=steps[min(beyond_free, len(steps) - 1)]))
    allowed_at = failures[0] + max(waits)
    return allowed_at if allowed_at > now else None


def sealed_attempt(*, user: User, quiz: Quiz, attempt_id: int) -> Attempt:
    """The learner's own submitted attempt of this quiz, with its answers; 404 for anyone else's."""
    try:
        return (
            Attempt.objects.prefetch_related("answers")
            .get(pk=attempt_id, user=user, quiz=quiz, submitted_at__isnull=False)
        )
    except Attempt.DoesNotExist as exc:
        raise Http404("No such attempt") from exc


def lesson_for_reading_position(*, lesson_slug: str) -> Lesson:
    """The published lesson a reading position is reported for (404 otherwise); only what validation needs."""
    lesson = (
        Lesson.objects.filter(slug=lesson_slug, module__published=True).only("id", "module_id", "toc").first()
    )
    if lesson is None:
        raise Http404("No such lesson")
    return lesson


@dataclass(frozen=True)
class ReadingPosition:
    """Where a reader stopped: "Continue: module N, section X" links to ``url``."""

    module: Module
    section_title: str  # empty when the section has since been removed from the lesson
    url: str


def last_reading_position(*, user: User | AnonymousUser, course: Course | None = None) -> ReadingPosition | None:
    """The reader's most recently recorded position (in ``course`` if given), or None (always for anonymous)."""
    if not user.is_authenticated:
        return None
    rows = ModuleProgress.objects.filter(user=user, module__published=True, last_seen_at__isnull=False).exclude(
        last_section=""
    )
    if course is not None:
        rows = rows.filter(module__course=course)
    # Not the lesson's body or HTML: a page shows this on every signed-in view.
    fields = ("last_section", "module__order", "module__title", "module__course__slug", "module__lesson__slug",
              "module__lesson__toc")
    row = rows.select_related("module__course", "module__lesson").only(*fields).order_by("-last_seen_at").first()
    if row is None:
        return None
    lesson = row.module.lesson
    titles = {item.get("id"): item.get("text", "") for item in lesson.toc}
    url = lesson.get_absolute_url()
    if row.last_section in titles:
        url = f"{url}#{row.last_section}"
    return ReadingPosition(module=row.module, section_title=titles.get(row.last_section, ""), url=url)
