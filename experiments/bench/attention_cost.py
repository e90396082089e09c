"""Attention cost: time and peak memory of one self-attention call against n, and softmax saturation against d_k.

Part (a). For each sequence length n, one call of attention on Q, K, V of shape (batch, heads, n, d_k):

* **naive**: ``softmax(Q K^T / sqrt(d_k)) V`` written out, which materialises the n x n score matrix and the
  n x n weight matrix of every head;
* **SDPA**: ``F.scaled_dot_product_attention`` with PyTorch's own choice of kernel, and optionally each backend
  forced through ``torch.nn.attention.sdpa_kernel`` (flash, memory-efficient, math).  A backend that cannot run
  this dtype/shape/device is reported as unavailable with PyTorch's reason, never as a crash;

forward only (``torch.inference_mode``) and forward+backward (gradients of Q, K and V).  Time per call is the
median of ``common.measure`` (Timer.blocked_autorange with warm-up and device sync); peak memory is measured
on the first warm-up call by ``common.PeakMemory``.  Exponents k in time ~ n^k and memory ~ n^k are fitted
over the measured lengths.  Claims: O(n² d) time and O(n²) memory for the naive path (Vaswani et al. 2017,
Table 1), memory linear in n for the fused (flash) path (Dao et al. 2022).

Part (b), the lesson's derivation measured: for random unit-variance queries and keys of width d_k, the raw
scores q·k have standard deviation sqrt(d_k).  For each d_k we compute the attention distribution of many
queries over a few keys with and without the 1/sqrt(d_k) factor and record its entropy, its largest weight and
the size of the gradient that reaches the scores for a random upstream gradient.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any

import torch
import torch.nn.functional as F

from experiments.bench.attention_cost_config import IMPLEMENTATION_LABELS, PASS_LABELS, AttentionCostConfig
from experiments.bench.common import (
    PeakMemory,
    Progress,
    begin_run,
    contention_note,
    fit_power_law,
    in_config_threads,
    load_average,
    measure,
    sync_for,
)
from experiments.bench.params import config_to_dict

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
MIB = 2**20
# Chart (and table) titles: the table's first column names the chart a row belongs to.
TIME_CHART = "Time per call (ms)"
MEMORY_CHART = "Peak memory (MiB)"
ENTROPY_CHART = "Attention entropy (nats)"
GRADIENT_CHART = "Gradient reaching the scores"
SCALED = "scaled by 1/√d_k"
UNSCALED = "unscaled"
COLUMNS = ["Chart", "Series", "Point", "Value", "Spread or status"]


def series_label(impl: str, direction: str) -> str:
    return f"{IMPLEMENTATION_LABELS[impl]}, {PASS_LABELS[direction]}"


# ------------------------------------------------------------------------ attention


def naive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d_k)) V with the n x n scores and weights materialised (the lesson's listing)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return torch.softmax(scores, dim=-1) @ v


def sdpa_backend_context(impl: str) -> AbstractContextManager[Any]:
    """``sdpa_kernel`` restricted to one backend, or no restriction for "naive" and "sdpa"."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backend = {
        "flash": SDPBackend.FLASH_ATTENTION,
        "efficient": SDPBackend.EFFICIENT_ATTENTION,
        "math": SDPBackend.MATH,
    }.get(impl)
    return sdpa_kernel(backend) if backend is not None else nullcontext()


def attention_fn(impl: str) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    return naive_attention if impl == "naive" else F.scaled_dot_product_attention


