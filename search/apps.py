from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Site search"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (keeps the index in step with lesson and quiz edits)
