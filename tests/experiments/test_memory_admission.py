"""A run whose estimated memory exceeds the worker's budget is refused before anything is queued, and a request
body that is not the flat run request is a 400, whatever its shape."""
from __future__ import annotations

import json

import pytest
from django.test import override_settings

from experiments import catalog
from experiments.models import ExperimentRun
from tests.support.experiments import RUNS_URL, post_run

pytestmark = pytest.mark.django_db

# The attack from the report: every field within its own bounds, ~110 GB for one training step.
ATTACK = {"hidden": 1024, "heads": 32, "vocab": 50000, "batch_sizes": [32], "seq_lens": [1000], "mode": "train"}
SIX_GB = 6 * 1024


@pytest.fixture
def publishes(monkeypatch):
    """Every connection the web process opens to publish a task, recorded (and still made)."""
    from config.celery import app

    opened = []
    original = app.connection_for_write

    def recording(*args, **kwargs):
        opened.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(app, "connection_for_write", recording)
    return opened


@override_settings(EXPERIMENTS_CPU_MEMORY_BUDGET_MB=SIX_GB)
def test_a_run_needing_more_memory_than_the_worker_allows_is_a_400_naming_the_estimate_and_the_budget(
    signed_in_client,
):
    response = post_run(signed_in_client, "sequence-latency", ATTACK)

    assert response.status_code == 400
    body = response.json()
    message = body["errors"]["memory"]
    assert message.startswith("This run needs about ")
    needed_gb = int(message.removeprefix("This run needs about ").split(" GB")[0])
    assert needed_gb >= 100  # one training step measured ~3.5 GB per sequence of 1000 tokens, batch 32
    assert "this server's CPU worker allows 6.0 GB" in message
    assert "batch size" in message and "sequence length" in message
    assert message in body["error"]
    assert not ExperimentRun.objects.exists()


@override_settings(EXPERIMENTS_CPU_MEMORY_BUDGET_MB=SIX_GB)
def test_a_refused_configuration_never_reaches_the_broker(signed_in_client, publishes, tiny_params):
    for params in (ATTACK, {"batch_sizes": [32], "seq_lens": [1000], "mode": "train"}):
        response = post_run(signed_in_client, "sequence-latency", params)
        assert response.status_code == 400, response.content
        assert "memory" in response.json()["errors"]
    assert publishes == []
    assert not ExperimentRun.objects.exists()

    # The same request path does publish a run that fits: the recording above would have seen a refused one.
    assert post_run(signed_in_client, "sequence-latency", tiny_params).status_code == 202
    assert publishes


def test_the_budget_comes_from_the_settings(tiny_params):
    needed = catalog.validate_params("sequence-latency", tiny_params, "cpu")  # fits the default budget
    estimate_mb = _estimate_mb(tiny_params)
    with (
        override_settings(EXPERIMENTS_CPU_MEMORY_BUDGET_MB=estimate_mb - 1),
        pytest.raises(catalog.InvalidParamsError) as refused,
    ):
        catalog.validate_params("sequence-latency", tiny_params, "cpu")
    assert set(refused.value.errors) == {"memory"}
    with override_settings(EXPERIMENTS_CPU_MEMORY_BUDGET_MB=estimate_mb + 1):
        assert catalog.validate_params("sequence-latency", tiny_params, "cpu") == needed


def test_an_explicit_device_is_judged_by_that_devices_budget(tiny_params):
    estimate_mb = _estimate_mb(tiny_params)
    # A GPU server still runs device="cpu" requests on its CPU, within the CPU budget.
    with override_settings(EXPERIMENTS_CPU_MEMORY_BUDGET_MB=estimate_mb - 1, EXPERIMENTS_CUDA_MEMORY_BUDGET_MB=10**6):
        with pytest.raises(catalog.InvalidParamsError):
            catalog.validate_params("sequence-latency", {**tiny_params, "device": "cpu"}, "cuda")
        assert catalog.validate_params("sequence-latency", {**tiny_params, "device": "auto"}, "cuda")


@override_settings(EXPERIMENTS_CPU_MEMORY_BUDGET_MB=SIX_GB)
def test_the_panel_form_without_javascript_shows_the_memory_refusal(signed_in_client):
    defaults = catalog.default_params("sequence-latency", "cpu")
    form = {
        "experiment": "sequence-latency",
        "next": "/courses/transformers-architecture/the-problem-with-rnns/",
        **{name: ", ".join(map(str, v)) if isinstance(v, list) else v for name, v in defaults.items()},
        "batch_sizes": "32",
        "seq_lens": "1000",
        "mode": "train",
    }

    response = signed_in_client.post(RUNS_URL, data=form, follow=True)

    text = response.content.decode()
    assert "The run was not started. This run needs about " in text
    assert "worker allows 6.0 GB" in text
    assert not ExperimentRun.objects.exists()


def _estimate_mb(params: dict) -> int:
    from experiments.bench import registry

    config = registry.validate_params("sequence-latency", params, "cpu")
    return config.peak_memory_bytes("cpu") // 2**20


# --- The request body ---------------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        # 1000 levels in 2 KB: the decoder itself recursed too deep and the request answered 500
        nested(1000),
        json.dumps({"experiment": "sequence-latency", "params": {}})[:-1] + ', "x": ' + nested(1000) + "}",
        '{"experiment": "sequence-latency", "params": ' + nested(1000) + "}",
        '{"experiment": "sequence-latency", "params": {"hidden": ' + nested(1000) + "}}",
        '{"experiment": "sequence-latency", "params": {"seq_lens": [[10], [20]]}}',
        '{"experiment": "sequence-latency", "params": {"hidden": {"value": 32}}}',
        '{"experiment": "sequence-latency", "params": {}, "priority": "high"}',
        '{"experiment": ["sequence-latency"], "params": {}}',
        '{"experiment": "sequence-latency", "params": null}',
        '{"experiment": "sequence-latency", "params": {"min_run_time": NaN}}',
        '{"experiment": "sequence-latency", "params": {"hidden": 64}, "params": ' + nested(900) + "}",
    ],
)
def test_a_body_that_is_not_a_flat_run_request_is_a_400(signed_in_client, body, publishes):
    response = signed_in_client.post(RUNS_URL, data=body, content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]
    assert publishes == []
    assert not ExperimentRun.objects.exists()


def test_an_oversized_body_is_a_400(signed_in_client):
    body = json.dumps({"experiment": "sequence-latency", "params": {"seq_lens": [10] * 10000}})

    response = signed_in_client.post(RUNS_URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert "larger than" in response.json()["error"]
