"""Writes for experiment runs: submitting (with reuse, fairness and queue bounds), the worker's state
transitions, and the reaper.

Every state change is one conditional UPDATE (``WHERE status IN (...)``): a run moves forward only from the
state the caller believes it is in, so a late worker cannot resurrect a run the reaper already failed, and a
redelivered task cannot run a finished run again.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core import page_cache

from . import catalog, polling, selectors
from .models import ExperimentRun

logger = logging.getLogger(__name__)
Status = ExperimentRun.Status

# How long after its hard time limit a running run may still be reported before the reaper fails it.
RUNNING_GRACE_S = 60
# An enqueue must answer quickly: with the broker down the user gets a 503 in about two seconds, not a hang.
ENQUEUE_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2, "max_retries": 0}
ERROR_MAX_CHARS = 2000

RUN_TASK_NAME = "experiments.run_experiment"
UNAVAILABLE_MESSAGE = "experiment runs are unavailable right now"


class SubmissionRefusedError(Exception):
    """A run request that is valid but cannot be served now; ``status_code`` is the HTTP answer."""

    status_code = 400

    def __init__(self, message: str, *, run: ExperimentRun | None = None, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.run = run
        self.retry_after_s = retry_after_s


class UserRunLimitError(SubmissionRefusedError):
    status_code = 429


class QueueFullError(SubmissionRefusedError):
    status_code = 429


class RunsUnavailableError(SubmissionRefusedError):
    status_code = 503


@dataclass(frozen=True)
class Submission:
    run: ExperimentRun
    created: bool  # False: an identical run (in progress, or succeeded recently) answers the request


def submit_run(*, user, experiment: str, params: Any) -> Submission:
    """Queue a run of ``experiment`` with ``params`` for ``user`` (who must be signed in), or return the run
    that already answers it.

    Raises ``catalog.UnknownExperimentError`` / ``catalog.InvalidParamsError`` for bad input, and a
    :class:`SubmissionRefusedError` subclass when the user already has a run in progress (429), the queue is
    full (429) or the broker cannot be reached (503; the new run is then marked failed, never left queued).
    """
    if user is None or not user.is_authenticated:
        raise PermissionError("only signed-in users can start experiment runs")
    device_class = selectors.expected_device_class()
    validated = catalog.validate_params(experiment, params, device_class)
    digest = catalog.params_hash(experiment, validated)

    with transaction.atomic():
        _serialise_submissions()
        reap_overdue_runs()
        existing = selectors.reusable_run(experiment=experiment, params_hash=digest, device_class=device_class)
        if existing is not None:
            return Submission(run=existing, created=False)
        mine = selectors.active_run_of(user)
        if mine is not None:
            raise UserRunLimitError(
                f"You already have a run in progress (run #{mine.pk}, {mine.experiment}); "
                "start another one when it has finished.",
                run=mine,
            )
        limit = settings.EXPERIMENTS_MAX_ACTIVE_RUNS
        if selectors.active_run_count() >= limit:
            raise QueueFullError(
                f"The experiment queue is full ({limit} runs waiting or running). Please try again in a few minutes.",
                retry_after_s=60,
            )
        run = _create_run(experiment=experiment, params=validated, params_hash=digest, device_class=device_class,
                          user=user)
    enqueue_run(run=run)
    return Submission(run=run, created=True)


def rerun(*, run: ExperimentRun, user) -> ExperimentRun:
    """Queue a fresh run with the same experiment and params (the admin's "re-run"; no reuse, no limits).

    Raises :class:`RunsUnavailableError` when the broker cannot be reached.
    """
    device_class = selectors.expected_device_class()
    with transaction.atomic():
        new_run = _create_run(experiment=run.experiment, params=run.params, params_hash=run.params_hash,
                              device_class=device_class, user=user, rerun_of=run)
    enqueue_run(run=new_run)
    return new_run


def _create_run(*, experiment: str, params: dict, params_hash: str, device_class: str, user,
                rerun_of: ExperimentRun | None = None) -> ExperimentRun:
    now = timezone.now()
    return ExperimentRun.objects.create(
        experiment=experiment,
        params=params,
        params_hash=params_hash,
        device_class=device_class,
        status=Status.QUEUED,
        progress_message="waiting for a worker",
        created_at=now,
        updated_at=now,
        deadline=now + timedelta(seconds=settings.EXPERIMENTS_QUEUE_TIMEOUT_S),
        started_by=user if user is not None and user.is_authenticated else None,
        rerun_of=rerun_of,
        task_id=str(uuid.uuid4()),
    )


def _serialise_submissions() -> None:
    """Make concurrent submissions take turns, so the per-user and queue limits cannot be raced past.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the settings open every transaction with
    BEGIN IMMEDIATE, which already admits one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('experiments.submit_run'))")


