"""One JSON line per Celery task run (logger academy.tasks), like the request log line: in-process runs with
``apply()``, the worker's main-process ends (revoked, hard time limit) through their signals, and a real worker.
"""
from __future__ import annotations

import json
import logging
import re
import time

import pytest
from celery.app.task import Context
from celery.exceptions import TimeLimitExceeded
from celery.signals import task_failure, task_revoked

from config.celery import app

EXPECTED_FIELDS = {"event", "task", "task_id", "status", "duration_ms", "queue", "retries", "run_id", "error"}


@app.task(name="tests.task_log.add")
def add(x: int, y: int) -> int:
    return x + y


@app.task(name="tests.task_log.explode")
def explode(run_id: int) -> None:
    raise ValueError(f"run {run_id} exploded")


@app.task(name="tests.task_log.flaky", bind=True, max_retries=3, default_retry_delay=0)
def flaky(self, attempts_before_success: int) -> str:
    if self.request.retries < attempts_before_success:
        raise self.retry(exc=ConnectionError("the service blinked"))
    return "ok"


@pytest.fixture
def task_lines():
    """Returns the academy.tasks lines logged so far in this test as (level name, parsed JSON) pairs."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.DEBUG)
    logger = logging.getLogger("academy.tasks")
    logger.addHandler(handler)
    try:
        yield lambda: [(record.levelname, json.loads(record.getMessage())) for record in records]
    finally:
        logger.removeHandler(handler)


def test_a_successful_run_logs_one_info_line_with_name_id_status_and_duration(task_lines):
    result = add.apply(args=(2, 3))

    [(level, line)] = task_lines()
    assert result.get() == 5
    assert level == "INFO"
    assert set(line) == EXPECTED_FIELDS
    assert line["event"] == "task"
    assert line["task"] == "tests.task_log.add"
    assert line["task_id"] == result.id
    assert line["status"] == "success"
    assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 5000
    assert line["retries"] == 0
    assert line["run_id"] is None  # add() has no run_id parameter
    assert line["error"] is None


def test_a_failing_run_logs_one_error_line_with_the_exception_type_and_message_and_its_run_id(task_lines):
    result = explode.apply(kwargs={"run_id": 41})

    [(level, line)] = task_lines()  # task_failure fired too, inside the run: still one line
    assert result.failed()
    assert level == "ERROR"
    assert line["status"] == "failure"
    assert line["task_id"] == result.id
    assert line["run_id"] == 41
    assert line["error"] == {"type": "ValueError", "message": "run 41 exploded"}
    assert line["duration_ms"] >= 0


def test_a_retried_run_logs_a_retry_line_and_the_next_run_logs_its_own(task_lines):
    result = flaky.apply(args=(1,))  # eager: the retry runs inside the first run, under the same task id

    lines = task_lines()
    by_status = {line["status"]: (level, line) for level, line in lines}
    assert len(lines) == 2 and set(by_status) == {"retry", "success"}
    retry_level, retry = by_status["retry"]
    assert retry_level == "WARNING"
    assert retry["retries"] == 0
    assert retry["error"] == {"type": "ConnectionError", "message": "the service blinked"}
    assert by_status["success"][1]["retries"] == 1
    assert retry["task_id"] == by_status["success"][1]["task_id"] == result.id


@pytest.mark.django_db
def test_an_experiment_run_task_carries_the_run_id_of_its_experiment_run(task_lines):
    from experiments.tasks import run_experiment
    from tests.support.factories import ExperimentRunFactory

    finished = ExperimentRunFactory(succeeded=True)  # a redelivery of a finished run: claimed by nobody, no torch

    run_experiment.apply(args=[finished.pk])

    [(_, line)] = task_lines()
    assert line["task"] == "experiments.run_experiment"
    assert line["run_id"] == finished.pk
    assert line["status"] == "success"


def test_a_run_revoked_in_the_worker_main_process_logs_one_revoked_line(task_lines):
    request = Context(id="revoked-1", args=[7], kwargs={}, retries=2, delivery_info={"routing_key": "gpu"})

    task_revoked.send(sender=explode, request=request, terminated=True, signum=15, expired=False)

    [(level, line)] = task_lines()
    assert level == "WARNING"
    assert line["status"] == "revoked"
    assert line["reason"] == "terminated"
    assert line["task_id"] == "revoked-1"
    assert line["queue"] == "gpu" and line["retries"] == 2 and line["run_id"] == 7


def test_a_hard_time_limit_reported_twice_by_the_main_process_logs_one_failure_line(task_lines):
    # A pool child killed at its hard time limit never reaches task_postrun; the worker's main process sends
    # task_failure for it (on timeout, and again when it notices the lost child).
    for _ in range(2):
        task_failure.send(sender=explode, task_id="timed-out-1", exception=TimeLimitExceeded(660.0),
                          args=[9], kwargs={}, traceback=None, einfo=None)

    [(level, line)] = task_lines()
    assert level == "ERROR"
    assert line["status"] == "failure"
    assert line["run_id"] == 9
    assert line["error"]["type"] == "TimeLimitExceeded"
    assert line["duration_ms"] is None


@pytest.mark.redis
@pytest.mark.slow
def test_a_real_worker_writes_exactly_one_bare_json_line_per_task_to_stderr(celery_worker_process):
    from celery import Celery

    broker = celery_worker_process["broker_url"]
    # Not the current app: shared tasks resolve through the current app, and later tests publish with them.
    client = Celery(broker=broker, backend=broker, set_as_current=False)
    result = client.send_task("config.ping", queue="celery")
    assert result.get(timeout=60) == "pong"

    def task_lines_of_this_task() -> list[str]:
        return [text for text in celery_worker_process["logs"]().splitlines()
                if '"event": "task"' in text and result.id in text]

    deadline = time.monotonic() + 10  # the result is stored just before the line is written
    while not task_lines_of_this_task() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # time enough for a second line, were there one
    [text] = task_lines_of_this_task() or [celery_worker_process["logs"]()[-3000:]]
    # Bare JSON (what a log pipeline parses), not behind the worker's "[time: LEVEL/Process]" prefix.
    assert re.fullmatch(r"\{.*\}", text), text
    line = json.loads(text)
    assert line["status"] == "success" and line["queue"] == "celery" and line["task"] == "config.ping"
