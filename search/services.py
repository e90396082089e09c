"""Writes: keep a lesson's search entries in step with its text and quiz."""
from __future__ import annotations

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction

from lessons.models import Lesson

from .indexing import lesson_entries
from .models import SearchEntry


def rebuild_lesson_index(*, lesson: Lesson) -> int:
    """Replace ``lesson``'s entries with ones built from its current HTML and quiz; returns how many."""
    quiz = getattr(lesson.module, "quiz", None)
    questions = (
        [(q.prompt, q.explanation, q.section) for q in quiz.questions.order_by("order", "id")] if quiz else []
    )
    entries = lesson_entries(lesson_html=lesson.html, lesson_title=lesson.module.title, questions=questions)
    with transaction.atomic():
        SearchEntry.objects.filter(lesson=lesson).delete()
        SearchEntry.objects.bulk_create(
            SearchEntry(lesson=lesson, kind=e.kind, position=e.position, anchor=e.anchor, heading=e.heading[:300],
                        text=e.text, hidden_text=e.hidden_text)
            for e in entries
        )
        fill_vectors(SearchEntry.objects.filter(lesson=lesson))
    return len(entries)


def weighted_vector() -> SearchVector:
    """Heading, shown text and hidden text (a quiz explanation), most to least telling."""
    return (
        SearchVector("heading", weight="A", config="english")
        + SearchVector("text", weight="B", config="english")
        + SearchVector("hidden_text", weight="C", config="english")
    )


def fill_vectors(entries) -> None:
    """PostgreSQL: store each entry's tsvector once, so a query only reads the GIN index (no-op elsewhere)."""
    if connection.vendor == "postgresql":
        entries.update(vector=weighted_vector())


def rebuild_all() -> int:
    return sum(
        rebuild_lesson_index(lesson=lesson)
        for lesson in Lesson.objects.select_related("module__course", "module__quiz")
    )
