"""The worker side, run in-process: claiming, idempotency, failures with reasons, the reaper."""
from __future__ import annotations

from datetime import timedelta

import pytest
from billiard.einfo import ExceptionInfo
from billiard.exceptions import WorkerLostError
from celery.exceptions import SoftTimeLimitExceeded
from celery.worker.request import Request
from django.utils import timezone

from experiments import catalog, runner, services, tasks
from experiments.models import ExperimentRun
from tests.support.experiments import TINY_LATENCY_PARAMS
from tests.support.factories import SMALL_FIGURE, SMALL_RESULT, ExperimentRunFactory

pytestmark = pytest.mark.django_db
Status = ExperimentRun.Status


@pytest.fixture
def queued_run(user) -> ExperimentRun:
    params = catalog.validate_params("sequence-latency", TINY_LATENCY_PARAMS, "cpu")
    return ExperimentRunFactory(params=params, params_hash=catalog.params_hash("sequence-latency", params),
                                started_by=user)


def fail_with(monkeypatch, exc: BaseException) -> None:
    def raising(name, params, device_class, progress):
        progress(0.1, "warming up")
        raise exc

    monkeypatch.setattr(catalog, "execute", raising)
    monkeypatch.setattr(catalog, "detect_device_class", lambda: "cpu")


def test_a_queued_run_is_executed_to_success_with_result_figure_and_environment(queued_run, monkeypatch):
    # The real experiment runs end to end in test_worker_integration.py; here only the bookkeeping around it.
    def fake_execute(name, params, device_class, progress):
        progress(0.5, "halfway")
        return {**SMALL_RESULT, "params": params}

    monkeypatch.setattr(catalog, "execute", fake_execute)
    monkeypatch.setattr(catalog, "figure_json", lambda name, result: SMALL_FIGURE)
    monkeypatch.setattr(catalog, "detect_device_class", lambda: "cpu")

    outcome = tasks.run_experiment.run(queued_run.pk)

    queued_run.refresh_from_db()
    assert outcome == "succeeded"
    assert queued_run.status == Status.SUCCEEDED
    assert queued_run.progress == 1.0
    assert queued_run.figure == SMALL_FIGURE
    assert queued_run.result["table"] == SMALL_RESULT["table"]
    assert queued_run.environment == SMALL_RESULT["environment"]
    assert queued_run.device_class == "cpu"
    assert queued_run.started_at <= queued_run.finished_at
    assert queued_run.deliveries == 1


def test_calling_the_task_for_a_succeeded_run_does_nothing(monkeypatch):
    run = ExperimentRunFactory(succeeded=True)
    before = ExperimentRun.objects.values().get(pk=run.pk)
    monkeypatch.setattr(catalog, "execute", lambda *args: pytest.fail("a finished run must not run again"))

    outcome = tasks.run_experiment.run(run.pk)

    after = ExperimentRun.objects.values().get(pk=run.pk)
    assert outcome == "skipped"
    assert {k: v for k, v in after.items() if k != "deliveries"} == {
        k: v for k, v in before.items() if k != "deliveries"
    }


def test_calling_the_task_for_a_failed_run_does_not_revive_it(monkeypatch):
    run = ExperimentRunFactory(status=Status.FAILED, error="reaped", finished_at=timezone.now())
    monkeypatch.setattr(catalog, "execute", lambda *args: pytest.fail("a finished run must not run again"))

    assert tasks.run_experiment.run(run.pk) == "skipped"
    run.refresh_from_db()
    assert run.status == Status.FAILED and run.error == "reaped"


def test_a_redelivered_task_for_a_run_left_running_fails_it_instead_of_running_it_again(monkeypatch):
    run = ExperimentRunFactory(running=True, deliveries=1)
    monkeypatch.setattr(catalog, "execute", lambda *args: pytest.fail("an interrupted run must not run again"))

    assert tasks.run_experiment.run(run.pk) == "skipped"

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "stopped before it finished" in run.error
    assert run.deliveries == 2


def test_a_task_for_a_deleted_run_does_nothing():
    assert tasks.run_experiment.run(987654) == "skipped"


