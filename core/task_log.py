"""One JSON log line per Celery task run (logger ``academy.tasks``): the worker's twin of the request log line.

    {"event": "task", "task": "experiments.run_experiment", "task_id": "...", "status": "success",
     "duration_ms": 812.4, "queue": "gpu", "retries": 0, "run_id": 42, "error": null}

``status`` is success, failure, retry, revoked (or rejected / ignored); ``run_id`` is the task's ``run_id``
argument when it has one (the ExperimentRun it works on); ``error`` is ``{"type", "message"}`` unless it
succeeded. Success is logged at INFO, retry and revoked at WARNING, failure at ERROR.

Exactly one line per run, from whichever process saw its end:

- a run that reaches its end logs from ``task_postrun`` in the process that ran it (the pool child, or the
  caller of ``apply()``); the start time rides on the run's request context, so a retry run eagerly inside
  another keeps its own;
- a run that never reaches it is logged by the worker's main process: ``task_revoked`` (revoked before it
  started, or terminated while running) and a ``task_failure`` sent from there (hard time limit, lost pool
  process). Celery may report one such end twice, so those lines are deduplicated by task id.

A pool process killed while its message is requeued (``reject_on_worker_lost``) logs nothing for that
delivery; the redelivery logs its own line.
"""
from __future__ import annotations

import functools
import inspect
import json
import logging
import time
from collections import OrderedDict
from typing import Any

from celery import states
from celery.signals import task_failure, task_postrun, task_prerun, task_revoked

task_log = logging.getLogger("academy.tasks")

STATUS_BY_STATE = {
    states.SUCCESS: "success",
    states.FAILURE: "failure",
    states.RETRY: "retry",
    states.REJECTED: "rejected",
    states.IGNORED: "ignored",
}
LEVEL_BY_STATUS = {
    "success": logging.INFO,
    "ignored": logging.INFO,
    "retry": logging.WARNING,
    "revoked": logging.WARNING,
}
ERROR_MESSAGE_MAX_CHARS = 500
# Attribute set on the run's request context by task_prerun; its presence also says "this process runs it".
_STARTED_AT = "_academy_log_started_at"
# Task ids the worker's main process logged lately (a bounded memory, enough for any realistic burst).
_RECENT_MAIN_PROCESS_IDS: OrderedDict[str, None] = OrderedDict()
_RECENT_MAX = 1024


def connect() -> None:
    """Connect the receivers (idempotent); config/celery.py calls it, so workers and web alike log runs."""
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="academy.task_log.prerun")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="academy.task_log.postrun")
    task_failure.connect(_on_failure, weak=False, dispatch_uid="academy.task_log.failure")
    task_revoked.connect(_on_revoked, weak=False, dispatch_uid="academy.task_log.revoked")


def _on_prerun(sender=None, task_id=None, task=None, args=None, kwargs=None, **_: Any) -> None:
    setattr(task.request, _STARTED_AT, time.monotonic())


def _on_postrun(sender=None, task_id=None, task=None, args=None, kwargs=None, retval=None, state=None,
                **_: Any) -> None:
    started = getattr(task.request, _STARTED_AT, None)
    status = STATUS_BY_STATE.get(state, str(state).lower())
    _emit(
        task=task,
        task_id=task_id,
        status=status,
        duration_ms=round((time.monotonic() - started) * 1000, 2) if started is not None else None,
        request=task.request,
        args=args,
        kwargs=kwargs,
        error=None if status in ("success", "ignored") else retval,
    )


def _on_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, **_: Any) -> None:
    if sender is None or getattr(sender.request, _STARTED_AT, None) is not None:
        return  # raised inside a run of this process: its task_postrun logs it, with the duration
    _emit_from_main_process(task=sender, task_id=task_id, status="failure", request=sender.request, args=args,
                            kwargs=kwargs, error=exception)


def _on_revoked(sender=None, request=None, terminated=False, signum=None, expired=False, **_: Any) -> None:
    if sender is None or request is None:
        return
    reason = "expired" if expired else ("terminated" if terminated else "revoked")
    _emit_from_main_process(task=sender, task_id=request.id, status="revoked", request=request,
                            args=request.args, kwargs=request.kwargs, reason=reason)


def _emit_from_main_process(*, task_id: str, **fields: Any) -> None:
    if task_id in _RECENT_MAIN_PROCESS_IDS:
        return
    _RECENT_MAIN_PROCESS_IDS[task_id] = None
    while len(_RECENT_MAIN_PROCESS_IDS) > _RECENT_MAX:
        _RECENT_MAIN_PROCESS_IDS.popitem(last=False)
    _emit(task_id=task_id, duration_ms=None, **fields)


def _emit(*, task, task_id: str, status: str, duration_ms: float | None, request, args, kwargs,
          error: BaseException | None = None, reason: str | None = None) -> None:
    level = LEVEL_BY_STATUS.get(status, logging.ERROR)
    if not task_log.isEnabledFor(level):
        return
    delivery_info = getattr(request, "delivery_info", None) or {}
    line = {
        "event": "task",
        "task": task.name,
        "task_id": task_id,
        "status": status,
        "duration_ms": duration_ms,
        "queue": delivery_info.get("routing_key"),
        "retries": getattr(request, "retries", 0) or 0,
        "run_id": _run_id(task, args, kwargs),
        "error": _describe(error),
    }
    if reason:
        line["reason"] = reason
    task_log.log(level, json.dumps(line, default=str))


def _describe(error: BaseException | None) -> dict[str, str] | None:
    if error is None:
        return None
    cause = getattr(error, "exc", None)  # Retry(exc=...), and billiard's ExceptionWithTraceback
    if isinstance(cause, BaseException):
        error = cause
    return {"type": type(error).__name__, "message": str(error)[:ERROR_MESSAGE_MAX_CHARS]}


def _run_id(task, args, kwargs) -> int | None:
    """The task's ``run_id`` argument, passed by position or by name; None for tasks without one."""
    signature = _signature_of(task)
    if signature is None or "run_id" not in signature.parameters:
        return None
    try:
        value = signature.bind_partial(*(args or ()), **(kwargs or {})).arguments.get("run_id")
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@functools.lru_cache(maxsize=256)
def _signature_of(task) -> inspect.Signature | None:
    try:
        return inspect.signature(task.run)  # a bound task's run() is a bound method: `self` is already gone
    except (TypeError, ValueError):
        return None
