"""Executes one claimed run inside a Celery worker child: device, re-validation, progress, result, failure.

Every failure ends as a ``failed`` run with a reason a reader understands; nothing is left ``running``.
torch is imported here, inside the function, only in the worker's pool child (never in its parent, which forks
the children, and never in the web process).
"""
from __future__ import annotations

import logging
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import catalog, memory_guard, services
from .models import ExperimentRun

logger = logging.getLogger(__name__)

# Progress reaches the database at most this often (plus the first and last report): polling clients see it
# move, and a benchmark reporting every millisecond does not turn into a write load.
PROGRESS_INTERVAL_S = 0.5


class RunAbandonedError(Exception):
    """The run stopped being ``running`` while it ran (the reaper failed it): stop computing."""


class ProgressReporter:
    """The ``progress(fraction, message)`` callable handed to an experiment, throttled."""

    def __init__(self, run_id: int, *, interval_s: float = PROGRESS_INTERVAL_S) -> None:
        self.run_id = run_id
        self.interval_s = interval_s
        self._last_write = float("-inf")

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_write < self.interval_s:
            return
        self._last_write = now
        if not services.record_progress(run_id=self.run_id, fraction=fraction, message=message):
            raise RunAbandonedError(f"run {self.run_id} is no longer running")


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA's OutOfMemoryError, Python's MemoryError, or the CPU allocator's RuntimeError saying the same."""
    import torch

    cuda_oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if isinstance(exc, MemoryError) or (cuda_oom is not None and isinstance(exc, cuda_oom)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def release_accelerator_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def execute_run(*, run_id: int, soft_time_limit_s: float | None = None) -> str:
    """Run ``run_id`` if it is queued; return its final status (or why nothing ran)."""
    run = services.claim_run(run_id=run_id)
    if run is None:
        return "skipped"
    memory_guard.set_current_run(run_id)
    try:
        return _execute_claimed(run, soft_time_limit_s=soft_time_limit_s)
    finally:
        memory_guard.set_current_run(None)


def _execute_claimed(run: ExperimentRun, *, soft_time_limit_s: float | None) -> str:
    run_id = run.pk
    device_class = "unknown"
    try:
        device_class = catalog.detect_device_class()
        services.record_device_class(run_id=run_id, device_class=device_class)
        services.record_progress(run_id=run_id, fraction=0.0, message=f"running on {device_class}")
        result = catalog.execute(run.experiment, run.params, device_class, ProgressReporter(run_id))
        figure = catalog.figure_json(run.experiment, result)
    except catalog.InvalidParamsError as exc:
        services.fail_run(
            run_id=run_id,
            reason=f"This server's {device_class} worker does not accept these parameters: {exc}",
        )
        return "failed"
    except SoftTimeLimitExceeded:
        limit = soft_time_limit_s or settings.EXPERIMENTS_SOFT_TIME_LIMIT_S
        services.fail_run(
            run_id=run_id,
            reason=(
                f"Stopped after {limit:g} s, this server's time limit for one run. "
                "Try smaller sizes: fewer lengths or batch sizes, or a shorter min_run_time."
            ),
        )
        return "failed"
    except RunAbandonedError:
        logger.warning("experiment run %s was failed by the reaper while running; stopped it", run_id)
        return "abandoned"
    except Exception as exc:  # any error of the experiment ends the run, with its message
        if is_out_of_memory(exc):
            release_accelerator_memory()
            where = "the GPU" if device_class == "cuda" else "this server"
            services.fail_run(
                run_id=run_id,
                reason=(
                    f"Ran out of memory on {where} ({type(exc).__name__}). "
                    "Try smaller sizes: a smaller batch, shorter sequences or a narrower model."
                ),
            )
            return "failed"
        logger.exception("experiment run %s (%s) failed", run_id, run.experiment)
        services.fail_run(run_id=run_id, reason=f"The experiment stopped with an error: {type(exc).__name__}: {exc}")
        return "failed"
    if not services.complete_run(run_id=run_id, result=result, figure=figure):
        logger.warning("experiment run %s finished after it was reaped; result discarded", run_id)
        return "abandoned"
    return "succeeded"
