"""Writes for quizzes and progress: opening and sealing attempts, recording reads.

An attempt is opened when the quiz form is shown (that is where its shuffled choice order and its opaque choice
tokens are fixed) and sealed once by ``submit_attempt`` with a conditional UPDATE (``WHERE submitted_at IS
NULL``), so a double click, a second tab or a replayed POST can never record a second result. The module's
progress row is updated by one upsert in the same transaction.
"""
from __future__ import annotations

import logging
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.http import QueryDict
from django.utils import timezone

from accounts.models import User
from lessons.models import Course, Lesson, Module

from . import selectors
from .models import QUESTIONS_PER_QUIZ, Answer, Attempt, ModuleProgress, Question, Quiz
from .signals import course_completed

logger = logging.getLogger(__name__)

FIELD_PREFIX = "question-"
_shuffler = random.SystemRandom()


def field_name(question: Question) -> str:
    return f"{FIELD_PREFIX}{question.pk}"


# --- Layout: the per-attempt order and tokens -----------------------------------------------------------

def build_layout(questions: Sequence[Question]) -> list[dict]:
    """Shuffle each question's choices and give each an opaque token, so the form carries no choice ids."""
    layout = []
    used: set[str] = set()
    for question in questions:
        choices = list(question.choices.all())
        _shuffler.shuffle(choices)
        entries = []
        for choice in choices:
            token = secrets.token_urlsafe(6)
            while token in used:
                token = secrets.token_urlsafe(6)
            used.add(token)
            entries.append({"token": token, "choice": choice.pk})
        layout.append({"question": question.pk, "choices": entries})
    return layout


def layout_matches(layout: list[dict], bank: Sequence[Question]) -> bool:
    """False when a question the attempt asks, or one of its choices, was edited away since it was drawn."""
    current = {q.pk: sorted(c.pk for c in q.choices.all()) for q in bank}
    return bool(layout) and all(
        current.get(entry["question"]) == sorted(c["choice"] for c in entry["choices"]) for entry in layout
    )


def tokens_by_question(layout: list[dict]) -> dict[int, dict[str, int]]:
    return {entry["question"]: {c["token"]: c["choice"] for c in entry["choices"]} for entry in layout}


def questions_of(attempt: Attempt, bank: Sequence[Question]) -> list[Question]:
    """The questions ``attempt`` asks, in the order it asks them."""
    by_id = {question.pk: question for question in bank}
    return [by_id[entry["question"]] for entry in attempt.layout if entry["question"] in by_id]


def draw_questions(*, user: User, quiz: Quiz, bank: Sequence[Question]) -> list[Question]:
    """The five questions of a new attempt.

    A learner's first attempt asks the quiz's first-attempt questions when it has five (module 1: the seed's
    quiz). Later attempts draw across the lesson's sections (one question per section in turn, sections in random
    order) and prefer the questions this learner has been asked least, so retakes do not repeat one set.
    """
    if len(bank) <= QUESTIONS_PER_QUIZ:
        return list(bank)
    asked = Counter(
        entry["question"]
        for layout in Attempt.objects.filter(user=user, quiz=quiz, submitted_at__isnull=False)
        .values_list("layout", flat=True)
        for entry in layout
    )
    first = [q for q in bank if q.first_attempt]
    if len(first) == QUESTIONS_PER_QUIZ and not asked:
        return first
    by_section: dict[str, list[Question]] = defaultdict(list)
    for question in bank:
        by_section[question.section].append(question)
    for questions in by_section.values():
        _shuffler.shuffle(questions)
        questions.sort(key=lambda q: asked[q.pk])  # stable: random among the equally often asked
    sections = list(by_section)
    _shuffler.shuffle(sections)
    sections.sort(key=lambda name: asked[by_section[name][0].pk])  # sections with fresh questions first
    drawn: list[Question] = []
    while len(drawn) < QUESTIONS_PER_QUIZ:
        for name in sections:
            if by_section[name] and len(drawn) < QUESTIONS_PER_QUIZ:
                drawn.append(by_section[name].pop(0))
    return sorted(drawn, key=lambda q: (q.order, q.pk))  # in lesson order, as the bank lists them


def start_attempt(*, user: User, quiz: Quiz, questions: Sequence[Question]) -> Attempt:
    """The learner's open attempt of ``quiz`` (created on first show; reused by a reload or a second tab).

    ``questions`` is the quiz's whole bank; the attempt asks five of them (``draw_questions``).
    """
    attempt = selectors.open_attempt_for(user=user, quiz=quiz)
    if attempt is not None:
        if not layout_matches(attempt.layout, questions):
            refresh_layout(attempt=attempt, questions=questions)
        return attempt
    drawn = draw_questions(user=user, quiz=quiz, bank=questions)
    try:
        with transaction.atomic():
            return Attempt.objects.create(user=user, quiz=quiz, layout=build_layout(drawn))
    except IntegrityError:
        # Another request opened it a moment ago (the partial unique constraint allows one open attempt).
        return Attempt.objects.get(user=user, quiz=quiz, submitted_at__isnull=True)