def make_inputs(
    cfg: AttentionCostConfig, n: int, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Q, K, V and an upstream gradient for the output, drawn on the CPU (same numbers on every device)."""
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + n)
    shape = (cfg.batch, cfg.heads, n, cfg.head_dim)
    return tuple(torch.randn(shape, generator=gen).to(device=device, dtype=dtype) for _ in range(4))  # type: ignore[return-value]


def make_step(impl: str, direction: str, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              grad_out: torch.Tensor) -> Callable[[], Any]:
    """One call to time: the forward, or the forward and the gradients of Q, K and V."""
    fn = attention_fn(impl)
    if direction == "forward":
        return lambda: fn(q, k, v)
    leaves = tuple(t.detach().requires_grad_(True) for t in (q, k, v))

    def forward_backward() -> Any:
        # autograd.grad instead of backward(): no .grad accumulates between calls
        return torch.autograd.grad(fn(*leaves), leaves, grad_out)

    return forward_backward


def _unavailable_reason(exc: BaseException, caught: list[warnings.WarningMessage]) -> str:
    """PyTorch explains why each fused kernel was rejected in warnings; the error itself only says 'no kernel'."""
    reasons = [str(w.message).strip() for w in caught if "sdp" in str(w.message).lower() or "attention" in
               str(w.message).lower()]
    text = " ".join(dict.fromkeys([*reasons, f"{type(exc).__name__}: {str(exc).strip()}"]))
    return text[:500]


def measure_point(
    cfg: AttentionCostConfig, impl: str, direction: str, n: int, tensors: tuple[torch.Tensor, ...],
    device: torch.device,
) -> dict[str, Any]:
    """Time and peak memory of one (implementation, pass, n); ``status`` says why a point has no numbers."""
    q, k, v, grad_out = tensors
    sync = sync_for(device)
    grad_mode = torch.inference_mode() if direction == "forward" else nullcontext()
    point: dict[str, Any] = {"impl": impl, "pass": direction, "n": n, "status": "ok"}
    mem = PeakMemory(device)
    try:
        with sdpa_backend_context(impl), grad_mode:
            step = make_step(impl, direction, q, k, v, grad_out)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    mem(step)  # the first call: probes availability and measures the peak
                    sync()
                except RuntimeError as exc:
                    if isinstance(exc, torch.OutOfMemoryError):
                        raise
                    point.update(status=f"unavailable: {_unavailable_reason(exc, caught)}")
                    return point
            timing = measure(step, sync=sync, min_run_time=cfg.min_run_time)
    except torch.OutOfMemoryError as exc:
        point.update(status=f"out of memory: {str(exc).splitlines()[0][:300]}")
        return point
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()
    flop = (4 if direction == "forward" else 12) * cfg.batch * cfg.heads * n * n * cfg.head_dim
    point.update(
        median_ms=timing.median * 1e3,
        q25_ms=timing.q25 * 1e3,
        q75_ms=timing.q75 * 1e3,
        blocks=timing.blocks,
        calls_per_block=timing.calls_per_block,
        peak_mib=None if mem.peak_bytes is None else mem.peak_bytes / MIB,
        nominal_gflop_per_s=flop / timing.median / 1e9,
    )
    return point


def warm_up(cfg: AttentionCostConfig, device: torch.device, dtype: torch.dtype) -> None:
    """Run every (implementation, pass) once at a tiny n, so that one-off initialisation (oneDNN kernels, the
    autograd engine's threads, CUDA handles) is not counted in the peak memory of the first measured point."""
    tensors = make_inputs(cfg, 16, device, dtype)
    for impl in cfg.implementations():
        for direction in cfg.directions():
            grad_mode = torch.inference_mode() if direction == "forward" else nullcontext()
            # an unavailable backend is reported by its measured points
            with sdpa_backend_context(impl), grad_mode, warnings.catch_warnings(), suppress(RuntimeError):
                warnings.simplefilter("ignore")
                make_step(impl, direction, *tensors)()
    sync_for(device)()


def fitted_exponents(points: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    """k in ``key ~ n^k`` for every (implementation, pass) series, over its measured points with a value > 0."""
    out: dict[str, float | None] = {}
    for label in dict.fromkeys(series_label(p["impl"], p["pass"]) for p in points):
        pts = [p for p in points if series_label(p["impl"], p["pass"]) == label and (p.get(key) or 0) > 0]
        out[label] = fit_power_law([p["n"] for p in pts], [p[key] for p in pts])
    return out


# ------------------------------------------------------------------ softmax saturation


def saturation_stats(scores: torch.Tensor, upstream: torch.Tensor) -> dict[str, float]:
    """Entropy, top weight and gradient reaching ``scores`` (queries x keys) for one upstream gradient."""
    scores = scores.detach().clone().requires_grad_(True)
    log_p = torch.log_softmax(scores, dim=-1)
    p = log_p.exp()
    (p * upstream).sum().backward()
    assert scores.grad is not None
    p, log_p = p.detach(), log_p.detach()
    entropy = -(p * log_p).sum(-1)  # log_softmax: no 0 * log 0 = nan for weights that underflow
    top = p.max(-1).values
    return {
        "entropy": float(entropy.mean()),
        "top_weight": float(top.mean()),
        "one_hot_fraction": float((top > 0.99).float().mean()),
        "grad_median": float(scores.grad.norm(dim=-1).median()),
        "score_std": float(scores.detach().std()),
    }


def measure_saturation(cfg: AttentionCostConfig, device: torch.device, track: Any, base: float,
                       span: float) -> dict[str, Any]:
    """Scaled and unscaled statistics for every d_k in ``cfg.saturation_dims`` (float32, seeded)."""
    scaled: list[dict[str, float]] = []
    unscaled: list[dict[str, float]] = []
    dims = list(cfg.saturation_dims)
    for i, d in enumerate(dims):
        gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 7919 * d)
        q = torch.randn(cfg.saturation_queries, 1, d, generator=gen).to(device)
        k = torch.randn(cfg.saturation_queries, cfg.saturation_keys, d, generator=gen).to(device)
        upstream = torch.randn(cfg.saturation_queries, cfg.saturation_keys, generator=gen).to(device)
        raw = (q @ k.transpose(-2, -1)).squeeze(1)  # (queries, keys) unscaled scores
        del k
        unscaled.append(saturation_stats(raw, upstream))
        scaled.append(saturation_stats(raw / math.sqrt(d), upstream))
        track(base + span * (i + 1) / len(dims), f"softmax saturation: d_k = {d}")
    return {
        "dims": dims,
        "keys": cfg.saturation_keys,
        "queries": cfg.saturation_queries,
        "max_entropy": math.log(cfg.saturation_keys),
        "scaled": scaled,
        "unscaled": unscaled,
    }


# ------------------------------------------------------------------------- the run


@in_config_threads
def run(config: AttentionCostConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Measure every (implementation, pass, n) point and the saturation sweep; return the JSON-able result."""
    cfg = config
    track, device, env = begin_run(cfg.device, progress)
    dtype = DTYPES[cfg.dtype]
    env["dtype"] = cfg.dtype
    track(0.0, "starting")
    warm_up(cfg, device, dtype)
    combos = [(impl, p) for impl in cfg.implementations() for p in cfg.directions()]
    total = len(cfg.seq_lens) * len(combos)
    points: list[dict[str, Any]] = []
    for n in cfg.seq_lens:
        tensors = make_inputs(cfg, n, device, dtype)
        for impl, direction in combos:
            points.append(measure_point(cfg, impl, direction, n, tensors, device))
            track(0.9 * len(points) / total, f"{series_label(impl, direction)}: n = {n}")
        del tensors
    saturation = measure_saturation(cfg, device, track, 0.9, 0.09)

    exponents = {"time": fitted_exponents(points, "median_ms"), "memory": fitted_exponents(points, "peak_mib")}
    env["load_avg_1m_end"] = load_average()
    result = {
        "experiment": "attention-cost",
        "environment": env,
        "params": {**config_to_dict(cfg), "device": str(device)},
        "points": points,
        "exponents": exponents,
        "saturation": saturation,
        "claims": {
            "time_exponent": 2.0,
            "time_source": "Vaswani et al. 2017, Table 1: O(n²·d) per self-attention layer",
            "naive_memory_exponent": 2.0,
            "naive_memory_source": "the n x n score matrix per head (Vaswani et al. 2017)",
            "fused_memory_exponent": 1.0,
            "fused_memory_source": "Dao et al. 2022 (FlashAttention): memory linear in n",
            "saturation_source": "Vaswani et al. 2017, §3.2.1: scaled scores have unit variance for every d_k",
        },
        "table": {"columns": COLUMNS, "rows": table_rows(points, exponents, saturation)},
        "summary": summarise(cfg, points, exponents, saturation),
        "notes": notes_for(cfg, points, env, device),
    }
    track.done("done")
    return result


def _spread(p: dict[str, Any]) -> str:
    return f"{p['q25_ms']:.3g}-{p['q75_ms']:.3g} ms (25-75 %)"


def table_rows(points: list[dict[str, Any]], exponents: dict[str, dict[str, float | None]],
               saturation: dict[str, Any]) -> list[list[Any]]:
    """Long format: one row per plotted value, labelled as on the chart."""
    rows: list[list[Any]] = []
    for p in points:
        label = series_label(p["impl"], p["pass"])
        at = f"n = {p['n']}"
        if p["status"] != "ok":
            rows.append([TIME_CHART, label, at, None, p["status"]])
            continue
        rows.append([TIME_CHART, label, at, round(p["median_ms"], 4), _spread(p)])
        if p["peak_mib"] is not None:
            rows.append([MEMORY_CHART, label, at, round(p["peak_mib"], 3), ""])
    for chart, key in ((TIME_CHART, "time"), (MEMORY_CHART, "memory")):
        for label, k in exponents[key].items():
            if k is not None:
                rows.append([chart, label, "fitted exponent k (value ∝ nᵏ)", round(k, 2), ""])
    for series, stats in ((SCALED, saturation["scaled"]), (UNSCALED, saturation["unscaled"])):
        for d, s in zip(saturation["dims"], stats, strict=True):
            at = f"d_k = {d}"
            rows.append([ENTROPY_CHART, series, at, round(s["entropy"], 4),
                         f"top weight {s['top_weight']:.3f}; {s['one_hot_fraction']:.0%} of queries above 0.99"])
            rows.append([GRADIENT_CHART, series, at, float(f"{s['grad_median']:.3g}"),
                         f"median norm over queries; score std {s['score_std']:.3g}"])
    return rows


def summarise(cfg: AttentionCostConfig, points: list[dict[str, Any]],
              exponents: dict[str, dict[str, float | None]], saturation: dict[str, Any]) -> dict[str, Any]:
    """The key numbers: exponents, naive vs SDPA at the largest n, and the saturation extremes."""
    n_max = max(cfg.seq_lens)
    at_max = {series_label(p["impl"], p["pass"]): p for p in points if p["n"] == n_max and p["status"] == "ok"}
    ratios = {}
    for direction in cfg.directions():
        naive = at_max.get(series_label("naive", direction))
        sdpa = at_max.get(series_label("sdpa", direction))
        if naive and sdpa:
            ratios[PASS_LABELS[direction]] = {
                "time_naive_over_sdpa": naive["median_ms"] / sdpa["median_ms"],
                "memory_naive_over_sdpa": (naive["peak_mib"] / sdpa["peak_mib"]
                                           if naive["peak_mib"] and sdpa["peak_mib"] else None),
            }
    sc, un = saturation["scaled"], saturation["unscaled"]
    return {
        "largest_n": n_max,
        "time_exponent": exponents["time"],
        "memory_exponent": exponents["memory"],
        "at_largest_n": {label: {"median_ms": p["median_ms"], "peak_mib": p["peak_mib"]} for label, p in
                         at_max.items()},
        "naive_vs_sdpa_at_largest_n": ratios,
        "unavailable": [f"{series_label(p['impl'], p['pass'])} at n = {p['n']}: {p['status']}" for p in points
                        if p["status"] != "ok"],
        "saturation": {
            "dims": saturation["dims"],
            "entropy_scaled": [s["entropy"] for s in sc],
            "entropy_unscaled": [s["entropy"] for s in un],
            "grad_scaled": [s["grad_median"] for s in sc],
            "grad_unscaled": [s["grad_median"] for s in un],
            "max_entropy": saturation["max_entropy"],
            "unscaled_grad_drop": (un[0]["grad_median"] / un[-1]["grad_median"]
                                   if un and un[-1]["grad_median"] > 0 else None),
        },
    }


def notes_for(cfg: AttentionCostConfig, points: list[dict[str, Any]], env: dict[str, Any],
              device: torch.device) -> list[str]:
    """How it was measured, and the caveats a reader needs."""
    notes = [
        f"One attention call on Q, K, V of shape (batch {cfg.batch}, heads {cfg.heads}, n, d_k {cfg.head_dim}), "
        f"{cfg.dtype}, on {env['device']} ({env['device_name']}). Time: median per call of "
        "torch.utils.benchmark's blocked_autorange after warm-up, with device sync; forward runs under "
        "torch.inference_mode(), forward+backward computes the gradients of Q, K and V.",
        "Peak memory: " + PeakMemory(device).method + ". Measured on the first call of each point, over and above "
        "Q, K and V themselves.",
        "Exponent k: least-squares slope of log(value) on log(n) over the measured lengths. Dashed lines are the "
        "claims (slope 2 for the naive path, Vaswani et al. 2017; slope 1 for the fused path's memory, "
        "Dao et al. 2022), drawn through the measured point at the largest n of the series they refer to.",
        f"Softmax saturation: {cfg.saturation_queries} random queries, each against {cfg.saturation_keys} random "
        "keys with unit-variance components, float32; entropy in nats (uniform attention = "
        f"ln {cfg.saturation_keys} = {math.log(cfg.saturation_keys):.2f}); gradient = median norm of the gradient "
        "reaching each query's scores for a random upstream gradient.",
    ]
    if device.type == "cpu":
        notes.append(
            "On the CPU, small n allocate little, so the RSS-based memory of the smallest points is dominated by "
            "allocator noise; the exponents are most reliable at the larger lengths."
        )
    unavailable = sorted({(p["impl"], p["status"]) for p in points if p["status"] != "ok"})
    for impl, status in unavailable:
        notes.append(f"{IMPLEMENTATION_LABELS[impl]}: {status}")
    notes.append(f"Ran with torch.get_num_threads() = {env['num_threads']} (parameter 'threads').")
    note = contention_note(env)
    if note:
        notes.append(note)
    return notes

