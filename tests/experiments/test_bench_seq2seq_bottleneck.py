"""seq2seq-bottleneck at toy sizes: task, attention, determinism, learning, memory estimate, figure."""

from __future__ import annotations

import json

import pytest
import torch

from experiments.bench import registry
from experiments.bench import seq2seq_bottleneck as s2s
from experiments.bench.registry import ParamError
from tests.support.peak_memory import assert_estimate_within_tolerance, peak_and_estimate

NAME = "seq2seq-bottleneck"
TINY = {
    "steps": 12,
    "batch": 8,
    "hidden": 16,
    "vocab": 6,
    "train_min_len": 2,
    "train_max_len": 4,
    "test_lengths": [3, 6],
    "test_samples": 16,
}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def config(**overrides):
    return registry.validate_params(NAME, {**TINY, **overrides}, "cpu")


@pytest.fixture(scope="module")
def run_result():
    progress: list[float] = []
    return s2s.run(config(), lambda f, m: progress.append(f)), progress


def test_copy_and_reverse_targets() -> None:
    x, y = s2s.make_batch(5, 7, 4, "copy", torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 7)
    assert torch.equal(x, y) and torch.all((x >= 0) & (x < 4))
    x, y = s2s.make_batch(5, 7, 4, "reverse", torch.Generator().manual_seed(0))
    assert torch.equal(y, x.flip(1))


def test_training_lengths_stay_in_the_training_range() -> None:
    lengths = s2s.training_lengths(config(steps=500), torch.Generator().manual_seed(0))
    assert len(lengths) == 500 and set(lengths) == {2, 3, 4}


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_weights_sum_to_one_over_source_positions(attention: str) -> None:
    model = s2s.build_model("attention", config(attention=attention))
    x, y = s2s.make_batch(3, 9, 6, "copy", torch.Generator().manual_seed(1))
    logits, weights = model(x, s2s.decoder_input(y, 6))
    assert logits.shape == (3, 9, 6)
    assert weights is not None and weights.shape == (3, 9, 9)  # (batch, target step, source position)
    assert torch.all(weights >= 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 9))


def test_the_plain_model_has_no_attention_weights() -> None:
    model = s2s.build_model("plain", config())
    x, y = s2s.make_batch(2, 5, 6, "copy", torch.Generator().manual_seed(1))
    assert model(x, s2s.decoder_input(y, 6))[1] is None


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_decoder_reads_the_encoder_outputs(attention: str) -> None:
    """Changing one early source token changes the first output step through the attention's context.

    The encoder's last state is held fixed by rebuilding it from the original source, so any change
    at the output can only come through the annotations the attention reads.
    """
    model = s2s.build_model("attention", config(attention=attention)).eval()
    x, _ = s2s.make_batch(4, 6, 6, "copy", torch.Generator().manual_seed(2))
    changed = x.clone()
    changed[:, 0] = (changed[:, 0] + 1) % 6
    with torch.no_grad():
        ann, last = model.encode(x)
        ann_changed, _ = model.encode(changed)
        start = torch.full((4,), 6, dtype=torch.long)
        assert model.attention is not None
        out, _, _ = model.step(start, last, ann, model.attention.keys(ann), last)
        out_changed, _, _ = model.step(start, last, ann_changed, model.attention.keys(ann_changed), last)
    assert not torch.allclose(out, out_changed)


def test_plain_decoder_sees_the_source_only_through_the_last_encoder_state() -> None:
    model = s2s.build_model("plain", config()).eval()
    x, _ = s2s.make_batch(4, 6, 6, "copy", torch.Generator().manual_seed(2))
    with torch.no_grad():
        ann, last = model.encode(x)
        start = torch.full((4,), 6, dtype=torch.long)
        out, _, _ = model.step(start, last, ann, None, last)
        out_other, _, _ = model.step(start, last, torch.randn_like(ann), None, last)
    torch.testing.assert_close(out, out_other)


def test_result_fields_and_progress(run_result) -> None:
    result, progress = run_result
    assert {"environment", "params", "table", "summary", "notes", "accuracy", "claim", "train_range"} <= set(result)
    assert result["environment"]["device"] == "cpu"
    assert result["chance"] == pytest.approx(1 / 6)
    assert set(result["accuracy"]) == {"plain", "attention"}
    assert all(len(a) == 2 and all(0 <= v <= 1 for v in a) for a in result["accuracy"].values())
    rows = result["table"]["rows"]
    assert len(rows) == 4 and all(len(r) == len(result["table"]["columns"]) for r in rows)
    # the table uses the chart's human labels, never code names
    assert {r[0] for r in rows} == set(result["model_labels"].values())
    assert [r[4] for r in rows] == ["yes", "no", "yes", "no"]
    json.dumps(result, allow_nan=False)
    assert progress == sorted(progress) and progress[-1] == 1.0 and progress.count(1.0) == 1
    assert len(progress) >= 2 * len(TINY["test_lengths"]) + 2


