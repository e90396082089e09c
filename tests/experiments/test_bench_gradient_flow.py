"""gradient-flow at toy sizes: vanishing in a tanh RNN, not in a Transformer; seed listing; figure."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from experiments.bench import gradient_flow, registry
from experiments.bench.gradient_flow import SEED_GRAD_CLAIMS

TINY = {"seq_len": 60, "hidden": 16, "samples": 4, "seeds": 2, "heads": 2, "transformer_layers": 1}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _ratios(name: str) -> np.ndarray:
    cfg = registry.validate_params("gradient-flow", TINY, "cpu")
    torch.manual_seed(0)
    model = gradient_flow.build_model(name, cfg)
    x = torch.randn(cfg.samples, cfg.seq_len, cfg.hidden)
    readout = torch.randn(cfg.hidden)
    return np.median(gradient_flow.gradient_ratios(gradient_flow.input_gradient_norms(model, x, readout)), axis=0)


def test_tanh_rnn_gradient_vanishes_transformer_does_not() -> None:
    rnn = _ratios("rnn")
    assert rnn[0] == 1.0
    assert rnn[50] < 1e-6 * rnn[1]
    tf = _ratios("transformer")
    assert tf[50] > 0.1 * tf[1]


def test_forget_bias_is_set_on_the_forget_slice() -> None:
    lstm = gradient_flow.lstm_with_forget_bias(8, 3.0)
    total = lstm.bias_ih_l0 + lstm.bias_hh_l0
    assert torch.all(total[8:16] == 3.0)  # gates are (i, f, g, o)
    assert not torch.all(total[:8] == 3.0)


@pytest.fixture(scope="module")
def run_result():
    progress: list[float] = []
    cfg = registry.validate_params("gradient-flow", TINY, "cpu")
    result = gradient_flow.run(cfg, lambda f, m: progress.append(f))
    return result, progress


def test_result_fields(run_result) -> None:
    result, progress = run_result
    assert {"environment", "table", "summary", "params", "notes", "curves", "seed_listing"} <= set(result)
    assert result["environment"]["device"] == "cpu"
    assert set(result["curves"]) == set(gradient_flow.MODEL_LABELS)
    for curve in result["curves"].values():
        assert len(curve["median"]) == len(curve["q25"]) == len(curve["zero_fraction"]) == 60
        assert curve["median"][0] == 1.0 and curve["n"] == 4 * 2
    assert len(result["table"]["rows"][0]) == len(result["table"]["columns"])
    assert set(result["summary"]["models"]["rnn"]["ratio_at"]) == {"1", "10", "50", "59"}
    json.dumps(result, allow_nan=False)
    assert progress == sorted(progress) and progress[-1] == 1.0 and progress.count(1.0) == 1


def test_seed_listing_reproduced_next_to_claims(run_result) -> None:
    listing = run_result[0]["seed_listing"]
    assert listing["lengths"] == [10, 25, 50, 100, 200]
    assert listing["claimed"] == [SEED_GRAD_CLAIMS[t] for t in listing["lengths"]]
    assert len(listing["printed"]) == 5
    assert listing["printed"][0].startswith("Seq Length:  10 | Gradient Norm: ")
    assert listing["printed"][0].endswith(f"{listing['measured'][0]:.6f}")
    # Seeded: the listing prints the same numbers every time.
    again, _ = gradient_flow.seed_listing(listing["measured_seed"])
    assert again == listing["measured"]


def test_deterministic(run_result) -> None:
    cfg = registry.validate_params("gradient-flow", {**TINY, "models": "rnn"}, "cpu")
    again = gradient_flow.run(cfg)
    assert again["curves"]["rnn"] == run_result[0]["curves"]["rnn"]


def test_underflow_zeros_are_kept_and_plotted_at_floor() -> None:
    result = {
        "environment": {"device": "cpu", "device_name": "test CPU", "num_threads": 1},
        "params": {"seq_len": 3},
        "distances": [0, 1, 2],
        "underflow_floor": 1e-46,
        "curves": {
            "rnn": {
                "label": "RNN",
                "median": [1.0, 1e-30, 0.0],
                "q25": [1.0, 0.0, 0.0],
                "q75": [1.0, 1e-20, 0.0],
                "zero_fraction": [0.0, 0.4, 1.0],
                "n": 5,
            }
        },
    }
    fig = registry.get_experiment("gradient-flow").figure(result)
    median = next(t for t in fig["data"] if t["name"] == "RNN")
    assert median["y"] == [1.0, 1e-30, 1e-46]
    assert median["customdata"][2] == [0.0, 1.0]  # the true value (0) and its zero fraction
    assert any("underflow" in a["text"] for a in fig["layout"]["annotations"])


def test_figure_is_plain_json(run_result) -> None:
    fig = registry.get_experiment("gradient-flow").figure(run_result[0])
    text = json.dumps(fig)
    assert "bdata" not in text
    assert "cpu" in fig["layout"]["title"]["text"]
    assert any("claimed" in t["name"] and t["line"]["dash"] == "dash" for t in fig["data"])
    assert fig["layout"]["yaxis"]["type"] == "log"
