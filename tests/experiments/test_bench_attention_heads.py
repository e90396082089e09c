"""attention-heads at toy sizes: hand-written attention, head masking, role scores, KV cache, memory, figure."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from experiments.bench import attention_heads as ah
from experiments.bench import registry
from tests.support.peak_memory import assert_estimate_within_tolerance, largest_of_fresh_runs, peak_and_estimate

TINY = {"seq_len": 12, "vocab": 16, "d_model": 16, "heads": 2, "layers": 2, "steps": 60, "batch": 16, "lr": 0.01}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(heads: int = 4, layers: int = 2, d_model: int = 32, seq_len: int = 10) -> ah.AttentionOnlyTransformer:
    torch.manual_seed(0)
    return ah.AttentionOnlyTransformer(vocab=16, d_model=d_model, heads=heads, layers=layers, max_len=seq_len).eval()


def test_task_repeats_a_segment_of_otherwise_distinct_tokens() -> None:
    x, lengths, mask = ah.make_batch(64, 12, 16, torch.Generator().manual_seed(0))
    assert x.shape == (64, 12) and mask.shape == (64, 11)
    for row, seg, m in zip(x.tolist(), lengths.tolist(), mask, strict=True):
        assert 2 <= seg <= 6
        assert row[-seg:] == row[-2 * seg : -seg]
        assert len(set(row)) == 12 - seg  # nothing else repeats, so each earlier occurrence is unique
        assert m.nonzero().flatten().tolist() == list(range(12 - seg, 11))


def test_hand_written_attention_matches_scaled_dot_product_attention() -> None:
    block = _model().blocks[0]
    x = torch.randn(3, 10, 32)
    q, k, v = block.split_heads(x)
    out, weights = block.attend(q, k, v)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-6)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 4, 10), atol=1e-6)
    assert torch.all(weights.triu(1) == 0)  # causal: nothing from the future


def test_every_heads_attention_rows_sum_to_one_in_the_full_model() -> None:
    _, weights = _model()(torch.randint(0, 16, (2, 10)))
    for w in weights:
        assert w.shape == (2, 4, 10, 10)
        assert torch.allclose(w.sum(-1), torch.ones(2, 4, 10), atol=1e-6)


def test_masking_no_head_gives_the_baseline_loss_exactly() -> None:
    model = _model(seq_len=12)
    cfg = registry.validate_params("attention-heads", {**TINY, "d_model": 32, "heads": 4}, "cpu")
    chunks = ah.eval_chunks(cfg, torch.device("cpu"))
    ungated = ah.evaluate(model, chunks)["loss"]
    assert ah.evaluate(model, chunks, torch.ones(2, 4))["loss"] == ungated
    gates = torch.ones(2, 4)
    gates[1, 2] = 0
    assert ah.evaluate(model, chunks, gates)["loss"] != ungated


def test_masking_a_head_removes_only_that_heads_term() -> None:
    block = _model().blocks[0]
    x = torch.randn(2, 10, 32)
    full, _ = block(x)
    gate = torch.tensor([1.0, 1.0, 0.0, 1.0])
    masked, _ = block(x, gate)
    q, k, v = block.split_heads(x)
    head_out, _ = block.attend(q, k, v)
    d_k = block.head_dim
    # head 2's contribution: its output times its slice of W_O (columns of the (out, in) weight)
    term = head_out[:, 2] @ block.out_proj.weight[:, 2 * d_k : 3 * d_k].T
    assert torch.allclose(full - masked, term, atol=1e-5)


def test_masking_a_second_layer_head_leaves_the_first_layer_untouched() -> None:
    model = _model()
    x = torch.randint(0, 16, (2, 10))
    gates = torch.ones(2, 4)
    gates[1, 0] = 0
    (_, before), (_, after) = model(x), model(x, gates)
    assert torch.equal(before[0], after[0]) and torch.equal(before[1], after[1])  # weights are computed before W_O


def test_kv_cache_formula_matches_real_tensor_bytes() -> None:
    model = _model(heads=4, layers=2, d_model=32, seq_len=10)
    x = torch.randint(0, 16, (3, 10))
    for kv_heads in (4, 2, 1):
        for dtype, size in ((torch.float16, 2), (torch.float32, 4)):
            tensors = ah.real_kv_cache(model, x, kv_heads, dtype)
            assert len(tensors) == 2 * 2 and tensors[0].shape == (3, kv_heads, 10, 8)
            real = sum(t.numel() * t.element_size() for t in tensors)
            formula = ah.kv_cache_bytes(
                layers=2, kv_heads=kv_heads, head_dim=8, seq_len=10, batch=3, bytes_per_element=size
            )
            assert real == formula


def test_kv_variants_run_from_mha_to_mqa() -> None:
    assert ah.kv_variants(8) == [
        ("MHA, 8 KV heads", 8),
        ("GQA, 4 KV heads", 4),
        ("GQA, 2 KV heads", 2),
        ("MQA, 1 KV head", 1),
    ]


def test_role_scores_recognise_planted_heads() -> None:
    t = 8
    lengths = torch.tensor([3, 4])
    prev = torch.zeros(t, t)
    prev[0, 0] = 1
    prev[torch.arange(1, t), torch.arange(t - 1)] = 1
    induction = torch.zeros(2, t, t)
    for b, seg in enumerate(lengths.tolist()):
        for i in range(t):
            induction[b, i, i - seg + 1 if i >= t - seg else 0] = 1
    weights = torch.stack([prev.expand(2, t, t), induction], dim=1)  # heads: previous-token, induction
    sums, counts = ah.head_scores(weights, lengths)
    scores = sums / counts[:, None]
    assert scores[0, 0] == 1 and scores[1, 1] == 1
    assert scores[0, 1] < 0.5 and scores[1, 0] < 0.5


@pytest.fixture(scope="module")
def run_result():
    progress: list[float] = []
    cfg = registry.validate_params("attention-heads", TINY, "cpu")
    return ah.run(cfg, lambda f, m: progress.append(f)), progress


def test_result_fields_and_progress(run_result) -> None:
    result, progress = run_result
    assert {"environment", "params", "table", "summary", "notes", "example", "kv_cache", "pruning_curve"} <= set(result)
    assert result["environment"]["device"] == "cpu"
    assert len(result["table"]["rows"]) == 4 and all(
        len(r) == len(result["table"]["columns"]) for r in result["table"]["rows"]
    )
    assert [r[0] for r in result["table"]["rows"]] == ["L1 H1", "L1 H2", "L2 H1", "L2 H2"]
    maps = result["example"]["maps"]
    assert len(maps) == 2 and len(maps[0]) == 2 and len(maps[0][0]) == 12
    assert all(abs(sum(row) - 1) < 1e-3 for layer in maps for head in layer for row in head)
    assert [p["pruned"] for p in result["pruning_curve"]] == [0, 1, 2, 3, 4]
    assert result["summary"]["kv_real_tensors_match_formula"] is True
    json.dumps(result, allow_nan=False)
    assert progress == sorted(progress) and progress[-1] == 1.0 and progress.count(1.0) == 1
    assert len(progress) >= 4 + 4 + 10  # per masked head, per pruning step, training


def test_a_tiny_training_run_lowers_the_loss(run_result) -> None:
    training = run_result[0]["training"]
    assert training["start_loss"] > 0.9 * math.log(16)
    assert training["final_loss"] < training["start_loss"] - 0.05


def test_run_is_deterministic(run_result) -> None:
    again = ah.run(registry.validate_params("attention-heads", TINY, "cpu"))
    assert again["table"]["rows"] == run_result[0]["table"]["rows"]


@pytest.mark.slow
def test_default_run_learns_induction_with_a_previous_token_head() -> None:
    """The lesson's claim at reduced size: trained on the task, layer 2 grows an induction head fed by layer 1."""
    cfg = registry.validate_params(
        "attention-heads", {"seq_len": 16, "vocab": 24, "d_model": 32, "heads": 2, "steps": 400}, "cpu"
    )
    summary = ah.run(cfg)["summary"]
    assert summary["held_out_accuracy"] > 0.9
    assert any(h.startswith("L2") for h in summary["induction_heads"])
    assert any(h.startswith("L1") for h in summary["previous_token_heads"])


