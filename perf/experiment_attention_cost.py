"""attention-cost in ``perf/run_experiments.py``: the harness's overhead per call, and a printed summary.

The harness is ``attention_cost.measure_point`` (backend context, grad mode, the memory probe, then
``common.measure``: Timer.blocked_autorange with warm-up and sync); the bare side times the very same step with
``time.perf_counter()`` in a plain loop.  Both are repeated in ABBA order and the fastest of each is kept, since
other processes can only add time.
"""

from __future__ import annotations

import json
import statistics
import time
from contextlib import nullcontext
from typing import Any

import torch

from experiments.bench import attention_cost
from experiments.bench.attention_cost_config import AttentionCostConfig
from experiments.bench.common import resolve_device, sync_for, torch_threads


def _bare_median_ms(step: Any, sync: Any, calls: int) -> float:
    step()
    sync()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def attention_cost_overhead(cfg: AttentionCostConfig, repeats: int) -> list[dict[str, Any]]:
    """Harness vs bare per-call medians at the middle length, for the naive forward and SDPA forward+backward."""
    device = resolve_device(cfg.device)
    dtype = attention_cost.DTYPES[cfg.dtype]
    sync = sync_for(device)
    n = cfg.seq_lens[len(cfg.seq_lens) // 2]
    out = []
    with torch_threads(cfg.threads):
        tensors = attention_cost.make_inputs(cfg, n, device, dtype)
        for impl, direction in (("naive", "forward"), ("sdpa", "forward_backward")):
            if direction not in cfg.directions():
                continue
            harness, bare = [], []
            calls = 5
            for r in range(max(2, repeats)):
                for side in ("harness", "bare") if r % 2 == 0 else ("bare", "harness"):
                    if side == "harness":
                        point = attention_cost.measure_point(cfg, impl, direction, n, tensors, device)
                        harness.append(point["median_ms"])
                        calls = max(5, point["blocks"] * point["calls_per_block"])
                    else:
                        grad_mode = torch.inference_mode() if direction == "forward" else nullcontext()
                        with grad_mode:
                            step = attention_cost.make_step(impl, direction, *tensors)
                            bare.append(_bare_median_ms(step, sync, calls))
            out.append({"series": attention_cost.series_label(impl, direction), "n": n,
                        "harness_ms": min(harness), "bare_ms": min(bare)})
    return out


def print_attention_cost(result: dict[str, Any]) -> None:
    """Time and memory per point, the fitted exponents, and the saturation sweep."""
    print(f"{'series':48} {'n':>6} {'median ms':>10} {'peak MiB':>9}  status")
    for p in result["points"]:
        label = attention_cost.series_label(p["impl"], p["pass"])
        if p["status"] != "ok":
            print(f"{label:48} {p['n']:6d} {'-':>10} {'-':>9}  {p['status'][:60]}")
            continue
        peak = "-" if p["peak_mib"] is None else f"{p['peak_mib']:.1f}"
        print(f"{label:48} {p['n']:6d} {p['median_ms']:10.2f} {peak:>9}  ok")
    print("time exponent k (time ~ n^k):", json.dumps(result["exponents"]["time"], ensure_ascii=False))
    print("memory exponent k (peak ~ n^k):", json.dumps(result["exponents"]["memory"], ensure_ascii=False))
    s = result["summary"]["saturation"]
    print(f"{'d_k':>6} {'entropy scaled':>15} {'unscaled':>9} {'grad scaled':>12} {'unscaled':>9}")
    for i, d in enumerate(s["dims"]):
        print(f"{d:6d} {s['entropy_scaled'][i]:15.3f} {s['entropy_unscaled'][i]:9.3f}"
              f" {s['grad_scaled'][i]:12.3g} {s['grad_unscaled'][i]:9.3g}")
