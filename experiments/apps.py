from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Live experiments"

    def ready(self) -> None:
        from core.page_cache import invalidate_on_change

        from . import tasks  # noqa: F401  registers the run task, which services.enqueue_run publishes by name
        from .models import ExperimentRun

        # Admin edits and deletions of runs; a run's success is saved with update() and invalidates explicitly
        # (services.complete_run). Progress updates change nothing an anonymous reader sees.
        invalidate_on_change("experiments", ExperimentRun)
        invalidate_on_change("runs", ExperimentRun)  # a run created, edited or deleted: see selectors.has_active_run
