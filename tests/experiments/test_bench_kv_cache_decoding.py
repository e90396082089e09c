"""kv-cache-decoding at toy sizes: cached = uncached, cache bytes, work per step, memory estimate, figure."""

from __future__ import annotations

import json

import pytest
import torch

from experiments.bench import kv_cache_decoding as kv
from experiments.bench import registry
from experiments.bench.kv_cache_decoding_chart import kv_cache_decoding_figure
from experiments.bench.params import ParamError
from tests.support.peak_memory import assert_estimate_within_tolerance, largest_of_fresh_runs

TINY = {
    "d_model": 16,
    "heads": 4,
    "gqa_kv_heads": 2,
    "layers": 1,
    "vocab": 32,
    "prompt_len": 3,
    "gen_lens": [2, 4, 6],
    "length_batch": 2,
    "batch_sizes": [1, 2],
    "batch_gen_len": 3,
    "min_run_time": 0.01,
    "device": "cpu",
}
SMALL = {"d_model": 64, "heads": 8, "gqa_kv_heads": 2, "layers": 2, "vocab": 50, "prompt_len": 5, "device": "cpu"}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def config(**overrides):
    return registry.validate_params("kv-cache-decoding", {**TINY, **overrides}, "cpu")


@pytest.fixture(scope="module")
def run_result():
    progress: list[tuple[float, str]] = []
    result = registry.get_experiment("kv-cache-decoding").run(config(), lambda f, m: progress.append((f, m)))
    return result, progress


def test_result_has_both_sweeps_for_both_modes(run_result) -> None:
    result, _ = run_result
    assert {"experiment", "environment", "params", "table", "summary", "notes", "claims", "cache_memory"} <= set(result)
    assert result["environment"]["device"] == "cpu" and "load_avg_1m_end" in result["environment"]
    cols = result["table"]["columns"]
    rows = [dict(zip(cols, r, strict=True)) for r in result["table"]["rows"]]
    assert {(r["Sweep"], r["Mode"], r["Batch size"], r["Generated tokens"]) for r in rows} == {
        *(("length", m, 2, n) for m in kv.MODES.values() for n in (2, 4, 6)),
        *(("batch", m, b, 3) for m in kv.MODES.values() for b in (1, 2)),
    }
    for r in rows:
        assert r["Median total (ms)"] > 0 and r["IQR (ms)"] >= 0
        assert r["Tokens/s"] == pytest.approx(r["Batch size"] * r["Generated tokens"] / r["Median total (ms)"] * 1e3)
    assert len(result["per_token"]["position"]) == 6
    assert all(len(ms) == 6 and min(ms) > 0 for ms in result["per_token"]["ms"].values())
    assert set(result["summary"]["exponent"]) == set(kv.MODES.values())
    assert result["claims"]["is_measurement"] is False
    json.dumps(result, allow_nan=False)


def test_progress_reports_every_point_and_ends_once_at_one(run_result) -> None:
    fractions = [f for f, _ in run_result[1]]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions.count(1.0) == 1
    assert len(fractions) >= 2 * 3 + 2 * 2 + 3  # lengths x modes + batches x modes + cache variants


def test_cached_and_uncached_greedy_generation_agree_for_mha_gqa_and_mqa() -> None:
    cfg = registry.validate_params("kv-cache-decoding", SMALL, "cpu")
    prompt = kv.make_prompt(cfg, 3, torch.device("cpu"))
    for kv_heads in (8, 2, 1):
        model = kv.build_model(cfg, torch.device("cpu"), kv_heads)
        full_logits: list[torch.Tensor] = []
        cached_logits: list[torch.Tensor] = []
        full = kv.generate(model, prompt, 24, cached=False, logits_out=full_logits)
        cached = kv.generate(model, prompt, 24, cached=True, logits_out=cached_logits)
        assert torch.equal(full, cached), f"{kv_heads} KV heads"
        assert torch.allclose(torch.stack(full_logits), torch.stack(cached_logits), atol=1e-5)
        assert len(set(full[:, cfg.prompt_len :].flatten().tolist())) > 1  # not a degenerate constant output