def test_validation_bounds() -> None:
    with pytest.raises(registry.ParamError) as exc:
        registry.validate_params("attention-heads", {"d_model": 30, "heads": 4, "seq_len": 40, "vocab": 32}, "cpu")
    assert set(exc.value.errors) == {"heads", "vocab"}
    with pytest.raises(registry.ParamError) as exc:
        registry.validate_params("attention-heads", {"steps": 5000, "seq_len": 256, "layers": 5}, "cpu")
    assert set(exc.value.errors) == {"steps", "seq_len", "layers"}
    cuda = registry.validate_params("attention-heads", {}, "cuda")
    assert cuda.steps == 4000 and cuda.seq_len == 64
    assert registry.validate_params("attention-heads", {"steps": 5000, "seq_len": 256, "vocab": 256}, "cuda")


def test_memory_estimate_grows_with_the_score_matrices() -> None:
    small = registry.validate_params("attention-heads", {"batch": 32}, "cpu")
    large = registry.validate_params("attention-heads", {"batch": 64, "seq_len": 48, "vocab": 48}, "cpu")
    assert large.peak_memory_bytes("cpu") > 2 * small.peak_memory_bytes("cpu")
    assert small.peak_memory_bytes("cuda") < small.peak_memory_bytes("cpu")


@pytest.mark.slow
@pytest.mark.parametrize(
    "params",
    [
        {"batch": 128, "seq_len": 64, "heads": 4, "d_model": 64, "vocab": 64},
        {"batch": 64, "seq_len": 32, "heads": 4, "d_model": 256, "vocab": 256},
        {"batch": 256, "seq_len": 48, "heads": 2, "d_model": 32, "vocab": 48, "layers": 1},
        {"batch": 64, "seq_len": 64, "heads": 8, "d_model": 64, "vocab": 64, "layers": 4},
    ],
)
def test_memory_estimate_is_close_to_the_measured_peak(params) -> None:
    """Training dominates the peak (evaluation runs in chunks of ``batch`` without gradients). Measured in a fresh
    process: in the test runner's, what earlier tests freed is reused and the peak depends on the test order."""
    script = f"""
import dataclasses, json, torch
from experiments.bench import attention_heads as ah, registry
from experiments.bench.common import PeakMemory
torch.set_num_threads(1)
cfg = registry.validate_params("attention-heads", {{**{params!r}, "steps": 2, "device": "cpu"}}, "cpu")
device = torch.device("cpu")
warm = dataclasses.replace(cfg, steps=1, batch=2)  # first calls of the code paths, outside the measurement
ah.train(ah.AttentionOnlyTransformer(warm.vocab, warm.d_model, warm.heads, warm.layers, warm.seq_len), warm, device)
def one_run():
    torch.manual_seed(0)
    ah.train(ah.AttentionOnlyTransformer(cfg.vocab, cfg.d_model, cfg.heads, cfg.layers, cfg.seq_len), cfg, device)
meter = PeakMemory(device)
meter(one_run)
print(json.dumps([meter.peak_bytes, cfg.peak_memory_bytes("cpu")]))
"""
    peak, estimate = largest_of_fresh_runs(script)
    assert peak > 20 * 2**20
    assert_estimate_within_tolerance(estimate, peak, case=f"attention-heads training {params}")


