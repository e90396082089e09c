"""The experiments JSON API, as a browser or script uses it."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from experiments import catalog
from experiments.models import ExperimentRun
from tests.support.experiments import RUNS_URL, celery_broker, post_run
from tests.support.factories import ExperimentRunFactory

pytestmark = pytest.mark.django_db
Status = ExperimentRun.Status


def validated(params: dict, experiment: str = "sequence-latency", device_class: str = "cpu") -> dict:
    return catalog.validate_params(experiment, params, device_class)


def existing_run(params: dict, **kwargs) -> ExperimentRun:
    full = validated(params)
    return ExperimentRunFactory(params=full, params_hash=catalog.params_hash("sequence-latency", full), **kwargs)


# --- Listing ----------------------------------------------------------------------------------------------


def test_experiment_list_describes_each_experiment_with_its_parameter_schema_and_defaults(client):
    response = client.get("/experiments/")

    assert response.status_code == 200
    body = response.json()
    assert body["device_class"] == "cpu"
    assert body["runs_url"] == RUNS_URL
    by_name = {item["name"]: item for item in body["experiments"]}
    assert {"sequence-latency", "gradient-flow", "long-range-recall"} <= set(by_name)
    latency = by_name["sequence-latency"]
    assert latency["title"] and latency["description"]
    hidden = next(field for field in latency["params"] if field["name"] == "hidden")
    assert hidden["type"] == "int" and hidden["min"] <= hidden["default"] <= hidden["max"]
    assert latency["defaults"]["hidden"] == hidden["default"]
    assert latency["latest_run"] is None


def test_experiment_list_links_the_latest_successful_run(client):
    run = ExperimentRunFactory(succeeded=True)

    latency = next(item for item in client.get("/experiments/").json()["experiments"]
                   if item["name"] == "sequence-latency")

    assert latency["latest_run"] == {"id": run.pk, "url": f"/experiments/runs/{run.pk}/",
                                     "experiment": "sequence-latency", "status": "succeeded"}


# --- Starting a run ---------------------------------------------------------------------------------------


def test_signed_in_reader_queues_a_run_and_gets_its_id_and_url(signed_in_client, user, tiny_params):
    response = post_run(signed_in_client, "sequence-latency", tiny_params)

    assert response.status_code == 202
    body = response.json()
    run = ExperimentRun.objects.get()
    assert body == {"id": run.pk, "url": f"/experiments/runs/{run.pk}/", "experiment": "sequence-latency",
                    "status": "queued", "reused": False}
    assert response["Location"] == body["url"]
    assert run.started_by == user
    assert run.status == Status.QUEUED
    assert run.device_class == "cpu"
    assert run.params["hidden"] == 16 and run.params["seq_lens"] == [2, 4]
    assert set(run.params) == {field["name"] for field in catalog.param_schema("sequence-latency", "cpu")}
    assert run.deadline > timezone.now()
    assert run.task_id


def test_params_hash_ignores_key_order_and_defaults_given_explicitly(signed_in_client):
    defaults = catalog.default_params("sequence-latency", "cpu")

    first = post_run(signed_in_client, "sequence-latency", {})
    second = post_run(signed_in_client, "sequence-latency", dict(reversed(list(defaults.items()))))

    assert first.status_code == 202
    assert second.status_code == 200 and second.json()["reused"] is True
    assert second.json()["id"] == first.json()["id"]
    assert ExperimentRun.objects.count() == 1


def test_unknown_experiment_is_a_400_naming_the_known_ones_and_creates_no_row(signed_in_client):
    response = post_run(signed_in_client, "warp-drive", {})

    assert response.status_code == 400
    message = response.json()["errors"]["experiment"]
    assert "warp-drive" in message and "sequence-latency" in message
    assert not ExperimentRun.objects.exists()


def test_out_of_bounds_params_are_a_400_with_a_message_per_field_and_create_no_row(signed_in_client, tiny_params):
    response = post_run(signed_in_client, "sequence-latency",
                        {**tiny_params, "hidden": 10**6, "seq_lens": [0, 4], "mode": "sideways", "colour": "red"})

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"hidden", "seq_lens", "mode", "colour"}
    assert "between" in errors["hidden"]
    assert not ExperimentRun.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"params": {}}', '{"experiment": "sequence-latency", "params": 5}'])
def test_malformed_request_bodies_are_a_400_not_a_500(signed_in_client, body):
    response = signed_in_client.post(RUNS_URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]
    assert not ExperimentRun.objects.exists()


def test_anonymous_reader_cannot_start_a_run(client, tiny_params):
    response = post_run(client, "sequence-latency", tiny_params)

    assert response.status_code == 401
    assert "Sign in" in response.json()["error"]
    assert not ExperimentRun.objects.exists()


def test_anonymous_reader_can_read_a_run(client):
    run = ExperimentRunFactory(succeeded=True)

    response = client.get(run.get_absolute_url())

    assert response.status_code == 200
    assert response.json()["figure"]["data"][0]["name"] == "LSTM (measured)"


def test_post_without_the_csrf_token_is_refused(user, tiny_params):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = post_run(browser, "sequence-latency", tiny_params)

    assert response.status_code == 403
    assert not ExperimentRun.objects.exists()


def test_post_with_the_csrftoken_cookie_in_x_csrftoken_is_accepted(user, tiny_params):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/experiments/")  # any page; the lesson page's form sets the cookie the same way
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    browser.cookies["csrftoken"] = token

    response = post_run(browser, "sequence-latency", tiny_params, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 202


def test_runs_collection_does_not_answer_get(client):
    assert client.get(RUNS_URL).status_code == 405


# --- Reuse and fairness -----------------------------------------------------------------------------------


def test_same_params_within_24_hours_return_the_existing_successful_run(signed_in_client, tiny_params):
    earlier = existing_run(tiny_params, succeeded=True, finished_at=timezone.now() - timedelta(hours=23))

    response = post_run(signed_in_client, "sequence-latency", tiny_params)

    assert response.status_code == 200
    assert response.json() == {"id": earlier.pk, "url": earlier.get_absolute_url(), "experiment": "sequence-latency",
                               "status": "succeeded", "reused": True}
    assert ExperimentRun.objects.count() == 1


def test_a_successful_run_older_than_24_hours_is_measured_again(signed_in_client, tiny_params):
    existing_run(tiny_params, succeeded=True, finished_at=timezone.now() - timedelta(hours=25))

    response = post_run(signed_in_client, "sequence-latency", tiny_params)

    assert response.status_code == 202
    assert ExperimentRun.objects.count() == 2


def test_a_failed_run_with_the_same_params_is_not_reused(signed_in_client, tiny_params):
    existing_run(tiny_params, status=Status.FAILED, error="boom", finished_at=timezone.now())

    assert post_run(signed_in_client, "sequence-latency", tiny_params).status_code == 202


@override_settings(EXPERIMENTS_DEVICE_CLASS="cpu")
def test_a_run_on_another_device_class_is_not_reused(signed_in_client, tiny_params):
    existing_run(tiny_params, succeeded=True, device_class="cuda")

    assert post_run(signed_in_client, "sequence-latency", tiny_params).status_code == 202


def test_an_identical_run_in_progress_is_joined_rather_than_queued_twice(signed_in_client, other_user, tiny_params):
    in_progress = existing_run(tiny_params, running=True, started_by=other_user)

    response = post_run(signed_in_client, "sequence-latency", tiny_params)

    assert response.status_code == 200
    assert response.json()["id"] == in_progress.pk and response.json()["status"] == "running"
    assert ExperimentRun.objects.count() == 1


def test_a_reader_with_a_run_in_progress_cannot_start_another(signed_in_client, user, tiny_params):
    mine = existing_run(tiny_params, started_by=user)

    response = post_run(signed_in_client, "sequence-latency", {**tiny_params, "hidden": 32})

    assert response.status_code == 429
    body = response.json()
    assert "already have a run in progress" in body["error"]
    assert body["run"]["id"] == mine.pk
    assert ExperimentRun.objects.count() == 1


def test_a_reader_may_start_a_new_run_once_the_previous_one_finished(signed_in_client, user, tiny_params):
    existing_run(tiny_params, started_by=user, status=Status.FAILED, finished_at=timezone.now())

    assert post_run(signed_in_client, "sequence-latency", {**tiny_params, "hidden": 32}).status_code == 202


@override_settings(EXPERIMENTS_MAX_ACTIVE_RUNS=2)
def test_a_full_queue_answers_429_with_a_clear_message(signed_in_client, other_user, tiny_params):
    existing_run({**tiny_params, "hidden": 32}, started_by=other_user)
    existing_run({**tiny_params, "hidden": 48}, running=True)

    response = post_run(signed_in_client, "sequence-latency", tiny_params)

    assert response.status_code == 429
    assert response.json()["error"] == (
        "The experiment queue is full (2 runs waiting or running). Please try again in a few minutes."
    )
    assert response["Retry-After"] == "60"
    assert ExperimentRun.objects.count() == 2


@override_settings(EXPERIMENTS_MAX_ACTIVE_RUNS=1)
def test_overdue_runs_do_not_hold_a_place_in_the_queue(signed_in_client, other_user, tiny_params):
    stale = existing_run({**tiny_params, "hidden": 32}, started_by=other_user,
                         deadline=timezone.now() - timedelta(seconds=1))

    assert post_run(signed_in_client, "sequence-latency", tiny_params).status_code == 202
    stale.refresh_from_db()
    assert stale.status == Status.FAILED


# --- Broker down ------------------------------------------------------------------------------------------


def test_with_the_broker_down_a_run_request_answers_503_quickly_and_the_run_is_failed(signed_in_client, tiny_params):
    with celery_broker("redis://127.0.0.1:1/0"):  # nothing listens on port 1
        started = time.monotonic()
        response = post_run(signed_in_client, "sequence-latency", tiny_params)
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["error"].startswith("experiment runs are unavailable right now")
    assert elapsed < 5
    run = ExperimentRun.objects.get()
    assert run.status == Status.FAILED
    assert "unavailable right now" in run.error


@pytest.fixture
def unresponsive_broker_url():
    """A TCP port that accepts connections and never answers, like a hung broker."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def accept_forever():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.mark.slow
