"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix."""
import os

from celery import Celery

from core import task_log

# Production unless told otherwise: `make run` and `make test` name their settings explicitly.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

app = Celery("transformers_academy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
task_log.connect()  # one JSON line per task run (logger academy.tasks)


@app.task(name="config.ping")
def ping() -> str:
    """A trivial task: proves a worker is consuming the broker."""
    return "pong"
