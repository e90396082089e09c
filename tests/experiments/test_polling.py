"""Progress polling is cheap (experiments/polling.py) and never hides a change from a reader."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from experiments import services
from tests.support.factories import SMALL_FIGURE, SMALL_RESULT, ExperimentRunFactory

pytestmark = pytest.mark.django_db


def poll(client, run, etag: str | None = None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(f"/experiments/runs/{run.pk}/", **headers)


def test_a_reader_whose_copy_is_current_gets_304_without_a_query(client):
    run = ExperimentRunFactory(running=True)
    first = poll(client, run)
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = poll(client, run, first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "no-cache"
    assert len(queries) == 0


def test_progress_reaches_the_next_poll(client):
    run = ExperimentRunFactory(running=True)
    etag = poll(client, run)["ETag"]
    assert services.record_progress(run_id=run.pk, fraction=0.6, message="transformer length 200")
    response = poll(client, run, etag)
    assert response.status_code == 200
    assert response.json()["progress"] == pytest.approx(0.6)
    assert response["ETag"] != etag


def test_success_reaches_the_next_poll(client):
    run = ExperimentRunFactory(running=True)
    etag = poll(client, run)["ETag"]
    assert services.complete_run(run_id=run.pk, result=dict(SMALL_RESULT), figure=dict(SMALL_FIGURE))
    response = poll(client, run, etag)
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert response.json()["figure"]


def test_failure_reaches_the_next_poll(client):
    run = ExperimentRunFactory(running=True)
    etag = poll(client, run)["ETag"]
    assert services.fail_run(run_id=run.pk, reason="out of memory")
    response = poll(client, run, etag)
    assert response.status_code == 200
    assert response.json()["error"] == "out of memory"


def test_a_run_reaped_by_the_periodic_reaper_reaches_the_next_poll(client):
    run = ExperimentRunFactory(running=True, deadline=timezone.now() + timedelta(seconds=30))
    etag = poll(client, run)["ETag"]
    assert services.reap_overdue_runs(now=timezone.now() + timedelta(minutes=5)) == 1
    response = poll(client, run, etag)
    assert response.status_code == 200
    assert response.json()["status"] == "failed"


def test_an_outdated_or_made_up_etag_gets_the_full_answer(client):
    run = ExperimentRunFactory(running=True)
    assert poll(client, run, '"run-made-up"').status_code == 200
    assert poll(client, run, "*").status_code in (200, 304)  # never an error


def test_a_poll_for_an_unknown_run_is_a_404_with_a_message(client, db):
    response = client.get("/experiments/runs/999999/", HTTP_IF_NONE_MATCH='"run-999999-1.0-q0"')
    assert response.status_code == 404
    assert "No experiment run" in response.json()["error"]
