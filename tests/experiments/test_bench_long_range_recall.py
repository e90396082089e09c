"""long-range-recall at toy sizes: task construction, result shape, determinism, figure."""

from __future__ import annotations

import json

import pytest
import torch

from experiments.bench import long_range_recall as lrr
from experiments.bench import registry

TINY = {"distances": [2, 6], "steps": 15, "hidden": 16, "batch": 8}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_task_puts_the_value_first_and_the_query_last() -> None:
    x, y = lrr.make_batch(32, 7, torch.Generator().manual_seed(0))
    assert x.shape == (32, 8)
    assert torch.equal(x[:, 0], y)
    assert torch.all(y < lrr.NUM_VALUES)
    assert torch.all(x[:, -1] == lrr.QUERY)
    middle = x[:, 1:-1]
    assert torch.all((middle >= lrr.NUM_VALUES) & (middle < lrr.QUERY))


@pytest.fixture(scope="module")
def run_result():
    progress: list[float] = []
    cfg = registry.validate_params("long-range-recall", TINY, "cpu")
    return lrr.run(cfg, lambda f, m: progress.append(f)), progress


def test_result_fields(run_result) -> None:
    result, progress = run_result
    assert {"environment", "table", "summary", "params", "notes", "accuracy", "chance"} <= set(result)
    assert result["environment"]["device"] == "cpu"
    assert result["chance"] == pytest.approx(1 / 8)
    assert set(result["accuracy"]) == {"rnn", "lstm", "transformer"}
    assert all(len(a) == 2 and all(0 <= v <= 1 for v in a) for a in result["accuracy"].values())
    assert len(result["table"]["rows"]) == 6
    json.dumps(result, allow_nan=False)
    assert progress == sorted(progress) and progress[-1] == 1.0 and progress.count(1.0) == 1
    assert len(progress) >= 6


def test_threads_param_is_applied_and_restored(run_result) -> None:
    assert run_result[0]["environment"]["num_threads"] == 1 == run_result[0]["params"]["threads"]
    before = torch.get_num_threads()
    cfg = registry.validate_params("long-range-recall", {**TINY, "steps": 1, "models": "rnn", "threads": 2}, "cpu")
    assert lrr.run(cfg)["environment"]["num_threads"] == 2
    assert torch.get_num_threads() == before


def test_deterministic(run_result) -> None:
    cfg = registry.validate_params("long-range-recall", {**TINY, "models": "rnn_vs_transformer"}, "cpu")
    again = lrr.run(cfg)
    assert again["accuracy"]["rnn"] == run_result[0]["accuracy"]["rnn"]
    assert again["accuracy"]["transformer"] == run_result[0]["accuracy"]["transformer"]


def test_short_distance_is_learnable() -> None:
    cfg = registry.validate_params(
        "long-range-recall", {"distances": [2], "steps": 100, "hidden": 16, "batch": 32, "models": "lstm"}, "cpu"
    )
    assert lrr.run(cfg)["accuracy"]["lstm"][0] > 0.9


def test_figure_is_plain_json(run_result) -> None:
    fig = registry.get_experiment("long-range-recall").figure(run_result[0])
    assert "bdata" not in json.dumps(fig)
    assert "cpu" in fig["layout"]["title"]["text"]
    assert any("chance" in a["text"] for a in fig["layout"]["annotations"])
    assert len(fig["data"]) == 3
