"""sequence-latency at toy sizes: result shape, environment, progress, FLOP count, figure."""

from __future__ import annotations

import json

import pytest
import torch

from experiments.bench import registry, sequence_latency
from experiments.bench.sequence_latency import SEED_CLAIMS, transformer_flops
from experiments.bench.sequence_latency_config import COLUMN_LABELS, MODEL_LABELS
from experiments.bench.tables import table_records

TINY = {
    "hidden": 16,
    "heads": 2,
    "rnn_layers": 1,
    "transformer_layers": 1,
    "vocab": 16,
    "batch_sizes": [1, 2],
    "seq_lens": [2, 8],
    "min_run_time": 0.05,
    "gemm_size": 64,
    "device": "cpu",
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def run_result():
    progress: list[tuple[float, str]] = []
    cfg = registry.validate_params("sequence-latency", TINY, "cpu")
    result = registry.get_experiment("sequence-latency").run(cfg, lambda f, m: progress.append((f, m)))
    return result, progress


def test_result_fields_and_table(run_result) -> None:
    result, _ = run_result
    assert {"environment", "table", "summary", "params", "notes", "seed_claims"} <= set(result)
    assert result["environment"]["device"] == "cpu" and result["environment"]["num_threads"] >= 1
    rows = table_records(result["table"], column_labels=COLUMN_LABELS, value_labels={"model": MODEL_LABELS})
    assert len(rows) == 2 * 2 * 2  # models x batches x lengths
    assert {(r["model"], r["batch"], r["seq_len"]) for r in rows} == {
        (m, b, t) for m in ("lstm", "transformer") for b in (1, 2) for t in (2, 8)
    }
    for r in rows:
        assert r["median_ms"] > 0 and r["iqr_ms"] >= 0 and r["blocks"] >= 3
        assert r["tokens_per_s"] == pytest.approx(r["batch"] * r["seq_len"] / (r["median_ms"] / 1e3))
        assert r["gflop_per_s"] > 0 and r["frac_of_peak"] > 0
    assert result["params"]["batch_sizes"] == [1, 2]
    json.dumps(result, allow_nan=False)


def test_summary_has_ratios_exponents_and_flip(run_result) -> None:
    summary = run_result[0]["summary"]
    assert set(summary["ratio_lstm_over_transformer"]) == {"1", "2"}
    assert set(summary["ratio_lstm_over_transformer"]["1"]) == {"2", "8"}
    assert set(summary["scaling_exponent"]) == {"lstm", "transformer"}
    assert set(summary["winner_flips_at_batch"]) == {"2", "8"}
    assert summary["peak_gflop_per_s"] > 0


def test_seed_claims_are_labelled_as_claims(run_result) -> None:
    claims = run_result[0]["seed_claims"]
    assert claims["is_measurement"] is False
    assert "seed" in claims["label"] and "claim" in claims["label"]
    assert dict(zip(claims["seq_lens"], claims["lstm_ms"], strict=True))[1000] == 172.89
    assert dict(zip(claims["seq_lens"], claims["transformer_ms"], strict=True))[10] == 3.12
    assert SEED_CLAIMS["batch_size"] == 32
    assert any("scaled down" in n or "differ from the seed" in n for n in run_result[0]["notes"])


def test_progress_increases_to_one_with_a_call_per_point(run_result) -> None:
    _, progress = run_result
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and fractions.count(1.0) == 1
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert len(fractions) >= 8  # at least one per measured point


def test_figure_is_plain_json(run_result) -> None:
    fig = registry.get_experiment("sequence-latency").figure(run_result[0])
    text = json.dumps(fig)
    assert "bdata" not in text
    assert "cpu" in fig["layout"]["title"]["text"]
    assert "scaled down" in fig["layout"]["title"]["text"]
    assert fig["layout"]["template"]["layout"]  # plotly_white, expanded
    names = [t["name"] for t in fig["data"]]
    assert any("lesson's claim (GPU" in n for n in names)
    claim_traces = [t for t in fig["data"] if "lesson's claim" in t["name"]]
    assert all(t["line"]["dash"] == "dash" for t in claim_traces)
    assert fig["layout"]["xaxis"]["type"] == "log" and fig["layout"]["yaxis"]["type"] == "log"


def test_analytic_flops() -> None:
    cfg = registry.validate_params(
        "sequence-latency", {"hidden": 64, "heads": 4, "transformer_layers": 2, "vocab": 100}, "cpu"
    )
    b, t, d, ff = 3, 10, 64, sequence_latency.D_FF
    per_layer = 8 * b * t * d * d + 4 * b * t * t * d + 4 * b * t * d * ff
    assert transformer_flops(cfg, b, t) == 2 * per_layer + 2 * b * t * d * 100
    train = registry.validate_params(
        "sequence-latency", {"hidden": 64, "heads": 4, "mode": "train", "transformer_layers": 2, "vocab": 100}, "cpu"
    )
    assert transformer_flops(train, b, t) == 3 * transformer_flops(cfg, b, t)


def test_models_match_the_seed_listing() -> None:

    rnn = sequence_latency.BenchmarkRNN(50, 32, num_layers=1)
    tf = sequence_latency.BenchmarkTransformer(50, 32, nhead=4, num_layers=2)
    x = torch.randint(0, 50, (2, 7))
    assert rnn(x).shape == tf(x).shape == (2, 7, 50)
    assert tf.pos_encoding.shape == (1, 5000, 32)
    assert len(tf.transformer.layers) == 2 and tf.transformer.layers[0].linear1.out_features == 2048


def test_train_mode_runs() -> None:
    cfg = registry.validate_params(
        "sequence-latency", {**TINY, "mode": "train", "batch_sizes": [2], "seq_lens": [4]}, "cpu"
    )
    result = sequence_latency.run(cfg)
    assert len(result["table"]["rows"]) == 2
