"""Reads for the catalog, course and lesson pages. Each returns everything its page needs in few queries."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from core import page_cache

from .models import Course, Lesson, Module


def published_modules(course: Course) -> QuerySet[Module]:
    return (
        Module.objects.filter(course=course, published=True)
        .select_related("lesson", "quiz")  # the quiz: progress shows whether each module has one, no extra query
        .defer("lesson__body", "lesson__html", "lesson__toc")
        .order_by("order")
    )


def catalog() -> list[Course]:
    # The lesson (without its text) too: the home page links every module to its lesson.
    modules = (
        Module.objects.filter(published=True)
        .select_related("lesson")
        .defer("lesson__body", "lesson__html", "lesson__toc")
        .order_by("order")
    )
    return list(Course.objects.prefetch_related(Prefetch("modules", queryset=modules, to_attr="published_modules")))


def get_course(slug: str) -> Course:
    try:
        return Course.objects.get(slug=slug)
    except Course.DoesNotExist as exc:
        raise Http404("No such course") from exc


@dataclass
class LessonPage:
    course: Course
    lesson: Lesson
    module: Module
    previous: Module | None
    next: Module | None
    modules: list[Module]


# A lesson page's rows (the lesson with its rendered HTML, the module list for previous/next and progress) are
# the same for every reader: each process keeps a copy while the published content is unchanged.
_lesson_pages = page_cache.ProcessCopies("content")


def lesson_page(*, course_slug: str, lesson_slug: str) -> LessonPage:
    """The lesson, its module and course, and the published modules: this process's copy while the published
    content is unchanged, else two queries. Callers must not modify what it returns."""
    return _lesson_pages.get(
        (course_slug, lesson_slug), lambda: _load_lesson_page(course_slug=course_slug, lesson_slug=lesson_slug)
    )


def _load_lesson_page(*, course_slug: str, lesson_slug: str) -> LessonPage:
    try:
        lesson = Lesson.objects.select_related("module", "module__course").get(
            slug=lesson_slug, module__course__slug=course_slug, module__published=True
        )
    except Lesson.DoesNotExist as exc:
        raise Http404("No such lesson") from exc
    modules = list(published_modules(lesson.module.course))
    index = next(i for i, m in enumerate(modules) if m.pk == lesson.module_id)
    return LessonPage(
        course=lesson.module.course,
        lesson=lesson,
        module=lesson.module,
        previous=modules[index - 1] if index > 0 else None,
        next=modules[index + 1] if index + 1 < len(modules) else None,
        modules=modules,
    )
