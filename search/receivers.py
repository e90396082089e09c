"""A saved lesson or quiz question re-indexes its lesson after the transaction commits.

The content loader saves a lesson and then each of its questions in one transaction: every save schedules a
rebuild, and the first one to run after the commit makes the others no-ops (they were scheduled before it).
"""
from __future__ import annotations

import time
from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lessons.models import Lesson
from quizzes.models import Question

_last_rebuild: dict[int, float] = {}


def _schedule(lesson_id: int | None) -> None:
    if lesson_id is not None:
        transaction.on_commit(partial(_rebuild, lesson_id, time.monotonic()))


def _rebuild(lesson_id: int, scheduled_at: float) -> None:
    from .services import rebuild_lesson_index

    if _last_rebuild.get(lesson_id, -1.0) > scheduled_at:
        return  # already rebuilt after this change was made
    _last_rebuild[lesson_id] = time.monotonic()
    lesson = Lesson.objects.filter(pk=lesson_id).select_related("module__course", "module__quiz").first()
    if lesson is not None:
        rebuild_lesson_index(lesson=lesson)


@receiver(post_save, sender=Lesson, dispatch_uid="search-lesson-saved")
def lesson_saved(sender, instance: Lesson, **kwargs) -> None:
    _schedule(instance.pk)


@receiver([post_save, post_delete], sender=Question, dispatch_uid="search-question-changed")
def question_changed(sender, instance: Question, **kwargs) -> None:
    _schedule(Lesson.objects.filter(module__quiz__pk=instance.quiz_id).values_list("pk", flat=True).first())
