"""kv-cache-decoding helpers for ``perf/run_experiments.py``: harness overhead and a printed summary."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from experiments.bench import kv_cache_decoding as kv
from experiments.bench.common import resolve_device, sync_for, torch_threads


def bare_median(model: Any, prompt: Any, n_new: int, cached: bool, sync: Any, calls: int) -> float:
    """Median seconds of ``calls`` plain ``generate`` calls (no per-step clock), after one warm-up call."""
    kv.generate(model, prompt, n_new, cached=cached)
    sync()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        kv.generate(model, prompt, n_new, cached=cached)
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def overhead(cfg: kv.KvCacheDecodingConfig, repeats: int) -> list[dict[str, Any]]:
    """Harness (``measure`` + per-step clock) vs bare generation at the longest length, both modes.

    ``repeats`` pairs in ABBA order; other processes only ever add time, so the fastest of
    each side is kept.
    """
    device = resolve_device(cfg.device)
    sync = sync_for(device)
    out = []
    with torch_threads(cfg.threads):
        model = kv.build_model(cfg, device)
        prompt = kv.make_prompt(cfg, cfg.length_batch, device)
        n_new = max(cfg.gen_lens)
        for cached in (False, True):
            harness, bare = [], []
            for r in range(max(2, repeats)):
                for side in ("harness", "bare") if r % 2 == 0 else ("bare", "harness"):
                    if side == "harness":
                        timing, _ = kv._timed_generation(model, prompt, n_new, cached, cfg, sync)
                        harness.append(timing.median)
                    else:
                        bare.append(bare_median(model, prompt, n_new, cached, sync, 3))
            out.append({"mode": kv.MODES[cached], "harness_ms": min(harness) * 1e3, "bare_ms": min(bare) * 1e3})
    return out


def print_kv_cache_decoding(result: dict[str, Any]) -> None:
    """The key numbers of one result."""
    s = result["summary"]
    cols = result["table"]["columns"]
    print(f"{'sweep':7} {'mode':14} {'batch':>5} {'tokens':>6} {'median ms':>10} {'IQR ms':>8} {'tokens/s':>9}")
    for row in result["table"]["rows"]:
        r = dict(zip(cols, row, strict=True))
        print(
            f"{r['Sweep']:7} {r['Mode']:14} {r['Batch size']:5d} {r['Generated tokens']:6d}"
            f" {r['Median total (ms)']:10.1f} {r['IQR (ms)']:8.1f} {r['Tokens/s']:9.0f}"
        )
    print("exponent k (total time ~ tokens^k):", json.dumps(s["exponent"]))
    print("exponent k, longest 3 lengths:    ", json.dumps(s["exponent_longest3"]))
    print(f"speed-up at {s['longest']} tokens: {s['speedup_at_longest']:.1f}x")
    for mode, st in s["step_ms"].items():
        print(
            f"{mode}: step at position {st['second_position']} {st['second_ms']:.2f} ms, at {st['last_position']}"
            f" {st['last_ms']:.2f} ms"
        )
    print("cache MiB:", json.dumps({k: round(v, 3) for k, v in s["cache_mib"].items()}))
