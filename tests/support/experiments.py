"""Driving experiment runs the way the panel does: the run API, the Celery app it enqueues with, a run's end."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from experiments.models import ExperimentRun

RUNS_URL = "/experiments/runs/"

# sequence-latency at toy sizes: finishes in a few seconds on a small CPU (most of it importing torch).
TINY_LATENCY_PARAMS = {
    "hidden": 16,
    "heads": 2,
    "rnn_layers": 1,
    "transformer_layers": 1,
    "vocab": 16,
    "batch_sizes": [1],
    "seq_lens": [2, 4],
    "min_run_time": 0.05,
    "device": "cpu",
}


def post_run(client, experiment: str, params: dict | None = None, **extra):
    body = {"experiment": experiment, "params": params or {}}
    return client.post(RUNS_URL, data=json.dumps(body), content_type="application/json", **extra)


@contextmanager
def celery_broker(url: str) -> Iterator:
    """Point this process's Celery app (the one the API enqueues with) at ``url`` for the duration."""
    from config.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    app.close()  # drop pooled connections to the previous broker
    app.conf.broker_url = url
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    try:
        yield app
    finally:
        app.close()
        app.conf.broker_url, app.conf.broker_transport_options = saved


def wait_for_run(run_id: int, worker: dict, *, until: Callable[[ExperimentRun], bool],
                 timeout: float = 120) -> ExperimentRun:
    """Poll the database until ``until(run)`` holds; on timeout, fail with the tail of the worker's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ExperimentRun.objects.get(pk=run_id)
        if until(run):
            return run
        time.sleep(0.2)
    pytest.fail(f"run {run_id} is still {run.status} ({run.progress_message}) after {timeout} s; "
                f"worker log:\n{worker['logs']()[-4000:]}")


def finished(run: ExperimentRun) -> bool:
    return run.is_finished