def test_cuda_out_of_memory_fails_the_run_with_a_clear_reason(queued_run, monkeypatch):
    import torch

    fail_with(monkeypatch, torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"))

    assert tasks.run_experiment.run(queued_run.pk) == "failed"

    queued_run.refresh_from_db()
    assert queued_run.status == Status.FAILED
    assert queued_run.error.startswith("Ran out of memory on this server (OutOfMemoryError).")
    assert "smaller" in queued_run.error


def test_memory_error_fails_the_run_with_a_clear_reason(queued_run, monkeypatch):
    fail_with(monkeypatch, MemoryError())

    tasks.run_experiment.run(queued_run.pk)

    queued_run.refresh_from_db()
    assert queued_run.status == Status.FAILED
    assert queued_run.error.startswith("Ran out of memory on this server (MemoryError).")


def test_an_exception_in_the_experiment_fails_the_run_with_its_message(queued_run, monkeypatch):
    fail_with(monkeypatch, ValueError("lengths must be positive"))

    tasks.run_experiment.run(queued_run.pk)

    queued_run.refresh_from_db()
    assert queued_run.status == Status.FAILED
    assert queued_run.error == "The experiment stopped with an error: ValueError: lengths must be positive"
    assert queued_run.progress_message == "failed"


def test_the_soft_time_limit_fails_the_run_and_says_so(queued_run, monkeypatch, settings):
    fail_with(monkeypatch, SoftTimeLimitExceeded())

    tasks.run_experiment.run(queued_run.pk)

    queued_run.refresh_from_db()
    assert queued_run.status == Status.FAILED
    assert queued_run.error.startswith(f"Stopped after {settings.EXPERIMENTS_SOFT_TIME_LIMIT_S} s")


def test_params_the_worker_does_not_accept_fail_the_run_with_the_field_messages(monkeypatch):
    run = ExperimentRunFactory(params={"hidden": 10**6})
    monkeypatch.setattr(catalog, "detect_device_class", lambda: "cpu")

    tasks.run_experiment.run(run.pk)

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("This server's cpu worker does not accept these parameters: hidden:")


def test_progress_is_stored_and_a_run_reaped_meanwhile_stops_computing(queued_run, monkeypatch):
    seen = []

    def slow(name, params, device_class, progress):
        progress(0.25, "first point")
        seen.append(ExperimentRun.objects.values_list("progress", "progress_message").get(pk=queued_run.pk))
        services.fail_run(run_id=queued_run.pk, reason="reaped while running")
        progress(1.0, "last point")
        pytest.fail("progress() should have stopped the run")

    monkeypatch.setattr(catalog, "execute", slow)
    monkeypatch.setattr(catalog, "detect_device_class", lambda: "cpu")

    assert tasks.run_experiment.run(queued_run.pk) == "abandoned"
    assert seen == [(0.25, "first point")]
    queued_run.refresh_from_db()
    assert queued_run.status == Status.FAILED and queued_run.error == "reaped while running"


def test_progress_writes_are_throttled_but_the_final_one_always_lands(queued_run, monkeypatch):
    services.claim_run(run_id=queued_run.pk)
    writes = []
    monkeypatch.setattr(services, "record_progress", lambda **kw: writes.append(kw["fraction"]) or True)
    report = runner.ProgressReporter(queued_run.pk, interval_s=3600)

    for fraction in (0.1, 0.2, 0.3, 1.0):
        report(fraction, "point")

    assert writes == [0.1, 1.0]


def test_the_task_is_routed_to_the_gpu_queue_and_acknowledged_late():
    from config.celery import app

    assert app.amqp.router.route({}, "experiments.run_experiment")["queue"].name == "gpu"
    assert app.amqp.router.route({}, "experiments.reap_overdue_runs")["queue"].name == "celery"
    task = tasks.run_experiment
    assert task.acks_late and task.reject_on_worker_lost
    assert task.soft_time_limit < task.time_limit < app.conf.broker_transport_options.get("visibility_timeout", 3600)


# --- Failures the worker's parent process sees --------------------------------------------------------------


def bare_request(run_id: int) -> tasks.ExperimentRequest:
    request = tasks.ExperimentRequest.__new__(tasks.ExperimentRequest)
    request._args = (run_id,)
    return request


def test_a_worker_child_killed_mid_run_fails_the_run_from_the_parent(monkeypatch):
    run = ExperimentRunFactory(running=True)
    monkeypatch.setattr(Request, "on_failure", lambda self, *args, **kwargs: None)
    try:
        raise WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL)")
    except WorkerLostError:
        exc_info = ExceptionInfo()

    bare_request(run.pk).on_failure(exc_info)

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error == services.WORKER_LOST_MESSAGE


