"""kv-cache-decoding helpers for ``perf/run_experiments.py``: harness overhead and a printed summary."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from experiments.bench import kv_cache_decoding as kv
from experiments.bench.common import resolve_device, sync_for, torch_threads


def harness_cpu_per_generation(
    model: Any, prompt: Any, n_new: int, cached: bool, cfg: kv.KvCacheDecodingConfig, sync: Any
) -> tuple[float, int]:
    """Process CPU seconds per generation of one ``_timed_generation`` (``measure``: warm-up, autorange, blocks,
    statistics; every generation reads the clock at each step), and how many generations it ran."""
    start = time.process_time()
    _, timed = kv._timed_generation(model, prompt, n_new, cached, cfg, sync)
    generations = len(timed) + 1  # the warm-up call is not among the timed ones
    return (time.process_time() - start) / generations, generations


def bare_cpu_per_generation(model: Any, prompt: Any, n_new: int, cached: bool, sync: Any, generations: int) -> float:
    """Process CPU seconds per generation of ``generations`` plain ``generate`` calls: no clock, no statistics."""
    start = time.process_time()
    for _ in range(generations):
        kv.generate(model, prompt, n_new, cached=cached)
    sync()
    return (time.process_time() - start) / generations


def overhead(cfg: kv.KvCacheDecodingConfig, repeats: int, min_cpu_s: float = 15.0) -> list[dict[str, Any]]:
    """Harness against bare generation at the longest length, both modes, by process CPU time.

    The wall clock of a shared machine measures the other processes as much as this one (an
    earlier wall-clock comparison swung from -17 % to +24 %); the CPU time of this process, with
    torch pinned to one thread, does not, though a busy sibling core still slows it by a few per
    cent at times.  Each round times harness, bare, bare, harness (ABBA, so a drift in the
    machine's speed hits both sides alike); the bare side runs as many generations as the harness
    did, and the medians of each side are compared.  At least ``repeats`` rounds, and more until
    each side has used ``min_cpu_s`` (the cached generations are ten times cheaper: more samples
    of them cost little and steady the median).
    """
    device = resolve_device(cfg.device)
    sync = sync_for(device)
    out = []
    with torch_threads(1):
        model = kv.build_model(cfg, device)
        prompt = kv.make_prompt(cfg, cfg.length_batch, device)
        n_new = max(cfg.gen_lens)
        for cached in (False, True):
            harness: list[float] = []
            bare: list[float] = []
            generations = 1
            kv.generate(model, prompt, n_new, cached=cached)  # first shapes and buffers: neither side pays them
            rounds = 0
            while rounds < max(1, repeats) or sum(bare) * generations < min_cpu_s:
                rounds += 1
                for side in ("harness", "bare", "bare", "harness"):
                    if side == "harness":
                        per_generation, generations = harness_cpu_per_generation(
                            model, prompt, n_new, cached, cfg, sync
                        )
                        harness.append(per_generation)
                    else:
                        bare.append(bare_cpu_per_generation(model, prompt, n_new, cached, sync, generations))
            out.append(
                {
                    "mode": kv.MODES[cached],
                    "harness_ms": statistics.median(harness) * 1e3,
                    "bare_ms": statistics.median(bare) * 1e3,
                    "samples": len(harness),
                    "generations_per_sample": generations,
                }
            )
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
