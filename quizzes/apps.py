from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "quizzes"
    verbose_name = "Quizzes and progress"

    def ready(self) -> None:
        from config.page_cache import invalidate_on_change

        from .models import Quiz

        # Publishing or unpublishing a quiz changes the links on cached anonymous lesson and course pages.
        invalidate_on_change("content", Quiz)
