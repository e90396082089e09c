"""End to end: the HTTP API, the real Redis broker and a real Celery worker process on the test database."""
from __future__ import annotations

import os
import signal

import psutil
import pytest

from experiments.models import ExperimentRun
from experiments.services import WORKER_LOST_MESSAGE
from tests.support.experiments import celery_broker, finished, post_run, wait_for_run

pytestmark = [pytest.mark.redis, pytest.mark.slow]
Status = ExperimentRun.Status


def test_a_real_worker_runs_a_tiny_sequence_latency_run_to_success(celery_worker_process, signed_in_client,
                                                                   tiny_params):
    with celery_broker(celery_worker_process["broker_url"]):
        response = post_run(signed_in_client, "sequence-latency", tiny_params)
        assert response.status_code == 202, response.content
        run = wait_for_run(response.json()["id"], celery_worker_process, until=finished)

    assert run.status == Status.SUCCEEDED, run.error
    body = signed_in_client.get(response.json()["url"]).json()
    assert body["status"] == "succeeded" and body["progress"] == 1.0
    trace_names = [trace.get("name") or "" for trace in body["figure"]["data"]]
    assert any("lesson's claim" in name for name in trace_names), trace_names
    assert body["result"]["table"]["rows"]
    assert body["environment"]["device"] == "cpu"
    assert body["duration_s"] > 0
    assert run.deliveries == 1


# attention-cost at toy sizes: two lengths, both paths, a short saturation sweep; a few seconds on a small CPU.
TINY_ATTENTION_COST_PARAMS = {
    "seq_lens": [32, 64],
    "heads": 1,
    "head_dim": 16,
    "min_run_time": 0.05,
    "saturation_dims": [4, 256],
    "saturation_queries": 50,
    "device": "cpu",
}


def test_a_real_worker_runs_a_tiny_attention_cost_run_and_stores_its_result_and_figure(celery_worker_process,
                                                                                       signed_in_client):
    with celery_broker(celery_worker_process["broker_url"]):
        response = post_run(signed_in_client, "attention-cost", TINY_ATTENTION_COST_PARAMS)
        assert response.status_code == 202, response.content
        run = wait_for_run(response.json()["id"], celery_worker_process, until=finished, timeout=60)

    assert run.status == Status.SUCCEEDED, run.error
    assert run.result["experiment"] == "attention-cost"
    assert {p["impl"] for p in run.result["points"]} == {"naive", "sdpa"}
    assert all(p["status"] == "ok" and p["median_ms"] > 0 for p in run.result["points"])
    assert run.result["saturation"]["dims"] == [4, 256]
    body = signed_in_client.get(response.json()["url"]).json()
    assert body["status"] == "succeeded" and body["progress"] == 1.0
    assert body["result"]["table"]["rows"] == run.result["table"]["rows"]
    trace_names = [trace.get("name") or "" for trace in body["figure"]["data"]]
    assert any("Vaswani" in name for name in trace_names), trace_names
    assert any(name.startswith("naive") for name in trace_names), trace_names
    assert body["environment"]["device"] == "cpu"


def test_a_run_whose_experiment_raises_ends_failed_with_the_message(celery_worker_process, signed_in_client,
                                                                     tiny_params):
    import torch

    if torch.cuda.is_available():
        pytest.skip("device='cuda' is this test's way to make the experiment raise; it would succeed here")
    with celery_broker(celery_worker_process["broker_url"]):
        response = post_run(signed_in_client, "sequence-latency", {**tiny_params, "device": "cuda"})
        assert response.status_code == 202, response.content
        run = wait_for_run(response.json()["id"], celery_worker_process, until=finished)

    assert run.status == Status.FAILED
    assert run.error.startswith("The experiment stopped with an error: RuntimeError:")
    assert "torch.cuda.is_available() is False" in run.error
    assert signed_in_client.get(response.json()["url"]).json()["error"] == run.error


def test_a_worker_child_killed_mid_run_ends_failed_and_is_not_run_again(celery_worker_process, signed_in_client,
                                                                         tiny_params):
    slow = {**tiny_params, "seq_lens": [2, 4, 8, 16, 32], "batch_sizes": [1, 2], "min_run_time": 2.0}
    with celery_broker(celery_worker_process["broker_url"]):
        response = post_run(signed_in_client, "sequence-latency", slow)
        assert response.status_code == 202, response.content
        run_id = response.json()["id"]
        wait_for_run(run_id, celery_worker_process, until=lambda run: run.status == Status.RUNNING)

        children = psutil.Process(celery_worker_process["process"].pid).children()
        assert children, "the prefork pool has a child process"
        for child in children:
            os.kill(child.pid, signal.SIGKILL)  # what the kernel's out-of-memory killer does

        run = wait_for_run(run_id, celery_worker_process, until=finished, timeout=30)
        assert run.status == Status.FAILED
        assert run.error == WORKER_LOST_MESSAGE
        # acks_late + reject_on_worker_lost redeliver the message; the new child sees a finished run and stops.
        run = wait_for_run(run_id, celery_worker_process, until=lambda run: run.deliveries >= 2, timeout=60)
    assert run.status == Status.FAILED and run.error == WORKER_LOST_MESSAGE


@pytest.fixture
def short_time_limits(monkeypatch):
    """Limits travel in the task message, so the publishing process (this one) decides them."""
    from config.celery import app

    task = app.tasks["experiments.run_experiment"]
    monkeypatch.setattr(task, "soft_time_limit", 5)
    monkeypatch.setattr(task, "time_limit", 30)
    monkeypatch.setattr(task, "_exec_options", None)  # cached copy of the two above


def test_a_run_over_the_time_limit_ends_failed_with_the_reason(celery_worker_process, short_time_limits,
                                                              signed_in_client, tiny_params):
    slow = {**tiny_params, "seq_lens": [2, 4, 8, 16, 32], "batch_sizes": [1, 2], "min_run_time": 2.0}
    with celery_broker(celery_worker_process["broker_url"]):
        response = post_run(signed_in_client, "sequence-latency", slow)
        run = wait_for_run(response.json()["id"], celery_worker_process, until=finished, timeout=60)

    assert run.status == Status.FAILED
    assert run.error.startswith("Stopped after 5 s, this server's time limit for one run.")
