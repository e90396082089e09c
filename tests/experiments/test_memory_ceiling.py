"""The worker's memory ceiling: a run that grows past it ends failed with the reason; the worker lives on."""
from __future__ import annotations

import threading

import pytest

from experiments import memory_guard
from experiments.models import ExperimentRun
from tests.support.experiments import celery_broker, finished, post_run, wait_for_run

Status = ExperimentRun.Status
CEILING_MB = 900


def test_the_watchdog_fires_once_when_a_run_holds_more_than_the_ceiling():
    fired = []
    done = threading.Event()

    def record(limit: int, resident: int) -> None:
        fired.append((limit, resident))
        done.set()

    ceiling = memory_guard.MemoryCeiling(1, on_exceeded=record, interval_s=0.001, active=lambda: True).start()
    assert done.wait(5)
    ceiling.stop()
    assert fired == [(1, fired[0][1])] and fired[0][1] > 1


def test_the_watchdog_leaves_an_idle_child_alone():
    fired = []
    ceiling = memory_guard.MemoryCeiling(
        1, on_exceeded=lambda *a: fired.append(a), interval_s=0.001, active=lambda: False
    ).start()
    threading.Event().wait(0.05)
    ceiling.stop()
    assert fired == []


def test_the_reason_names_the_ceiling_and_what_to_change():
    message = memory_guard.ceiling_message(CEILING_MB * 2**20)
    assert "900 MB, this server's memory ceiling for one run" in message
    assert "smaller batch" in message


@pytest.fixture
def worker_env() -> dict[str, str]:
    """The worker under test gets a small ceiling; this process (the web side) keeps its larger budget."""
    return {"EXPERIMENTS_WORKER_MEMORY_LIMIT_MB": str(CEILING_MB)}


@pytest.mark.redis
@pytest.mark.slow
def test_a_run_over_the_worker_ceiling_ends_failed_with_the_reason_and_the_worker_runs_the_next_one(
    celery_worker_process, signed_in_client, tiny_params
):
    # Accepted by the web side (estimated ~1.6 GB, under its budget), but one training step holds four
    # 256 MB attention matrices at once: far past the worker's 900 MB ceiling.
    hungry = {**tiny_params, "hidden": 64, "heads": 16, "vocab": 16, "batch_sizes": [4], "seq_lens": [1000],
              "mode": "train", "gemm_size": 64}
    with celery_broker(celery_worker_process["broker_url"]):
        response = post_run(signed_in_client, "sequence-latency", hungry)
        assert response.status_code == 202, response.content
        run = wait_for_run(response.json()["id"], celery_worker_process, until=finished)

        assert run.status == Status.FAILED
        assert run.error == memory_guard.ceiling_message(CEILING_MB * 2**20), run.error
        assert "over its 900 MB ceiling; ending it" in celery_worker_process["logs"]()

        # Nothing else was touched: the same worker (a fresh child) runs the next request to success.
        assert celery_worker_process["process"].poll() is None
        response = post_run(signed_in_client, "sequence-latency", tiny_params)
        assert response.status_code == 202, response.content
        run = wait_for_run(response.json()["id"], celery_worker_process, until=finished)
    assert run.status == Status.SUCCEEDED, run.error


@pytest.mark.django_db
def test_a_real_cpu_allocation_failure_fails_the_run_with_a_clear_reason(monkeypatch):
    """Not a faked exception: the CPU allocator's own error for an allocation the machine refuses (1 PB)."""
    import torch

    from experiments import catalog, tasks
    from tests.support.factories import ExperimentRunFactory

    def allocate_too_much(name, params, device_class, progress):
        return torch.empty(2**50, dtype=torch.uint8)

    monkeypatch.setattr(catalog, "execute", allocate_too_much)
    monkeypatch.setattr(catalog, "detect_device_class", lambda: "cpu")
    run = ExperimentRunFactory()

    assert tasks.run_experiment.run(run.pk) == "failed"

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("Ran out of memory on this server (RuntimeError).")
