"""The search index: one row per lesson section, code listing and quiz question, rebuilt from the lesson's
rendered HTML whenever a lesson or one of its quiz questions is saved (``search.services``)."""
from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models

from lessons.models import Lesson


class SearchEntry(models.Model):
    class Kind(models.TextChoices):
        SECTION = "section", "Section"
        CODE = "code", "Code"
        QUIZ = "quiz", "Quiz question"

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="search_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    position = models.PositiveIntegerField(help_text="Order within the lesson.")
    anchor = models.CharField(max_length=200, blank=True, help_text="Heading id the result links to.")
    heading = models.CharField(max_length=300)
    text = models.TextField(help_text="Plain text that is matched and shown with highlights.")
    hidden_text = models.TextField(blank=True, help_text="Matched but never shown (a quiz explanation).")
    # PostgreSQL only (GIN-indexed): computed once per rebuild, not per query. Empty on other databases.
    vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ("lesson_id", "position")
        verbose_name_plural = "search entries"

    def __str__(self) -> str:
        return f"{self.lesson.slug}#{self.anchor} ({self.kind})"