@pytest.mark.slow
def test_memory_estimate_covers_a_whole_run() -> None:
    params = {"batch": 256, "seq_len": 48, "heads": 2, "d_model": 32, "vocab": 48, "layers": 1, "steps": 2}
    warm = {**params, "batch": 2, "steps": 1}
    peak, estimate = peak_and_estimate("attention-heads", params, warm_params=warm)
    assert_estimate_within_tolerance(estimate, peak, case=f"attention-heads whole run {params}")


def test_figure_builds_from_a_real_result(run_result) -> None:
    fig = registry.get_experiment("attention-heads").figure(run_result[0])
    assert "bdata" not in json.dumps(fig)
    heatmaps = [t for t in fig["data"] if t["type"] == "heatmap"]
    assert len(heatmaps) == 4 and all(t["coloraxis"] == "coloraxis" for t in heatmaps)
    assert fig["layout"]["coloraxis"]["cmin"] == 0 and fig["layout"]["coloraxis"]["cmax"] == 1
    names = [t.get("name", "") for t in fig["data"]]
    assert any("Voita et al. 2019" in n for n in names) and any("Shazeer" in n for n in names)
    assert {t["x"][0] for t in fig["data"] if t["type"] == "bar" and "Layer" in t["name"]} == {"L1 H1", "L2 H1"}
    assert "cpu" in fig["layout"]["title"]["text"]
