from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "lessons"
    verbose_name = "Courses and lessons"

    def ready(self) -> None:
        from config.page_cache import invalidate_on_change

        from .models import Course, Figure, Lesson, Module

        # Their text and order are what the cached anonymous lesson, course and home pages show.
        invalidate_on_change("content", Course, Module, Lesson, Figure)