def test_with_a_hung_broker_a_run_request_gives_up_after_about_two_seconds(signed_in_client, tiny_params,
                                                                            unresponsive_broker_url):
    with celery_broker(unresponsive_broker_url):
        started = time.monotonic()
        response = post_run(signed_in_client, "sequence-latency", tiny_params)
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert elapsed < 5
    assert ExperimentRun.objects.get().status == Status.FAILED


# --- Following a run --------------------------------------------------------------------------------------


def test_run_detail_reports_status_progress_and_position_in_the_queue(client):
    first = ExperimentRunFactory(created_at=timezone.now() - timedelta(seconds=5))
    second = ExperimentRunFactory(params={"hidden": 32})

    body = client.get(second.get_absolute_url()).json()

    assert body["status"] == "queued" and body["queue_position"] == 2
    assert client.get(first.get_absolute_url()).json()["queue_position"] == 1
    assert body["result"] is None and body["figure"] is None and body["error"] is None


def test_polling_an_unchanged_run_answers_304_and_a_change_gives_a_new_etag(client):
    run = ExperimentRunFactory(running=True)
    first = client.get(run.get_absolute_url())
    etag = first["ETag"]

    unchanged = client.get(run.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    from experiments import services

    services.record_progress(run_id=run.pk, fraction=0.6, message="transformer batch 1 length 50")
    changed = client.get(run.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)

    assert first.status_code == 200 and first["Cache-Control"] == "no-cache"
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["progress"] == 0.6
    assert changed.json()["progress_message"] == "transformer batch 1 length 50"


def test_a_succeeded_run_reports_its_result_figure_environment_and_timings(client):
    run = ExperimentRunFactory(succeeded=True)

    body = client.get(run.get_absolute_url()).json()

    assert body["status"] == "succeeded" and body["progress"] == 1.0
    assert body["result"]["table"]["columns"] == ["model", "seq_len", "median_ms"]
    assert body["environment"]["device_name"] == "Test CPU 3000"
    assert body["duration_s"] == pytest.approx(12, abs=1)


def test_an_unknown_run_is_a_json_404(client):
    response = client.get("/experiments/runs/999999/")

    assert response.status_code == 404
    assert response.json()["error"] == "No experiment run #999999."


def test_a_running_run_past_its_deadline_is_failed_on_read_with_the_reason(client):
    run = ExperimentRunFactory(running=True, deadline=timezone.now() - timedelta(seconds=1))

    body = client.get(run.get_absolute_url()).json()

    assert body["status"] == "failed"
    assert "did not finish before its deadline" in body["error"]
    assert body["finished_at"] is not None


def test_a_queued_run_no_worker_started_is_failed_on_read_with_the_reason(client):
    run = ExperimentRunFactory(deadline=timezone.now() - timedelta(seconds=1))

    body = client.get(run.get_absolute_url()).json()

    assert body["status"] == "failed"
    assert "No worker started this run" in body["error"]


# --- The panel's form without JavaScript ------------------------------------------------------------------


def test_the_panel_form_posts_without_javascript_and_returns_to_the_lesson(signed_in_client):
    defaults = catalog.default_params("sequence-latency", "cpu")
    form = {"experiment": "sequence-latency", "next": "/courses/transformers-architecture/the-problem-with-rnns/",
            **{name: ", ".join(map(str, value)) if isinstance(value, list) else value for name, value in defaults.items()},
            "hidden": "32"}

    response = signed_in_client.post(RUNS_URL, data=form)

    assert response.status_code == 302
    assert response["Location"] == "/courses/transformers-architecture/the-problem-with-rnns/#experiment-sequence-latency"
    run = ExperimentRun.objects.get()
    assert run.params["hidden"] == 32 and run.params["batch_sizes"] == defaults["batch_sizes"]


def test_the_panel_form_never_redirects_to_another_site(signed_in_client):
    response = signed_in_client.post(RUNS_URL, data={"experiment": "sequence-latency", "next": "https://evil.example/"})

    assert response["Location"].startswith("/#")


def test_an_anonymous_form_post_is_sent_to_sign_in(client):
    response = client.post(RUNS_URL, data={"experiment": "sequence-latency", "next": "/courses/x/y/"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not ExperimentRun.objects.exists()


def test_run_requests_are_throttled_per_account_with_retry_after(signed_in_client, settings, tiny_params):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "experiment_run": {"ip": "100/h", "user": "2/h"}}
    for _ in range(2):
        assert post_run(signed_in_client, "no-such-experiment", tiny_params).status_code == 400
    refused = post_run(signed_in_client, "sequence-latency", tiny_params)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0 and "Too many attempts" in refused.json()["error"]
    assert not ExperimentRun.objects.exists()


def test_a_throttled_form_post_returns_to_the_lesson_with_a_message(signed_in_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "experiment_run": {"ip": "100/h", "user": "0/h"}}
    response = signed_in_client.post(
        RUNS_URL, {"experiment": "sequence-latency", "next": "/courses/x/y/"}, follow=True
    )
    assert "You have started many runs recently" in response.content.decode()
    assert not ExperimentRun.objects.exists()