def test_uncached_steps_reprocess_the_whole_sequence_and_cached_steps_one_token() -> None:
    cfg = config()
    model = kv.build_model(cfg, torch.device("cpu"))
    seen: list[int] = []
    model.tok.register_forward_hook(lambda mod, args, out: seen.append(args[0].shape[1]))
    prompt = kv.make_prompt(cfg, 1, torch.device("cpu"))
    kv.generate(model, prompt, 6, cached=False)
    assert seen == [3, 4, 5, 6, 7, 8]  # step t reprocesses prompt + t tokens: quadratic in total
    seen.clear()
    kv.generate(model, prompt, 6, cached=True)
    assert seen == [3, 1, 1, 1, 1, 1]  # prefill, then only the newest token


@pytest.mark.parametrize(("kv_heads", "label"), [(8, "MHA"), (2, "GQA"), (1, "MQA")])
def test_cache_memory_formula_matches_the_real_tensor_bytes(kv_heads: int, label: str) -> None:
    cfg = registry.validate_params("kv-cache-decoding", SMALL, "cpu")
    model = kv.build_model(cfg, torch.device("cpu"), kv_heads)
    caches: list[kv.KVCache] = []
    kv.generate(model, kv.make_prompt(cfg, 3, torch.device("cpu")), 10, cached=True, caches_out=caches)
    positions = cfg.prompt_len + 10 - 1
    assert len(caches) == cfg.layers
    assert all(c.k.shape == (3, kv_heads, positions, 64 // 8) for c in caches)
    real = sum(c.k.nbytes + c.v.nbytes for c in caches)
    assert real == cfg.cache_bytes(batch=3, positions=positions, kv_heads=kv_heads)
    assert real == cfg.cache_bytes(batch=3, positions=positions) * kv_heads // cfg.heads
    assert cfg.kv_head_variants()[label] == kv_heads


def test_run_reports_cache_bytes_shrinking_with_kv_heads(run_result) -> None:
    memory = {m["variant"]: m for m in run_result[0]["cache_memory"]}
    assert all(m["measured_bytes"] == m["formula_bytes"] for m in memory.values())
    assert memory["GQA"]["measured_bytes"] * 2 == memory["MHA"]["measured_bytes"]  # 4 query heads, 2 KV heads
    assert memory["MQA"]["measured_bytes"] * 4 == memory["MHA"]["measured_bytes"]
    assert memory["MQA"]["weights"] < memory["GQA"]["weights"] < memory["MHA"]["weights"]
    assert run_result[0]["summary"]["formula_matches"] is True


def test_generation_is_deterministic_for_a_fixed_seed() -> None:
    def tokens(seed: int) -> torch.Tensor:
        cfg = config(seed=seed)
        model = kv.build_model(cfg, torch.device("cpu"))
        return kv.generate(model, kv.make_prompt(cfg, 2, torch.device("cpu")), 6, cached=True)

    assert torch.equal(tokens(3), tokens(3))
    assert not torch.equal(tokens(3), tokens(4))


def test_validation_rejects_heads_that_do_not_divide_and_oversized_runs() -> None:
    with pytest.raises(ParamError) as err:
        config(d_model=20, heads=8)
    assert set(err.value.errors) == {"heads"}
    with pytest.raises(ParamError) as err:
        config(heads=4, gqa_kv_heads=3)
    assert set(err.value.errors) == {"gqa_kv_heads"}
    with pytest.raises(ParamError) as err:
        config(gen_lens=[1000], batch_sizes=[64])
    assert set(err.value.errors) == {"gen_lens", "batch_sizes"}
    cuda = registry.validate_params("kv-cache-decoding", {"gen_lens": [1000]}, "cuda")
    assert cuda.gen_lens == (1000,)


def test_defaults_are_sane_on_both_device_classes() -> None:
    cpu = registry.validate_params("kv-cache-decoding", {}, "cpu")
    cuda = registry.validate_params("kv-cache-decoding", {}, "cuda")
    assert cpu.d_model < cuda.d_model and max(cpu.gen_lens) < max(cuda.gen_lens)
    assert cpu.peak_memory_bytes("cpu") < 256 * 2**20
    assert cuda.peak_memory_bytes("cuda") < 4 * 2**30


# The tolerance every experiment's estimate is held to (tests/experiments/test_bench_memory.py): at most a quarter
# under the measured peak, so the worker's ceiling is not where a run learns its estimate was wrong, and at most
# twice it, so the server does not refuse runs that would fit.
MEMORY_CASES = {
    # the weights dominate: a wide model with a large vocabulary (and MKL's packed copy of its output layer)
    "weights, d_model 512": {
        "d_model": 512, "heads": 8, "layers": 2, "vocab": 8000, "gen_lens": [16], "batch_sizes": [4],
    },
    "weights, four layers": {
        "d_model": 256, "heads": 4, "layers": 4, "vocab": 4000, "gen_lens": [8, 12], "batch_sizes": [2],
    },
    # the activations dominate: the 4 d_model hidden of the MLP over a long uncached sequence
    "activations, MLP hidden": {
        "d_model": 256, "heads": 2, "layers": 1, "vocab": 100, "prompt_len": 32, "gen_lens": [128],
        "length_batch": 8, "batch_sizes": [8], "batch_gen_len": 16,
    },
    # the activations dominate: 16 heads' attention scores over a long uncached sequence at batch 32
    "activations, attention scores": {
        "d_model": 64, "heads": 16, "layers": 1, "vocab": 100, "prompt_len": 64, "gen_lens": [96],
        "length_batch": 8, "batch_sizes": [32], "batch_gen_len": 32,
    },
}
_MEASURE = """
import json, sys, torch
from experiments.bench import kv_cache_decoding as kv, registry
from experiments.bench.common import PeakMemory
torch.set_num_threads(1)
def config(params):
    return registry.validate_params("kv-cache-decoding", params, "cpu")
tiny, params = json.loads(sys.argv[1]), json.loads(sys.argv[2])
kv.run(config({**tiny, "gen_lens": [4], "batch_sizes": [1]}))  # torch's one-time set-up, outside the measurement
cfg = config({**tiny, **params})
meter = PeakMemory(torch.device("cpu"))
meter(lambda: kv.run(cfg))
print(json.dumps([meter.peak_bytes, cfg.peak_memory_bytes("cpu"), cfg.peak_memory_bytes("cuda")]))
"""


def measured_in_a_fresh_process(params: dict) -> tuple[int, int, int]:
    """(largest measured peak, CPU estimate, CUDA estimate) of runs in fresh processes, because in the test runner's
    the heap already holds blocks that earlier tests freed, and the peak would depend on the test order."""
    peak, cpu, cuda = largest_of_fresh_runs(_MEASURE, json.dumps(TINY), json.dumps(params))
    return peak, cpu, cuda


@pytest.mark.slow
@pytest.mark.parametrize("params", list(MEMORY_CASES.values()), ids=list(MEMORY_CASES))
def test_memory_estimate_is_within_the_common_tolerance_of_the_measured_peak(params: dict) -> None:
    peak, estimate, cuda_estimate = measured_in_a_fresh_process(params)
    assert peak > 20 * 2**20, f"too small to compare: {peak / 2**20:.1f} MiB"
    assert_estimate_within_tolerance(estimate, peak, case=f"kv-cache-decoding {params}")
    assert cuda_estimate < estimate  # CUDA counts live tensors only: no heap kept, no MKL buffers


@pytest.mark.slow
def test_uncached_decoding_memory_does_not_grow_with_every_step() -> None:
    """Each uncached step runs tensors one position longer than the step before.  A kernel that builds and caches
    a compiled primitive per input shape (oneDNN's exact GELU does) leaves its small allocations among the freed
    activations, and the process then grew by the sum of every step's activations instead of the largest step's:
    150 MiB instead of 12 for this configuration."""
    params = {"d_model": 64, "heads": 4, "layers": 2, "vocab": 500, "gen_lens": [64], "length_batch": 8,
              "batch_sizes": [16], "batch_gen_len": 64, "prompt_len": 32}
    peak, _, _ = measured_in_a_fresh_process(params)
    assert peak < 32 * 2**20, f"{peak / 2**20:.0f} MiB"


def test_figure_builds_from_a_real_result_with_the_claims_dashed(run_result) -> None:
    fig = kv_cache_decoding_figure(run_result[0])
    json.dumps(fig)
    names = [t.get("name", "") for t in fig["data"]]
    assert any(n.startswith("with KV cache: k =") for n in names)
    claims = [t for t in fig["data"] if t.get("name", "").startswith("lesson claim")]
    assert len(claims) == 2 and all(t["line"]["dash"] == "dash" for t in claims)
    bars = next(t for t in fig["data"] if t["type"] == "bar")
    assert bars["x"][0].startswith("MHA") and len(bars["y"]) == 3
    assert registry.get_experiment("kv-cache-decoding").figure(run_result[0])["data"]
