from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

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


@pytest.fixture(scope="module")
def one_torch_thread():
    """Toy-sized ops gain nothing from threads, and on a busy 2-core box extra threads spin-wait."""
    from experiments.bench.common import torch_threads  # imports torch: only for the modules that ask

    with torch_threads(1):
        yield


@pytest.fixture
def tiny_params() -> dict:
    return dict(TINY_LATENCY_PARAMS)


def post_run(client, experiment: str, params: dict | None = None, **extra):
    body = {"experiment": experiment, "params": params or {}}
    return client.post(RUNS_URL, data=json.dumps(body), content_type="application/json", **extra)


@contextmanager
def celery_broker(url: str):
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


@pytest.fixture
def other_user(db):
    from tests.factories import UserFactory

    return UserFactory(username="grace", full_name="Grace Hopper")
