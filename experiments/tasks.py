"""Celery tasks for live experiments. Thin: the work is in ``runner`` and ``services``.

``run_experiment`` is routed to the "gpu" queue (settings: ``experiments.*``); start benchmark workers with
``-c 1`` so two benchmarks never share a device. Its soft and hard time limits come from settings
(``EXPERIMENTS_*_TIME_LIMIT_S``) and travel in each message, so the publishing web process decides them.
``acks_late`` + ``reject_on_worker_lost``: a message is acknowledged only when the run is over, so a crashed
worker's run is redelivered, and ``services.claim_run`` then fails it instead of running it again. This module
must not import torch: the worker's parent process imports it, and only the pool children may (they initialise
CUDA after the fork).
"""
from __future__ import annotations

import logging

from billiard.exceptions import WorkerLostError
from celery import shared_task
from celery.signals import worker_process_init
from celery.worker import state as worker_state
from celery.worker.request import Request
from django.conf import settings

from . import memory_guard, runner, services

logger = logging.getLogger(__name__)


def _run_id_of(request: Request) -> int | None:
    try:
        return int(request.args[0])
    except (IndexError, TypeError, ValueError):
        return None


class ExperimentRequest(Request):
    """Runs in the worker's parent process, which sees what the child cannot report itself: being killed.

    A child killed by the hard time limit or by the kernel (out of memory) never reaches the runner's
    ``except`` clauses, so the run is failed here, with the reason, the moment the parent notices.
    """

    def on_timeout(self, soft: bool, timeout: float) -> None:
        super().on_timeout(soft, timeout)
        if not soft:
            self._fail(
                f"Stopped after {timeout:g} s: the run exceeded this server's hard time limit and its worker "
                "process was killed. Try smaller sizes."
            )

    def on_failure(self, exc_info, send_failed_event: bool = True, return_ok: bool = False) -> None:
        exc = exc_info.exception
        exc = getattr(exc, "exc", exc)  # billiard wraps it in ExceptionWithTraceback
        if isinstance(exc, WorkerLostError):
            self._fail(services.INTERRUPTED_MESSAGE if worker_state.should_terminate else services.WORKER_LOST_MESSAGE)
        super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)

    def _fail(self, reason: str) -> None:
        run_id = _run_id_of(self)
        if run_id is None:
            return
        try:
            if services.fail_run(run_id=run_id, reason=reason):
                logger.warning("experiment run %s failed in the worker's parent: %s", run_id, reason)
        except Exception:  # never let bookkeeping crash the worker's main process
            logger.exception("could not mark experiment run %s failed", run_id)


@worker_process_init.connect
def start_memory_ceiling(**_: object) -> None:
    """Each pool child watches its own memory while it runs an experiment (see ``memory_guard``)."""
    memory_guard.start_in_worker_child(settings.EXPERIMENTS_WORKER_MEMORY_LIMIT_MB)


@shared_task(
    name="experiments.run_experiment",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.EXPERIMENTS_SOFT_TIME_LIMIT_S,
    time_limit=settings.EXPERIMENTS_HARD_TIME_LIMIT_S,
    ignore_result=True,
    Request=ExperimentRequest,
)
def run_experiment(self, run_id: int) -> str:
    """Run one queued ExperimentRun; a redelivery of a finished run does nothing."""
    # The limits travel in the message (the publisher's settings), so report the one this run really has.
    _hard, soft = self.request.timelimit or (None, None)
    return runner.execute_run(run_id=run_id, soft_time_limit_s=soft or self.soft_time_limit)


@shared_task(name="experiments.reap_overdue_runs", ignore_result=True)
def reap_overdue_runs() -> int:
    """Periodic (celery beat): fail runs nobody finished by their deadline. The run API checks on read too."""
    return services.reap_overdue_runs()
