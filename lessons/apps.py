from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "lessons"
    verbose_name = "Courses and lessons"

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from core.page_cache import invalidate_on_change

        from .models import Course, Figure, Lesson, Module
        from .rendering import render_before_save

        # Every saved lesson carries its rendered HTML (search indexes it on post_save; pages read it).
        pre_save.connect(render_before_save, sender=Lesson, dispatch_uid="lessons-render-before-save")

        # Their text and order are what the cached anonymous lesson, course and home pages show.
        invalidate_on_change("content", Course, Module, Lesson, Figure)
