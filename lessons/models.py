from __future__ import annotations

from django.db import models
from django.urls import reverse

from .figures import sanitize_svg


class Difficulty(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class Course(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    tagline = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    issuer_name = models.CharField(
        max_length=200, default="Transformers Academy", help_text="Printed on certificates as the issuer."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("course_detail", kwargs={"course_slug": self.slug})


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, help_text="One line shown in the module list.")
    difficulty = models.CharField(max_length=20, choices=Difficulty.choices, default=Difficulty.BEGINNER)
    published = models.BooleanField(default=True)

    class Meta:
        ordering = ["course", "order"]
        constraints = [models.UniqueConstraint(fields=["course", "order"], name="unique_module_order_per_course")]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Lesson(models.Model):
    """A module's reading. ``body`` is Markdown; the rendered HTML is cached in the row itself."""

    module = models.OneToOneField(Module, on_delete=models.CASCADE, related_name="lesson")
    slug = models.SlugField(unique=True)
    body = models.TextField(help_text="Markdown. See docs/content-format.md.")

    # Render cache: filled on save (lessons.rendering), refreshed when the renderer version changes.
    html = models.TextField(blank=True, editable=False)
    toc = models.JSONField(default=list, blank=True, editable=False)
    word_count = models.PositiveIntegerField(default=0, editable=False)
    reading_minutes = models.PositiveSmallIntegerField(default=1, editable=False)
    rendered_hash = models.CharField(max_length=64, blank=True, editable=False)

    # Loader bookkeeping: the hash of the content as last loaded from a file, so the loader can tell
    # whether an admin edited the lesson since (and then leave it alone unless --force).
    loaded_hash = models.CharField(max_length=64, blank=True, editable=False)
    loaded_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.module.title

    @property
    def title(self) -> str:
        return self.module.title

    def get_absolute_url(self) -> str:
        return reverse(
            "lesson_detail", kwargs={"course_slug": self.module.course.slug, "lesson_slug": self.slug}
        )


def forget_rendered_lessons(*, course_id: int) -> None:
    """Make the course's lessons re-render on their next view (a figure they may inline changed)."""
    Lesson.objects.filter(module__course_id=course_id).update(rendered_hash="")


class Figure(models.Model):
    """An SVG diagram of a course, referenced from lesson Markdown by a ```figure fence (``src: figures/<name>``).

    The SVG is sanitised on every save (see ``lessons.figures``), so what is stored is what pages inline.
    """

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="figures")
    name = models.CharField(max_length=100, help_text="File name, e.g. 01-unrolled-rnn.svg")
    svg = models.TextField(help_text="SVG source. Scripts, event handlers and external references are removed.")
    loaded_hash = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "name"]
        constraints = [models.UniqueConstraint(fields=["course", "name"], name="unique_figure_name_per_course")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.svg = sanitize_svg(self.svg)
        super().save(*args, **kwargs)
        # Lessons inline their figures when rendered: re-render them on their next view.
        forget_rendered_lessons(course_id=self.course_id)

    def delete(self, *args, **kwargs):
        course_id = self.course_id
        result = super().delete(*args, **kwargs)
        forget_rendered_lessons(course_id=course_id)
        return result
