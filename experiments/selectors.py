"""Reads of experiment runs for the API, the lesson panels and the submission rules, and whether runs can be
started at all right now (the broker answers)."""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app as celery_app  # the project app: config/__init__.py creates it before any app loads
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from core import page_cache
from core.health import check_broker

from .models import ExperimentRun

Status = ExperimentRun.Status


def active_runs() -> QuerySet[ExperimentRun]:
    return ExperimentRun.objects.filter(status__in=ExperimentRun.ACTIVE_STATUSES)


@dataclass(frozen=True)
class RunVersion:
    """Which run a panel shows, without its (large) result and figure JSON."""

    pk: int
    finished_at: datetime


def latest_successful_run_version(experiment: str) -> RunVersion | None:
    found = (
        ExperimentRun.objects.filter(experiment=experiment, status=Status.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .values_list("pk", "finished_at")
        .first()
    )
    return RunVersion(*found) if found else None


def latest_successful_run_summary(experiment: str) -> ExperimentRun | None:
    """The latest successful run without its (large) result and figure JSON, for listings."""
    return (
        ExperimentRun.objects.filter(experiment=experiment, status=Status.SUCCEEDED)
        .only("pk", "experiment", "status", "finished_at")
        .order_by("-finished_at", "-pk")
        .first()
    )


def active_run_of(user) -> ExperimentRun | None:
    """The user's queued or running run (there is at most one)."""
    if user is None or not user.is_authenticated:
        return None
    return active_runs().filter(started_by=user).order_by("-created_at").first()


def active_runs_by_experiment(user) -> dict[str, ExperimentRun]:
    """The user's queued or running runs, newest per experiment."""
    if user is None or not user.is_authenticated:
        return {}
    runs: dict[str, ExperimentRun] = {}
    for run in active_runs().filter(started_by=user).order_by("-created_at"):
        runs.setdefault(run.experiment, run)
    return runs


_HAS_ACTIVE_RUN_SQL = (
    "SELECT 1 FROM {table} WHERE started_by_id = %s AND status IN ({statuses}) AND experiment IN ({experiments}) "
    "LIMIT 1"
)


# Answers of has_active_run per process, by (user id, experiments), tagged with the "runs" generation read
# before the query: every change of a run's status renews it (a save, or services' explicit renewal after an
# update()), so an answer is reused only while no run anywhere has started or ended.
_active_run_answers: dict[tuple[int, frozenset[str]], tuple[str, bool]] = {}
_MAX_ACTIVE_RUN_ANSWERS = 4096


def has_active_run(user, experiments: Iterable[str]) -> bool:
    """Whether the user has a queued or running run of one of these experiments.

    Asked on every signed-in view of a lesson (every module has panels), so the answer is kept per process
    until a run starts or ends anywhere; the query itself is plain SQL, a sixth of the ORM's ``.exists()`` in
    CPU (query building dominates a lookup this small)."""
    experiments = frozenset(experiments)
    if user is None or not user.is_authenticated or not experiments:
        return False
    generation = page_cache.current_generation("runs")
    key = (user.pk, experiments)
    known = _active_run_answers.get(key)
    if generation is not None and known is not None and known[0] == generation:
        return known[1]
    answer = _query_active_run(user.pk, sorted(experiments))
    if generation is not None:
        if len(_active_run_answers) >= _MAX_ACTIVE_RUN_ANSWERS:
            _active_run_answers.clear()
        _active_run_answers[key] = (generation, answer)
    return answer


def _query_active_run(user_id: int, experiments: list[str]) -> bool:
    statuses = [status.value for status in ExperimentRun.ACTIVE_STATUSES]
    sql = _HAS_ACTIVE_RUN_SQL.format(
        table=ExperimentRun._meta.db_table,
        statuses=", ".join(["%s"] * len(statuses)),
        experiments=", ".join(["%s"] * len(experiments)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, *statuses, *experiments])
        return cursor.fetchone() is not None


def reusable_run(*, experiment: str, params_hash: str, device_class: str) -> ExperimentRun | None:
    """A run that already answers this request: an identical one in progress, or one that succeeded recently.

    Equal ``params_hash`` means equal experiment and validated params; the device class must match too, since
    the same params measure something else on a GPU.
    """
    same = ExperimentRun.objects.filter(experiment=experiment, params_hash=params_hash, device_class=device_class)
    window_start = timezone.now() - timedelta(seconds=settings.EXPERIMENTS_REUSE_WINDOW_S)
    succeeded = same.filter(status=Status.SUCCEEDED, finished_at__gte=window_start).order_by("-finished_at").first()
    if succeeded is not None:
        return succeeded
    return same.filter(status__in=ExperimentRun.ACTIVE_STATUSES).order_by("created_at").first()


def active_run_count() -> int:
    return active_runs().count()


def queue_position(*, status: str, created_at) -> int | None:
    """1 for the next queued run to start; None when the run is not queued."""
    if status != Status.QUEUED:
        return None
    return ExperimentRun.objects.filter(status=Status.QUEUED, created_at__lt=created_at).count() + 1


def expected_device_class() -> str:
    """The device class a new run will most likely get: the configured one, else the last run's actual one.

    The web process cannot ask the worker's hardware, and probing CUDA here would initialise it in a process
    that must not; the last run records what a worker really used. Before any run: "cpu", whose smaller
    bounds a GPU worker accepts as well.
    """
    configured = settings.EXPERIMENTS_DEVICE_CLASS
    if configured in ExperimentRun.DeviceClass.values:
        return configured
    last = (
        ExperimentRun.objects.filter(started_at__isnull=False)  # a worker set device_class to its own on start
        .order_by("-started_at")
        .values_list("device_class", flat=True)
        .first()
    )
    return last or ExperimentRun.DeviceClass.CPU


def run_for_detail(run_id: int) -> ExperimentRun | None:
    return ExperimentRun.objects.filter(pk=run_id).first()


def run_version(run_id: int) -> dict | None:
    """The few columns that decide whether a polling client's copy is current (no result or figure JSON)."""
    return (
        ExperimentRun.objects.filter(pk=run_id)
        .values("pk", "status", "updated_at", "deadline", "created_at")
        .first()
    )


# --- Can runs be started right now? ---------------------------------------------------------------------
# The answer is remembered per process for a few seconds, so with the broker down or hung a signed-in page view
# waits on it (at most RUNS_AVAILABLE_TIMEOUT_S) once per RUNS_AVAILABLE_TTL_S per process, never per request.
RUNS_AVAILABLE_TIMEOUT_S = 1.0
RUNS_AVAILABLE_TTL_S = 5.0
_broker_answers: dict[str, tuple[bool, float]] = {}  # broker URL -> (reachable, time.monotonic() of the answer)


def runs_available() -> bool:
    """Whether a run can be queued now: the broker accepted a connection within a second, lately.

    Publishing (``services.enqueue_run``) reports what it learns through :func:`note_broker_reachable`, so a
    failed publish turns the panels' Run button off at once and a successful one turns it back on.
    """
    url = _broker_url()
    remembered = _broker_answers.get(url)
    if remembered is not None and time.monotonic() - remembered[1] < RUNS_AVAILABLE_TTL_S:
        return remembered[0]
    reachable = bool(check_broker(timeout=RUNS_AVAILABLE_TIMEOUT_S)["ok"])
    note_broker_reachable(reachable)
    return reachable


def note_broker_reachable(reachable: bool) -> None:
    _broker_answers[_broker_url()] = (reachable, time.monotonic())


def _broker_url() -> str:
    # Keyed by URL: an answer about one broker says nothing about another the app is pointed at later.
    return str(celery_app.conf.broker_write_url or "")
