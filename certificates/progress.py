"""Completion, as the quizzes app computes it, turned into what a certificate records."""
from __future__ import annotations

from accounts.models import User
from lessons.models import Course
from quizzes.selectors import CourseProgress, ModuleStatus, course_progress

__all__ = ["CourseProgress", "course_progress", "module_results"]


def _percent(status: ModuleStatus) -> int | None:
    if not status.best_total:
        return None
    return round(100 * (status.best_score or 0) / status.best_total)


def module_results(progress: CourseProgress) -> list[dict]:
    """Per module, in course order: order, title, best quiz score in percent and the quiz's pass mark."""
    results = []
    for status in progress.modules:
        quiz = getattr(status.module, "quiz", None)
        results.append({
            "order": status.module.order,
            "title": status.module.title,
            "score": _percent(status),
            "pass_mark": quiz.pass_mark if quiz is not None else None,
        })
    return results


def progress_for(*, user: User, course: Course) -> CourseProgress:
    return course_progress(user=user, course=course)