def test_a_tiny_run_is_deterministic_for_a_fixed_seed(run_result) -> None:
    again = s2s.run(config())
    assert again["accuracy"] == run_result[0]["accuracy"]
    assert again["training"]["attention"]["loss_curve"] == run_result[0]["training"]["attention"]["loss_curve"]
    other = s2s.run(config(seed=1))
    assert other["training"]["attention"]["loss_curve"] != run_result[0]["training"]["attention"]["loss_curve"]


def test_accuracy_at_training_lengths_beats_chance() -> None:
    cfg = config(steps=150, batch=32, hidden=32, test_lengths=[3], test_samples=200, lr=1e-2)
    result = s2s.run(cfg)
    for kind, accs in result["accuracy"].items():
        assert accs[0] > 2 * result["chance"], kind


def test_validation_bounds() -> None:
    with pytest.raises(ParamError) as err:
        registry.validate_params(NAME, {"train_min_len": 12, "train_max_len": 8}, "cpu")
    assert "train_min_len" in err.value.errors
    with pytest.raises(ParamError) as err:
        registry.validate_params(NAME, {"test_lengths": [10, 61], "attention": "general", "steps": 0}, "cpu")
    assert set(err.value.errors) == {"test_lengths", "attention", "steps"}
    # a GPU worker accepts longer sequences than a CPU worker
    assert registry.validate_params(NAME, {"test_lengths": [200]}, "cuda").test_lengths == (200,)
    cpu, cuda = registry.validate_params(NAME, {}, "cpu"), registry.validate_params(NAME, {}, "cuda")
    assert cpu.train_max_len < max(cpu.test_lengths) and cuda.train_max_len < max(cuda.test_lengths)


MEMORY_CONFIGS = [
    {"hidden": 128, "batch": 128, "train_min_len": 24, "train_max_len": 24},
    {"hidden": 128, "batch": 128, "train_min_len": 24, "train_max_len": 24, "attention": "dot"},
    {"hidden": 64, "batch": 64, "train_min_len": 20, "train_max_len": 20, "task": "reverse"},
    {"hidden": 64, "batch": 8, "train_min_len": 4, "train_max_len": 4, "test_samples": 1000, "test_lengths": [60]},
]


@pytest.mark.slow
def test_memory_estimate_is_within_2x_of_the_measured_peak() -> None:
    """Measured: RSS growth of one whole run (2 training steps per model + the test) after a warm-up run."""
    base = {"steps": 2, "test_samples": 1, "test_lengths": [2], "vocab": 8}
    for params in MEMORY_CONFIGS:  # each in a fresh process, after a warm-up run that pays the library set-up
        peak, estimate = peak_and_estimate(NAME, {**base, **params}, warm_params={**TINY, "steps": 1})
        assert_estimate_within_tolerance(estimate, peak, case=f"seq2seq-bottleneck {params}")


def test_memory_estimate_grows_with_the_sizes_that_matter() -> None:
    small = config().peak_memory_bytes("cpu")
    assert config(batch=64).peak_memory_bytes("cpu") > small
    assert config(train_max_len=30).peak_memory_bytes("cpu") > small
    assert config(hidden=128).peak_memory_bytes("cpu") > small
    big = registry.validate_params(NAME, {}, "cuda")
    assert big.peak_memory_bytes("cuda") < 2 * 2**30  # the GPU defaults fit any budget worth setting


def test_figure_builds_from_a_real_result(run_result) -> None:
    result = run_result[0]
    fig = registry.get_experiment(NAME).figure(result)
    text = json.dumps(fig)
    assert "bdata" not in text
    names = [t["name"] for t in fig["data"]]
    assert names[:2] == list(result["model_labels"].values())
    claim = next(t for t in fig["data"] if t["name"].startswith("Claim"))
    assert "Bahdanau" in claim["name"] and claim["line"]["dash"] == "dash"
    band = fig["layout"]["shapes"][0]
    assert band["x0"] < 2 and band["x1"] > 4  # the training lengths 2..4 are shaded
    assert fig["layout"]["xaxis"]["title"]["text"].endswith("(tokens)")


def test_bench_overhead_compares_the_same_work_both_ways() -> None:
    from perf.experiment_seq2seq_bottleneck import seq2seq_overhead

    times = seq2seq_overhead(config(steps=3, test_samples=4), repeats=1)
    assert set(times) == {"harness_wall_s", "bare_wall_s", "harness_cpu_s", "bare_cpu_s"}
    assert all(t > 0 for t in times.values())
