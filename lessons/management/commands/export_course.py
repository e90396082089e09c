from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lessons.models import Course
from lessons.services import export_course


class Command(BaseCommand):
    help = "Write a course from the database back to Markdown files (so admin edits can be committed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--course", default="transformers-architecture")
        parser.add_argument("--directory", default=None, help="Default: content/<course-slug>")

    def handle(self, *args, course: str, directory: str | None, **options) -> None:
        try:
            course_obj = Course.objects.get(slug=course)
        except Course.DoesNotExist as exc:
            raise CommandError(f"no course with slug {course!r}") from exc
        for path in export_course(course=course_obj, directory=Path(directory or f"content/{course}")):
            self.stdout.write(f"wrote {path}")
