from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "quizzes"
    verbose_name = "Quizzes and progress"

    def ready(self) -> None:
        from core.page_cache import invalidate_on_change

        from .models import Choice, Question, Quiz

        # Publishing a quiz changes the links on cached anonymous lesson and course pages; any edit of a quiz,
        # its questions or choices must reach the cached quiz structure (selectors.quiz_page).
        invalidate_on_change("content", Quiz, Question, Choice)