def enqueue_run(*, run: ExperimentRun) -> None:
    """Publish the run's task to the broker; on failure mark the run failed and raise RunsUnavailableError.

    A fresh connection with short socket timeouts, and no publish retries, bounds the wait to about two
    seconds when the broker is down or unresponsive.
    """
    # Looked up by name (registered in ExperimentsConfig.ready) so that this module, which the worker's runner
    # imports, does not import the task module back.
    run_experiment = current_app.tasks[RUN_TASK_NAME]
    try:
        with run_experiment.app.connection_for_write(transport_options=ENQUEUE_TRANSPORT_OPTIONS) as conn:
            run_experiment.apply_async(args=[run.pk], task_id=run.task_id or None, connection=conn, retry=False)
    except Exception as exc:  # kombu, redis and socket errors alike mean "cannot enqueue"
        logger.warning("could not enqueue experiment run %s: %s", run.pk, exc)
        selectors.note_broker_reachable(False)  # the lesson panels stop offering runs at once
        fail_run(run_id=run.pk, reason=f"{UNAVAILABLE_MESSAGE}: the task queue could not be reached. "
                                        "Please try again later.")
        run.refresh_from_db()
        raise RunsUnavailableError(
            f"{UNAVAILABLE_MESSAGE}: the task queue could not be reached. Please try again later.",
            run=run, retry_after_s=60,
        ) from exc
    selectors.note_broker_reachable(True)


# --- The worker's transitions ---------------------------------------------------------------------------

INTERRUPTED_MESSAGE = (
    "The worker running this experiment stopped before it finished (it crashed, was restarted, or was killed, "
    "for example for using too much memory). Please try again, perhaps with smaller sizes."
)
WORKER_LOST_MESSAGE = (
    "The worker process running this experiment died (for example, the operating system killed it for using "
    "too much memory). Please try again with smaller sizes."
)


def claim_run(*, run_id: int) -> ExperimentRun | None:
    """Move a queued run to running for this delivery of its task, and return it; None: nothing to run.

    A run that is already running when its task arrives was started by an earlier delivery whose worker died
    (acks_late redelivers the message; the visibility timeout exceeds the hard time limit, so the first
    delivery cannot still be alive): it is marked failed rather than run again, since whatever killed it
    would likely kill it again. A finished run is left alone, which makes the task idempotent.
    """
    now = timezone.now()
    ExperimentRun.objects.filter(pk=run_id).update(deliveries=F("deliveries") + 1)
    claimed = ExperimentRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        started_at=now,
        updated_at=now,
        deadline=now + timedelta(seconds=settings.EXPERIMENTS_HARD_TIME_LIMIT_S + RUNNING_GRACE_S),
        progress=0.0,
        progress_message="starting",
    )
    if claimed:
        polling.forget(run_id)
        return ExperimentRun.objects.get(pk=run_id)
    status = ExperimentRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
    if status is None:
        logger.warning("experiment run %s does not exist; nothing to do", run_id)
    elif status == Status.RUNNING:
        logger.warning("experiment run %s was redelivered while running; marking it failed", run_id)
        fail_run(run_id=run_id, reason=INTERRUPTED_MESSAGE)
    else:
        logger.info("experiment run %s is already %s; nothing to do", run_id, status)
    return None


def record_device_class(*, run_id: int, device_class: str) -> None:
    ExperimentRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
        device_class=device_class, updated_at=timezone.now()
    )
    polling.forget(run_id)


