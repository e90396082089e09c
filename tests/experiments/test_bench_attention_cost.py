"""attention-cost at toy sizes: correctness of both paths, saturation, exponents, memory estimate, figure."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from experiments.bench import attention_cost as ac
from experiments.bench import registry
from experiments.bench.attention_cost_config import AttentionCostConfig
from experiments.bench.common import PeakMemory, fit_power_law
from experiments.bench.params import ParamError
from tests.support.peak_memory import assert_estimate_within_tolerance, peak_and_estimate

NAME = "attention-cost"
TINY = {
    "seq_lens": [32, 64],
    "heads": 2,
    "head_dim": 16,
    "min_run_time": 0.05,
    "saturation_dims": [4, 64, 1024],
    "saturation_queries": 200,
}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def run_result():
    progress: list[float] = []
    cfg = registry.validate_params(NAME, {**TINY, "backends": True}, "cpu")
    return ac.run(cfg, lambda f, m: progress.append(f)), progress


def test_naive_attention_matches_scaled_dot_product_attention_forward_and_backward() -> None:
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 40, 16, generator=gen, requires_grad=True) for _ in range(3))
    naive = ac.naive_attention(q, k, v)
    fused = F.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(naive, fused, atol=1e-5, rtol=1e-4)
    upstream = torch.randn(naive.shape, generator=gen)
    grads_naive = torch.autograd.grad(naive, (q, k, v), upstream)
    grads_fused = torch.autograd.grad(fused, (q, k, v), upstream)
    for a, b in zip(grads_naive, grads_fused, strict=True):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def test_every_timed_step_computes_attention_or_its_gradients() -> None:
    cfg = registry.validate_params(NAME, TINY, "cpu")
    tensors = ac.make_inputs(cfg, 24, torch.device("cpu"), torch.float32)
    expected = ac.naive_attention(*tensors[:3])
    for impl in ("naive", "sdpa", "flash", "math"):
        with ac.sdpa_backend_context(impl):
            assert torch.allclose(ac.make_step(impl, "forward", *tensors)(), expected, atol=1e-5)
            grads = ac.make_step(impl, "forward_backward", *tensors)()
        assert [g.shape for g in grads] == [t.shape for t in tensors[:3]]


def test_result_has_every_point_the_table_and_monotonic_progress(run_result) -> None:
    result, progress = run_result
    assert {"experiment", "environment", "params", "points", "exponents", "saturation", "table", "summary",
            "notes"} <= set(result)
    assert result["environment"]["device"] == "cpu" and result["environment"]["load_avg_1m_end"] is not None
    # 2 lengths x 5 implementations x 2 passes
    assert len(result["points"]) == 20
    ok = [p for p in result["points"] if p["status"] == "ok"]
    assert all(p["median_ms"] > 0 and p["q25_ms"] <= p["median_ms"] <= p["q75_ms"] for p in ok)
    json.dumps(result, allow_nan=False)
    assert progress == sorted(progress) and progress[-1] == 1.0 and progress.count(1.0) == 1
    assert len(progress) >= len(result["points"]) + len(TINY["saturation_dims"])
    assert result["table"]["columns"] == ac.COLUMNS
    assert all(len(row) == len(ac.COLUMNS) for row in result["table"]["rows"])


def test_a_backend_that_cannot_run_is_reported_unavailable_with_the_reason(run_result) -> None:
    result, _ = run_result
    # PyTorch has no memory-efficient attention kernel for the CPU.
    efficient = [p for p in result["points"] if p["impl"] == "efficient"]
    assert efficient and all(p["status"].startswith("unavailable: ") for p in efficient)
    assert all("median_ms" not in p for p in efficient)
    assert any(row[4].startswith("unavailable") for row in result["table"]["rows"])
    assert any("SDPA memory-efficient: unavailable" in note for note in result["notes"])
    assert all(p["status"] == "ok" for p in result["points"] if p["impl"] in ("naive", "sdpa", "math"))


def test_entropy_with_scaling_stays_level_while_without_it_falls_as_d_k_grows(run_result) -> None:
    sat = run_result[0]["summary"]["saturation"]
    scaled, unscaled = sat["entropy_scaled"], sat["entropy_unscaled"]
    assert max(scaled) - min(scaled) < 0.1 * sat["max_entropy"]
    assert unscaled == sorted(unscaled, reverse=True)
    assert unscaled[-1] < 0.25 * scaled[-1]
    assert sat["grad_unscaled"][-1] < 0.01 * sat["grad_scaled"][-1]
    assert max(sat["grad_scaled"]) < 1.5 * min(sat["grad_scaled"])


def test_saturation_is_deterministic_for_a_seed(run_result) -> None:
    cfg = registry.validate_params(NAME, TINY, "cpu")
    again = ac.measure_saturation(cfg, torch.device("cpu"), lambda f, m: None, 0.0, 1.0)
    assert again == run_result[0]["saturation"]


def test_fitted_exponents_recover_the_power_of_synthetic_series() -> None:
    points = [{"impl": "naive", "pass": "forward", "n": n, "peak_mib": 3e-6 * n**2} for n in (128, 256, 512)]
    points += [{"impl": "sdpa", "pass": "forward", "n": n, "peak_mib": 0.01 * n} for n in (128, 256, 512)]
    points += [{"impl": "sdpa", "pass": "forward_backward", "n": 128, "peak_mib": 1.0}]
    fits = ac.fitted_exponents(points, "peak_mib")
    assert fits[ac.series_label("naive", "forward")] == pytest.approx(2.0)
    assert fits[ac.series_label("sdpa", "forward")] == pytest.approx(1.0)
    assert fits[ac.series_label("sdpa", "forward_backward")] is None  # one point fits nothing


@pytest.mark.slow
def test_naive_memory_grows_faster_than_linearly_on_a_real_sweep() -> None:
    cfg = registry.validate_params(NAME, {"seq_lens": [512, 1024, 2048], "heads": 4, "passes": "forward"}, "cpu")
    ac.warm_up(cfg, torch.device("cpu"), torch.float32)
    peaks = []
    for n in cfg.seq_lens:
        tensors = ac.make_inputs(cfg, n, torch.device("cpu"), torch.float32)
        measured = []
        for _ in range(2):  # RSS noise only ever adds: keep the smaller of two
            mem = PeakMemory(torch.device("cpu"))
            with torch.inference_mode():
                mem(ac.make_step("naive", "forward", *tensors))
            measured.append(mem.peak_bytes)
        peaks.append(min(measured))
    exponent = fit_power_law(cfg.seq_lens, peaks)
    assert exponent is not None and exponent > 1.5, (peaks, exponent)


MEMORY_CASES = [
    {"seq_lens": [1024], "heads": 2},
    {"seq_lens": [512, 1024], "heads": 4, "passes": "forward"},
    {"seq_lens": [768], "heads": 4, "passes": "forward_backward", "backends": True},
    {"seq_lens": [64], "heads": 1, "saturation_dims": [1024], "saturation_queries": 1000, "saturation_keys": 64},
]


@pytest.mark.slow
@pytest.mark.parametrize("params", MEMORY_CASES)
def test_memory_estimate_is_within_a_factor_of_two_of_the_measured_peak(params) -> None:
    peak, estimate = peak_and_estimate(
        NAME,
        {"min_run_time": 0.05, "saturation_dims": [8], "saturation_queries": 50, **params},
        warm_params={**TINY, "backends": True},
    )
    assert_estimate_within_tolerance(estimate, peak, case=f"attention-cost {params}")


def test_memory_estimate_grows_with_the_square_of_n_and_counts_the_math_backend_on_cuda() -> None:
    small = AttentionCostConfig(seq_lens=(4096,), batch=2, heads=16, dtype="float16")
    large = AttentionCostConfig(seq_lens=(8192,), batch=2, heads=16, dtype="float16")
    allowance = small.peak_memory_bytes("cuda") - small.point_peak_bytes("naive", "forward_backward", 4096, "cuda")
    assert large.peak_memory_bytes("cuda") > 3.5 * small.peak_memory_bytes("cuda") - 3.5 * allowance
    with_backends = AttentionCostConfig(seq_lens=(8192,), batch=2, heads=16, dtype="float16", backends=True)
    assert with_backends.peak_memory_bytes("cuda") > large.peak_memory_bytes("cuda")
    # the defaults' estimate stays well inside one H100-class card
    cuda_defaults = registry.validate_params(NAME, {}, "cuda")
    assert cuda_defaults.peak_memory_bytes("cuda") < 40 * 2**30


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"seq_lens": [8]}, "seq_lens"),
        ({"seq_lens": [8192]}, "seq_lens"),
        ({"head_dim": 512}, "head_dim"),
        ({"heads": 0}, "heads"),
        ({"passes": "backward"}, "passes"),
        ({"dtype": "float64"}, "dtype"),
        ({"dtype": "float16", "device": "cpu"}, "dtype"),
        ({"saturation_dims": [4096]}, "saturation_dims"),
        ({"saturation_keys": 1}, "saturation_keys"),
        ({"saturation_queries": 5000, "saturation_keys": 1024, "saturation_dims": [2048]}, "saturation_queries"),
    ],
)
def test_out_of_bounds_parameters_are_refused(params, field) -> None:
    with pytest.raises(ParamError) as info:
        registry.validate_params(NAME, params, "cpu")
    assert field in info.value.errors


def test_a_gpu_worker_accepts_longer_sequences_and_defaults_to_half_precision_with_every_backend() -> None:
    cfg = registry.validate_params(NAME, {"seq_lens": [16384]}, "cuda")
    assert cfg.seq_lens == (16384,) and cfg.dtype == "float16" and cfg.backends
    assert registry.validate_params(NAME, {}, "cpu").dtype == "float32"


def test_figure_is_plain_json_with_claims_and_the_tables_labels(run_result) -> None:
    result = run_result[0]
    fig = registry.get_experiment(NAME).figure(result)
    text = json.dumps(fig)
    assert "bdata" not in text
    names = [t.get("name") or "" for t in fig["data"]]
    assert any("Vaswani" in n for n in names) and any("Dao" in n for n in names)
    claims = [t for t in fig["data"] if "claim" in (t.get("name") or "")]
    assert claims and all(t["line"]["dash"] == "dash" for t in claims)
    for series in {row[1] for row in result["table"]["rows"] if row[3] is not None}:
        assert any(n.startswith(series) for n in names), series
    titles = {a["text"] for a in fig["layout"]["annotations"]}
    assert {row[0] for row in result["table"]["rows"]} <= titles
    # time and memory are log-log with decade ticks on the value axis
    assert fig["layout"]["xaxis"]["type"] == "log" and fig["layout"]["yaxis"]["dtick"] == 1