def refresh_layout(*, attempt: Attempt, questions: Sequence[Question]) -> None:
    """Draw again for an open attempt whose questions were edited (``questions``: the bank)."""
    attempt.layout = build_layout(draw_questions(user=attempt.user, quiz=attempt.quiz, bank=questions))
    Attempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(layout=attempt.layout)


# --- Reading a submitted form ---------------------------------------------------------------------------

class ForgedSubmission(ValueError):
    """The POST could not have come from the quiz form the learner was shown (answered with a 400)."""


@dataclass
class SubmittedAnswers:
    choices: dict[int, int]  # question id -> choice id
    tokens: dict[int, str]  # question id -> token, to re-check the radios when the form comes back
    missing: list[int]  # question ids left unanswered

    @property
    def complete(self) -> bool:
        return not self.missing


def read_answers(*, attempt: Attempt, questions: Sequence[Question], data: QueryDict) -> SubmittedAnswers:
    """Map the form's tokens back to choices. Raises ``ForgedSubmission`` for anything the form cannot send."""
    layout = tokens_by_question(attempt.layout)
    token_owner = {token: question_id for question_id, tokens in layout.items() for token in tokens}
    question_ids = {question.pk for question in questions}
    choices: dict[int, int] = {}
    tokens: dict[int, str] = {}
    for key in data:
        if not key.startswith(FIELD_PREFIX):
            continue
        raw_id = key.removeprefix(FIELD_PREFIX)
        if not raw_id.isdigit() or int(raw_id) not in question_ids or int(raw_id) not in layout:
            raise ForgedSubmission("The answers name a question that is not part of this quiz.")
        values = data.getlist(key)
        if len(values) != 1:
            raise ForgedSubmission("A question was answered more than once; each question takes one answer.")
        question_id, token = int(raw_id), values[0]
        if token not in layout[question_id]:
            if token in token_owner:
                raise ForgedSubmission("An answer was sent for a question it does not belong to.")
            raise ForgedSubmission("An answer is not one of the choices offered for its question.")
        choices[question_id] = layout[question_id][token]
        tokens[question_id] = token
    missing = [question.pk for question in questions if question.pk not in choices]
    return SubmittedAnswers(choices=choices, tokens=tokens, missing=missing)


# --- Sealing --------------------------------------------------------------------------------------------

@dataclass
class SubmitResult:
    attempt: Attempt
    recorded: bool  # False: the attempt had already been sealed (double submit); nothing was recorded
    course_complete: bool = False
    newly_completed_course: bool = False


def submit_attempt(
    *, user: User, attempt: Attempt, questions: Sequence[Question], answers: Mapping[int, int]
) -> SubmitResult:
    """Grade and seal ``attempt`` once. ``answers`` maps every question id to a choice id of that question.

    A constant number of queries whatever the number of questions. When the pass leaves the whole course
    completed, ``signals.course_completed`` is sent after the commit (see that module for the contract).
    """
    if attempt.user_id != user.pk:
        raise ValueError("An attempt can only be submitted by its own learner.")
    choices_by_id = {choice.pk: choice for question in questions for choice in question.choices.all()}
    graded = []
    for question in questions:
        choice = choices_by_id.get(answers.get(question.pk, -1))
        if choice is None or choice.question_id != question.pk:
            raise ValueError(f"Question {question.pk} has no valid answer.")
        graded.append((question, choice))
    quiz = attempt.quiz
    score, total = sum(choice.is_correct for _, choice in graded), len(graded)
    passed = quiz.passes(score=score, total=total)

    with transaction.atomic():
        now = timezone.now()
        fields = {"submitted_at": now, "score": score, "total": total, "pass_mark": quiz.pass_mark, "passed": passed}
        # The conditional UPDATE is the seal: a second request for the same attempt waits on the row lock this
        # UPDATE takes, then finds submitted_at set and matches nothing (PostgreSQL re-checks the WHERE after
        # the wait; SQLite runs one writer at a time).
        if not Attempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(**fields):
            return SubmitResult(attempt=Attempt.objects.get(pk=attempt.pk), recorded=False)
        for name, value in fields.items():
            setattr(attempt, name, value)
        Answer.objects.bulk_create(
            [Answer(attempt=attempt, question=q, choice=c, is_correct=c.is_correct) for q, c in graded]
        )
        newly_completed_module = _record_result(
            user=user, module_id=quiz.module_id, score=score, total=total, passed=passed, when=now
        )

    result = SubmitResult(attempt=attempt, recorded=True)
    if passed:
        complete = selectors.course_is_complete(user=user, course=quiz.module.course)
        result.course_complete = complete
        result.newly_completed_course = complete and newly_completed_module
        if complete:
            _announce_course_completed(user=user, attempt=attempt, newly_completed=result.newly_completed_course)
    return result