def record_progress(*, run_id: int, fraction: float, message: str) -> bool:
    """Store progress; False when the run is no longer running (reaped meanwhile), so the worker can stop."""
    fraction = min(1.0, max(0.0, float(fraction)))
    updated = bool(
        ExperimentRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            progress=fraction, progress_message=str(message)[:300], updated_at=timezone.now()
        )
    )
    if updated:
        polling.forget(run_id)  # readers' next poll gets the new progress, not a 304
    return updated


def complete_run(*, run_id: int, result: dict, figure: dict) -> bool:
    now = timezone.now()
    completed = bool(
        ExperimentRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            status=Status.SUCCEEDED,
            result=result,
            figure=figure,
            environment=result.get("environment") or {},
            progress=1.0,
            progress_message="done",
            finished_at=now,
            updated_at=now,
            error="",
        )
    )
    polling.forget(run_id)
    if completed:
        # Lesson pages show each experiment's latest successful run: the cached anonymous copies are stale.
        page_cache.invalidate_now_and_on_commit("experiments")
        page_cache.invalidate_now_and_on_commit("runs")  # its reader has no run in progress any more
    return completed


def _mark_failed(runs: QuerySet[ExperimentRun], *, reason: str, now: datetime, environment: dict | None = None) -> int:
    """The one FAILED update: every writer that ends a run as failed goes through here. Returns the rows changed."""
    fields: dict[str, Any] = {
        "status": Status.FAILED,
        "error": reason[:ERROR_MAX_CHARS],
        "progress_message": "failed",
        "finished_at": now,
        "updated_at": now,
    }
    if environment:
        fields["environment"] = environment
    changed = runs.update(**fields)
    if changed:
        page_cache.invalidate_now_and_on_commit("runs")  # their readers have no run in progress any more
    return changed


def fail_run(*, run_id: int, reason: str, environment: dict | None = None) -> bool:
    """Mark a queued or running run failed with a reason meant for the reader; False if it had finished."""
    runs = ExperimentRun.objects.filter(pk=run_id, status__in=ExperimentRun.ACTIVE_STATUSES)
    failed = bool(_mark_failed(runs, reason=reason, now=timezone.now(), environment=environment))
    polling.forget(run_id)
    return failed


# --- The reaper -----------------------------------------------------------------------------------------


def queue_timeout_message() -> str:
    minutes = round(settings.EXPERIMENTS_QUEUE_TIMEOUT_S / 60)
    return (
        f"No worker started this run within {minutes} minutes, so it was given up. The server may be busy or its "
        "experiment worker may be stopped; please try again later."
    )


def run_timeout_message() -> str:
    return (
        f"The run did not finish before its deadline (time limit {settings.EXPERIMENTS_HARD_TIME_LIMIT_S} s); "
        "the worker running it stopped or hung. Please try again, perhaps with smaller sizes."
    )


def _overdue_reason(status: str) -> str:
    """Why an overdue run failed: no worker took it (queued), or the one that did stopped or hung (running)."""
    return queue_timeout_message() if status == Status.QUEUED else run_timeout_message()


def reap_overdue_runs(*, now: datetime | None = None) -> int:
    """Fail every queued or running run past its deadline; return how many. Runs from beat and on submit."""
    now = now or timezone.now()
    overdue = ExperimentRun.objects.filter(ExperimentRun.overdue_q(now))
    reaped = 0
    for status in ExperimentRun.ACTIVE_STATUSES:
        run_ids = list(overdue.filter(status=status).values_list("pk", flat=True))
        reaped += _mark_failed(overdue.filter(pk__in=run_ids, status=status), reason=_overdue_reason(status), now=now)
        polling.forget(*run_ids)
    if reaped:
        logger.warning("reaped %d overdue experiment run(s)", reaped)
    return reaped


def reap_if_overdue(run: ExperimentRun, *, now: datetime | None = None) -> bool:
    """The check on read: fail this one run if it is past its deadline (works without celery beat)."""
    now = now or timezone.now()
    if not run.is_overdue(now):
        return False
    runs = ExperimentRun.objects.filter(ExperimentRun.overdue_q(now), pk=run.pk, status=run.status)
    reaped = _mark_failed(runs, reason=_overdue_reason(run.status), now=now)
    polling.forget(run.pk)
    return bool(reaped)