def test_the_hard_time_limit_fails_the_run_from_the_parent(monkeypatch):
    run = ExperimentRunFactory(running=True)
    monkeypatch.setattr(Request, "on_timeout", lambda self, soft, timeout: None)

    bare_request(run.pk).on_timeout(soft=True, timeout=600)
    run.refresh_from_db()
    assert run.status == Status.RUNNING, "the soft limit is handled inside the task"

    bare_request(run.pk).on_timeout(soft=False, timeout=660)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("Stopped after 660 s: the run exceeded this server's hard time limit")


# --- The reaper --------------------------------------------------------------------------------------------


def test_the_reaper_fails_overdue_runs_with_a_reason_and_leaves_the_others_alone():
    now = timezone.now()
    stuck_running = ExperimentRunFactory(running=True, deadline=now - timedelta(minutes=1))
    never_started = ExperimentRunFactory(params={"hidden": 32}, deadline=now - timedelta(minutes=1))
    healthy = ExperimentRunFactory(params={"hidden": 48}, running=True, deadline=now + timedelta(minutes=5))
    finished = ExperimentRunFactory(params={"hidden": 64}, succeeded=True)

    assert tasks.reap_overdue_runs.run() == 2

    for run in (stuck_running, never_started, healthy, finished):
        run.refresh_from_db()
    assert stuck_running.status == Status.FAILED and "did not finish before its deadline" in stuck_running.error
    assert never_started.status == Status.FAILED and "No worker started this run" in never_started.error
    assert healthy.status == Status.RUNNING
    assert finished.status == Status.SUCCEEDED


def test_the_reaper_runs_every_minute_from_celery_beat():
    from config.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["experiments.reap_overdue_runs"] == 60.0


def test_a_late_result_does_not_overwrite_a_run_the_reaper_failed(queued_run):
    services.claim_run(run_id=queued_run.pk)
    services.fail_run(run_id=queued_run.pk, reason="reaped")

    assert services.complete_run(run_id=queued_run.pk, result={"table": {}}, figure={}) is False
    queued_run.refresh_from_db()
    assert queued_run.status == Status.FAILED and queued_run.result is None


def test_neither_the_worker_parent_nor_the_web_process_imports_torch_at_startup():
    """Only pool children import torch (after the fork), so no parent ever initialises CUDA for its children."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django, sys; django.setup(); from config.celery import app; app.loader.import_default_modules(); "
        "import experiments.views, experiments.panels, experiments.admin, config.urls; "
        "print('torch' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}, timeout=120, check=True,
    )
    assert completed.stdout.strip().splitlines()[-1] == "False"


# Runs in a fresh web process on the current test database: render module 1 (three panels) for an anonymous and a
# signed-in reader, start a run through the API, then report which heavy libraries that process imported.
_WEB_PROCESS_SERVES_PANELS = """
import json, sys
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from accounts.models import User

setup_test_environment()
url = "/courses/transformers-architecture/the-problem-with-rnns/"
pages = {"anonymous": Client().get(url)}
reader = Client()
reader.force_login(User.objects.get(username="ada"))
pages["signed_in"] = reader.get(url)
run = reader.post("/experiments/runs/", data=json.dumps({"experiment": "gradient-flow", "params": {"seq_len": "50"}}),
                  content_type="application/json")
print(json.dumps({
    "statuses": {who: page.status_code for who, page in pages.items()},
    "panels": {who: page.content.decode().count('<section class="experiment-panel"') for who, page in pages.items()},
    "forms": pages["signed_in"].content.decode().count('class="form experiment-form"'),
    "run_status": run.status_code,
    "imported": sorted(name for name in ("torch", "plotly") if name in sys.modules),
}))
"""


def test_a_web_process_serving_lesson_panels_and_run_requests_never_imports_torch(transactional_db, course, user):
    """Names, titles, parameter forms and validation come from torch-free modules (importing torch costs 3.5 s and ~300 MB per worker)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.support.services import database_url_of_current_test_db

    ExperimentRunFactory(succeeded=True, experiment="sequence-latency")  # a stored chart for the panel to show
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=database_url_of_current_test_db())

    completed = subprocess.run(
        [sys.executable, "-c", _WEB_PROCESS_SERVES_PANELS], cwd=Path(__file__).resolve().parents[2],
        capture_output=True, text=True, env=env, timeout=120,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["statuses"] == {"anonymous": 200, "signed_in": 200}
    assert report["panels"] == {"anonymous": 3, "signed_in": 3}
    assert report["forms"] == 3
    assert report["run_status"] == 202
    assert report["imported"] == []