_RECORD_RESULT_SQL = """
INSERT INTO {table} AS progress
    (user_id, module_id, read_at, completed_at, attempts, best_score, best_total, updated_at)
VALUES (%(user)s, %(module)s, NULL, %(completed)s, 1, %(score)s, %(total)s, %(now)s)
ON CONFLICT (user_id, module_id) DO UPDATE SET
    attempts = progress.attempts + 1,
    completed_at = COALESCE(progress.completed_at, excluded.completed_at),
    best_score = CASE WHEN {better} THEN excluded.best_score ELSE progress.best_score END,
    best_total = CASE WHEN {better} THEN excluded.best_total ELSE progress.best_total END,
    updated_at = excluded.updated_at
RETURNING completed_at = %(completed)s
"""
# A better score compares fractions without division: new/new_total > best/best_total.
_BETTER = "(progress.best_total IS NULL OR excluded.best_score * progress.best_total > " \
          "COALESCE(progress.best_score, 0) * excluded.best_total)"


def _record_result(*, user: User, module_id: int, score: int, total: int, passed: bool, when: datetime) -> bool:
    """Update the module's progress row; True when this pass completed the module for the first time.

    One statement (an upsert, on PostgreSQL and SQLite alike) instead of lock, read, insert-or-update: the
    database applies it atomically, so two submissions of different attempts cannot lose a count, and only the
    pass whose timestamp ends up in ``completed_at`` reports the first completion.
    """
    completed = connection.ops.adapt_datetimefield_value(when) if passed else None
    sql = _RECORD_RESULT_SQL.format(table=ModuleProgress._meta.db_table, better=_BETTER)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk, "module": module_id, "completed": completed, "score": score,
                             "total": total, "now": connection.ops.adapt_datetimefield_value(timezone.now())})
        (newly_completed,) = cursor.fetchone()
    return bool(passed and newly_completed)


def _announce_course_completed(*, user: User, attempt: Attempt, newly_completed: bool) -> None:
    """Send ``course_completed`` after the attempt is committed; a failing receiver never undoes the pass.

    The receivers run in one transaction (a savepoint inside an outer one), so a receiver that fails halfway
    leaves no partial rows and no broken transaction behind; the error is logged, and the next pass of any of
    the course's quizzes sends the signal again.
    """
    try:
        with transaction.atomic():
            course_completed.send(
                sender=Attempt, user=user, course=attempt.quiz.module.course, attempt=attempt,
                newly_completed=newly_completed,
            )
    except Exception:  # any receiver's failure is logged; the learner's result stands
        logger.exception("A course_completed receiver failed for user %s, attempt %s", user.pk, attempt.pk)


# --- Reading ---------------------------------------------------------------------------------------------

def record_lesson_read(*, user: User, module: Module) -> None:
    """Mark the module as read the first time the learner opens its lesson (one query on later visits)."""
    now = timezone.now()
    progress, created = ModuleProgress.objects.get_or_create(user=user, module=module, defaults={"read_at": now})
    if not created and progress.read_at is None:
        ModuleProgress.objects.filter(pk=progress.pk, read_at__isnull=True).update(read_at=now)


def read_lesson(
    *, user: User, module: Module, course: Course, modules: Sequence[Module]
) -> selectors.CourseProgress:
    """The learner opens ``module``'s lesson: their progress through the course, with the module marked as read.

    A reader's progress rows are read anyway for the page, and they already say whether this module was read:
    later visits cost that one query and write nothing; only the first visit records the read and reads again.
    """
    progress = selectors.course_progress(user=user, course=course, modules=modules)
    status = progress.status_for(module)
    if status is not None and status.read:
        return progress
    record_lesson_read(user=user, module=module)
    return selectors.course_progress(user=user, course=course, modules=modules)


class UnknownSection(ValueError):
    """The anchor is not a heading of the lesson's table of contents."""


def record_reading_position(*, user: User, lesson: Lesson, anchor: str) -> None:
    """Remember ``anchor`` (a heading of ``lesson``) as where ``user`` stopped reading, for "Continue".

    Sent by the lesson page's script while the reader scrolls, so the usual case is one UPDATE and no read; only a
    reader without a progress row for the module yet (the page view creates one) costs an INSERT.
    """
    if anchor not in {item.get("id") for item in lesson.toc}:
        raise UnknownSection(anchor)
    now = timezone.now()
    fields = {"last_section": anchor, "last_seen_at": now}
    if ModuleProgress.objects.filter(user=user, module_id=lesson.module_id).update(**fields):
        return
    progress, created = ModuleProgress.objects.get_or_create(
        user=user, module_id=lesson.module_id, defaults={"read_at": now, **fields}
    )
    if not created:  # another request created it meanwhile
        ModuleProgress.objects.filter(pk=progress.pk).update(**fields)
