"""Wall time of each lesson experiment at its default settings, and the cost of our harness.

Run from the repository root::

    .venv/bin/python -m perf.run_experiments [--only sequence-latency] [--repeats 3]

For every experiment it prints the wall time of ``run()`` at the defaults of this
machine's device class (what a visitor pressing "Run" waits for), the time to build the
figure, and the overhead of the harness (validation, Timer, progress reports,
statistics, environment) against the same torch work written as a bare loop:

* sequence-latency: per-call median from ``common.measure`` (Timer.blocked_autorange,
  warm-up, sync) vs a bare ``time.perf_counter()`` loop around the same forward,
  interleaved, for a few (model, batch, length) points;
* attention-cost: the same per-call comparison for the naive forward and the SDPA forward+backward at the
  middle length (``perf/experiment_attention_cost.py``);
* gradient-flow, long-range-recall and length-extrapolation: ``run()`` wall time vs the
  same models, inputs and backward passes / training steps in a plain loop.
* seq2seq-bottleneck: each model's training and test decoding through ``train``/``evaluate`` vs the
  same steps and decoding in a plain loop, by process CPU time (``perf/experiment_seq2seq_bottleneck.py``).

No Django import anywhere: this exercises exactly what the Celery worker calls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench import gradient_flow, long_range_recall, registry, sequence_latency
from experiments.bench.common import measure, resolve_device, seed_everything, sync_for, torch_threads
from experiments.bench.long_range_recall_config import COLUMN_LABELS as RECALL_COLUMNS
from experiments.bench.long_range_recall_config import MODEL_LABELS as RECALL_MODELS
from experiments.bench.sequence_latency_config import COLUMN_LABELS as LATENCY_COLUMNS
from experiments.bench.sequence_latency_config import MODEL_LABELS as LATENCY_MODELS
from experiments.bench.tables import table_records
from perf import experiment_attention_heads, experiment_length_extrapolation
from perf.experiment_attention_cost import attention_cost_overhead, print_attention_cost
from perf.experiment_kv_cache_decoding import overhead as kv_cache_overhead
from perf.experiment_kv_cache_decoding import print_kv_cache_decoding
from perf.experiment_layer_norm_placement import overhead as layer_norm_placement_overhead
from perf.experiment_layer_norm_placement import print_layer_norm_placement
from perf.experiment_seq2seq_bottleneck import print_seq2seq_bottleneck, seq2seq_overhead


def run_experiment(name: str, device_class: str) -> dict[str, Any]:
    """Run one experiment at its defaults; return wall time, figure time and the result."""
    exp = registry.get_experiment(name)
    config = registry.validate_params(name, {}, device_class)
    run, figure = exp.run, exp.figure  # imports their modules (torch, plotly) before any timer starts
    calls: list[float] = []
    start = time.perf_counter()
    result = run(config, lambda f, m: calls.append(f))
    wall = time.perf_counter() - start
    start = time.perf_counter()
    fig = figure(result)
    fig_s = time.perf_counter() - start
    return {
        "config": config,
        "result": result,
        "wall_s": wall,
        "figure_s": fig_s,
        "figure_kb": len(json.dumps(fig)) / 1024,
        "result_kb": len(json.dumps(result)) / 1024,
        "progress_calls": len(calls),
    }


# --------------------------------------------------------------- sequence-latency


def bare_median(fn: Any, sync: Any, calls: int) -> float:
    """Median of ``calls`` individually perf_counter-timed calls after one warm-up call."""
    fn()
    sync()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def latency_overhead(config: Any, points: list[tuple[int, int]], repeats: int) -> list[dict[str, Any]]:
    """Harness vs bare per-call medians for both models at ``points``: ``repeats`` alternating pairs, fastest kept."""
    device = resolve_device(config.device)
    sync = sync_for(device)
    models = sequence_latency.build_models(config, device)
    gen = torch.Generator().manual_seed(0)
    out = []
    for batch, length in points:
        x = torch.randint(0, config.vocab, (batch, length), generator=gen).to(device)
        for name, model in models.items():
            step = sequence_latency.make_step(model, x, config.mode, config.vocab)
            harness, bare = [], []
            calls = 5
            for r in range(repeats):
                # alternate which goes first; bare times as many calls as the harness did (>= 5)
                for side in ("harness", "bare") if r % 2 == 0 else ("bare", "harness"):
                    if side == "harness":
                        t = measure(step, sync=sync, min_run_time=config.min_run_time)
                        harness.append(t.median)
                        calls = max(5, t.blocks * t.calls_per_block)
                    else:
                        bare.append(bare_median(step, sync, calls))
            # other processes only ever add time: the fastest repeat is the robust estimate
            h, b = min(harness), min(bare)
            out.append({"model": name, "batch": batch, "seq_len": length, "harness_ms": h * 1e3, "bare_ms": b * 1e3})
    return out


# ------------------------------------------------------------------ gradient-flow


def gradient_flow_bare(cfg: gradient_flow.GradientFlowConfig) -> float:
    """The same gradients as ``gradient_flow.run`` (models, seeds, seed listing) in a plain loop."""
    device = resolve_device(cfg.device)
    start = time.perf_counter()
    with torch_threads(cfg.threads):
        _gradient_flow_bare(cfg, device)
    return time.perf_counter() - start


def _gradient_flow_bare(cfg: gradient_flow.GradientFlowConfig, device: torch.device) -> None:
    for name in gradient_flow.MODEL_SETS[cfg.models]:
        for k in range(cfg.seeds):
            seed_everything(cfg.seed + 1000 * k)
            model = gradient_flow.build_model(name, cfg).to(device)
            gen = torch.Generator().manual_seed(cfg.seed + 1000 * k + 1)
            x = torch.randn(cfg.samples, cfg.seq_len, cfg.hidden, generator=gen).to(device).requires_grad_(True)
            readout = (torch.randn(cfg.hidden, generator=gen) / cfg.hidden**0.5).to(device)
            out = model(x)
            out = out[0] if isinstance(out, tuple) else out
            (out[:, -1] @ readout).sum().backward()
            assert x.grad is not None
            x.grad.double().norm(dim=-1).cpu()
    for k in range(cfg.seeds):
        gradient_flow.seed_listing(cfg.seed + k)


# -------------------------------------------------------------- long-range-recall


def recall_bare_job(kind: str, d: int, cfg: long_range_recall.LongRangeRecallConfig, device: torch.device) -> None:
    """One (model, distance) training + test exactly as ``train_and_test`` does, minus the bookkeeping."""
    seed_everything(cfg.seed)
    model = long_range_recall.RecallModel(kind, cfg.hidden, d + 1, cfg.transformer_layers).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed + d)
    for _ in range(cfg.steps):
        x, y = long_range_recall.make_batch(cfg.batch, d, gen)
        loss = F.cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    x, y = long_range_recall.make_batch(long_range_recall.TEST_SIZE, d, torch.Generator().manual_seed(1))
    with torch.inference_mode():
        model(x.to(device)).argmax(-1)


def recall_overhead(cfg: long_range_recall.LongRangeRecallConfig) -> tuple[float, float]:
    """Sum over (model, d) jobs of harness (``train_and_test``) and bare seconds.

    Each job is timed twice each way in ABBA (or BAAB) order and the faster of each pair
    is kept: other processes can only add time, so the minimum is the robust estimate.
    """
    device = resolve_device(cfg.device)
    harness = bare = 0.0
    with torch_threads(cfg.threads):
        for i, (kind, d) in enumerate((k, d) for k in cfg.model_names() for d in cfg.distances):
            times: dict[str, list[float]] = {"harness": [], "bare": []}
            order = ("harness", "bare", "bare", "harness") if i % 2 == 0 else ("bare", "harness", "harness", "bare")
            for side in order:
                start = time.perf_counter()
                if side == "harness":
                    long_range_recall.train_and_test(kind, d, cfg, device)
                else:
                    recall_bare_job(kind, d, cfg, device)
                times[side].append(time.perf_counter() - start)
            harness += min(times["harness"])
            bare += min(times["bare"])
    return harness, bare


# ---------------------------------------------------------------------------- main


def fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


# --------------------------------------------------------------- per-experiment overhead reports
# Each takes (config, result, repeats, device class), prints its summary and returns (bare seconds, overhead).


def _report_latency(cfg: Any, result: dict[str, Any], repeats: int, device_class: str) -> tuple[Any, Any]:
    print_latency(result)
    pts = [(cfg.batch_sizes[0], cfg.seq_lens[len(cfg.seq_lens) // 2]), (cfg.batch_sizes[-1], cfg.seq_lens[1])]
    rows = latency_overhead(cfg, pts, repeats)
    print("\nharness (Timer.blocked_autorange + warm-up + sync) vs bare perf_counter loop, per call:")
    print(f"{'model':12} {'batch':>5} {'len':>5} {'harness ms':>11} {'bare ms':>9} {'overhead':>9}")
    for row in rows:
        ov = row["harness_ms"] / row["bare_ms"] - 1
        print(
            f"{row['model']:12} {row['batch']:5d} {row['seq_len']:5d} {row['harness_ms']:11.2f}"
            f" {row['bare_ms']:9.2f} {ov:+9.1%}"
        )
    return None, statistics.median(r["harness_ms"] / r["bare_ms"] - 1 for r in rows)


def _report_gradient_flow(cfg: Any, result: dict[str, Any], repeats: int, device_class: str) -> tuple[Any, Any]:
    print_gradient_flow(result)
    # ABBA after the (cold) first run: warm run(), bare, bare, run() per repeat.
    harness, bare = [], []
    for _ in range(max(1, repeats // 2)):
        harness.append(run_experiment("gradient-flow", device_class)["wall_s"])
        bare.extend([gradient_flow_bare(cfg), gradient_flow_bare(cfg)])
        harness.append(run_experiment("gradient-flow", device_class)["wall_s"])
    bare_s = min(bare)
    print(f"warm run() {min(harness):.2f} s vs bare {bare_s:.2f} s (fastest of {len(bare)} each, ABBA)")
    return bare_s, min(harness) / bare_s - 1


def _report_recall(cfg: Any, result: dict[str, Any], repeats: int, device_class: str) -> tuple[Any, Any]:
    print_recall(result)
    harness_s, bare_s = recall_overhead(cfg)
    print(f"per (model, d), fastest of 2 each, ABBA: harness {harness_s:.2f} s vs bare {bare_s:.2f} s")
    return bare_s, harness_s / bare_s - 1


def _report_attention_cost(cfg: Any, result: dict[str, Any], repeats: int, device_class: str) -> tuple[Any, Any]:
    print_attention_cost(result)
    rows = attention_cost_overhead(cfg, repeats)
    print("\nharness (measure_point: memory probe, Timer, warm-up, sync) vs bare perf_counter loop, per call:")
    for row in rows:
        ov = row["harness_ms"] / row["bare_ms"] - 1
        print(f"{row['series']:48} n={row['n']:<6d} harness {row['harness_ms']:9.2f} ms"
              f" bare {row['bare_ms']:9.2f} ms {ov:+7.1%}")
    return None, statistics.median(r["harness_ms"] / r["bare_ms"] - 1 for r in rows)


def _report_attention_heads(cfg: Any, result: dict[str, Any], repeats: int, device_class: str) -> tuple[Any, Any]:
    experiment_attention_heads.print_attention_heads(result)
    t = experiment_attention_heads.overhead(cfg, repeats)
    print(
        f"warm run() {t['harness_wall_s']:.2f} s wall, {t['harness_cpu_s']:.2f} s CPU vs bare "
        f"{t['bare_wall_s']:.2f} s wall, {t['bare_cpu_s']:.2f} s CPU (fastest of each, ABBA); overhead from CPU"
    )
    return t["bare_wall_s"], t["harness_cpu_s"] / t["bare_cpu_s"] - 1


def _report_length_extrapolation(cfg: Any, result: dict[str, Any], repeats: int,
                                 device_class: str) -> tuple[Any, Any]:
    experiment_length_extrapolation.print_length_extrapolation(result)
    harness_s, bare_s = experiment_length_extrapolation.overhead(cfg)
    print(f"per scheme, fastest of 2 each, ABBA: run() {harness_s:.2f} s vs bare {bare_s:.2f} s")
    return bare_s, harness_s / bare_s - 1


def _report_layer_norm_placement(cfg: Any, result: dict[str, Any], repeats: int,
                                 device_class: str) -> tuple[Any, Any]:
    print_layer_norm_placement(result)
    harness_s, bare_s, jobs = layer_norm_placement_overhead(cfg)
    print(f"{jobs} deepest-stack runs, fastest of 2 each, ABBA: harness {harness_s:.2f} s vs bare {bare_s:.2f} s")
    return bare_s, harness_s / bare_s - 1


def _report_seq2seq(cfg: Any, result: dict[str, Any], repeats: int, device_class: str) -> tuple[Any, Any]:
    print_seq2seq_bottleneck(result)
    o = seq2seq_overhead(cfg, repeats)
    bare_s = o["bare_cpu_s"]
    print(
        f"per model, fastest of {repeats} each, ABBA: harness {o['harness_cpu_s']:.2f} s vs bare "
        f"{bare_s:.2f} s process CPU time (wall {o['harness_wall_s']:.2f} s vs {o['bare_wall_s']:.2f} s)"
    )
    return bare_s, o["harness_cpu_s"] / bare_s - 1  # CPU time: the wall clock of a shared box measures the others


def _report_kv_cache(cfg: Any, result: dict[str, Any], repeats: int, device_class: str) -> tuple[Any, Any]:
    print_kv_cache_decoding(result)
    rows = kv_cache_overhead(cfg, repeats)
    print(
        "\nharness (measure + per-step clock) vs bare generate() loop, longest length, process CPU time per"
        " generation, one torch thread, medians of ABBA samples:"
    )
    for row in rows:
        ov = row["harness_ms"] / row["bare_ms"] - 1
        print(
            f"{row['mode']:14} harness {row['harness_ms']:9.1f} ms  bare {row['bare_ms']:9.1f} ms  {ov:+.1%}"
            f"  ({row['samples']} samples of {row['generations_per_sample']} generations each side)"
        )
    return None, max(r["harness_ms"] / r["bare_ms"] - 1 for r in rows)


REPORTS = {
    "sequence-latency": _report_latency,
    "gradient-flow": _report_gradient_flow,
    "long-range-recall": _report_recall,
    "seq2seq-bottleneck": _report_seq2seq,
    "attention-cost": _report_attention_cost,
    "attention-heads": _report_attention_heads,
    "length-extrapolation": _report_length_extrapolation,
    "layer-norm-placement": _report_layer_norm_placement,
    "kv-cache-decoding": _report_kv_cache,
}
HOW_COMPARED = {
    "sequence-latency": "median over points of the fastest per-call medians vs a bare perf_counter loop",
    "gradient-flow": "warm run() vs the same gradients in a plain loop, ABBA, fastest of each",
    "long-range-recall": "each (model, d) by train_and_test vs a bare loop, ABBA, fastest of each, summed",
    "seq2seq-bottleneck": "each model's training and decoding vs the same steps in a plain loop, by CPU time",
    "attention-cost": "per-call medians of measure_point vs a bare loop at the middle length, median over series",
    "attention-heads": "warm run() vs training, evaluations, maps and KV tensors in plain loops, by CPU time",
    "length-extrapolation": "run() for one scheme vs its training and evaluations in a plain loop, ABBA, summed",
    "layer-norm-placement": "each deepest-stack run by train() vs a bare training loop, ABBA, summed",
    "kv-cache-decoding": "the worse of the two modes, CPU time per generation through measure() vs a bare loop",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=list(registry.EXPERIMENTS), action="append")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats for the overhead comparisons")
    args = parser.parse_args()
    names = args.only or list(registry.EXPERIMENTS)
    device_class = registry.detect_device_class()
    env = None
    print(
        f"device class: {device_class}; torch {torch.__version__}; threads {torch.get_num_threads()}; "
        f"cpus {os.cpu_count()}; load avg (1/5/15 min) {os.getloadavg() if hasattr(os, 'getloadavg') else '-'}"
    )
    summary_rows = []
    for name in names:
        print(f"\n=== {name} (defaults for {device_class}) ===", flush=True)
        r = run_experiment(name, device_class)
        result, cfg = r["result"], r["config"]
        env = result["environment"]
        print(
            f"run() wall {r['wall_s']:.2f} s · figure {r['figure_s'] * 1e3:.0f} ms ({r['figure_kb']:.0f} KiB JSON)"
            f" · result {r['result_kb']:.0f} KiB · {r['progress_calls']} progress calls"
        )
        bare_s, overhead = REPORTS[name](cfg, result, args.repeats, device_class)
        summary_rows.append((name, r["wall_s"], bare_s, overhead, r["figure_s"]))

    print("\n=== summary ===")
    if env:
        print(
            f"{env['device']} · {env['device_name']} · {env['num_threads']} thread(s) in the last run · "
            f"torch {env['torch']} · load avg at last run start {env.get('load_avg_1m', '-')}"
        )
    print(f"{'experiment':20} {'run() s':>8} {'bare s':>8} {'overhead':>9} {'figure ms':>10}")
    for name, wall, bare_s, overhead, fig_s in summary_rows:
        print(f"{name:20} {wall:8.2f} {fmt(bare_s):>8} {fmt(overhead, '+.1%'):>9} {fig_s * 1e3:10.0f}")
    print("(overhead = harness / bare - 1; run() s: the first, cold run in this process, as a visitor's first run in a")
    print(" fresh worker would be. How each experiment's bare loop is compared:")
    for name, _wall, _bare, _overhead, _fig in summary_rows:
        print(f"  {name}: {HOW_COMPARED[name]}")
    print(")")


def print_latency(result: dict[str, Any]) -> None:
    rows = table_records(result["table"], column_labels=LATENCY_COLUMNS, value_labels={"model": LATENCY_MODELS})
    print(f"GEMM peak: {result['gemm_peak']['flops_per_s'] / 1e9:.1f} GFLOP/s (n={result['gemm_peak']['n']})")
    print(
        f"{'batch':>5} {'len':>5} {'LSTM ms':>9} {'IQR':>7} {'TF ms':>9} {'IQR':>7} {'LSTM/TF':>8} {'TF GFLOP/s':>11}"
    )
    for b in sorted({r["batch"] for r in rows}):
        for t in sorted({r["seq_len"] for r in rows}):
            lstm = next(r for r in rows if (r["model"], r["batch"], r["seq_len"]) == ("lstm", b, t))
            tf = next(r for r in rows if (r["model"], r["batch"], r["seq_len"]) == ("transformer", b, t))
            print(
                f"{b:5d} {t:5d} {lstm['median_ms']:9.2f} {lstm['iqr_ms']:7.2f} {tf['median_ms']:9.2f}"
                f" {tf['iqr_ms']:7.2f} {lstm['median_ms'] / tf['median_ms']:8.2f} {tf['gflop_per_s']:11.1f}"
            )
    s = result["summary"]
    print("scaling exponent k (time ~ length^k):", json.dumps(s["scaling_exponent"]))
    print("winner flips at batch (per length):", json.dumps(s["winner_flips_at_batch"]))


def print_gradient_flow(result: dict[str, Any]) -> None:
    s = result["summary"]
    dists = s["distances"]
    print(f"{'model':22} " + " ".join(f"{'d=' + str(d):>10}" for d in dists) + f" {'zeros@max':>10}")
    for name, m in s["models"].items():
        print(
            f"{name:22} "
            + " ".join(f"{m['ratio_at'][str(d)]:10.2e}" for d in dists)
            + f" {m['zero_fraction_at_max_distance']:10.0%}"
        )
    listing = result["seed_listing"]
    print("seed listing (measured):", *listing["printed"], sep="\n  ")
    print("seed listing (claimed): ", listing["claimed"])


def print_recall(result: dict[str, Any]) -> None:
    print(f"{'model':12} " + " ".join(f"{'d=' + str(d):>7}" for d in result["distances"]))
    for name, accs in result["accuracy"].items():
        print(f"{name:12} " + " ".join(f"{a:7.3f}" for a in accs))
    print(f"chance {result['chance']:.3f}")
    secs = table_records(result["table"], column_labels=RECALL_COLUMNS, value_labels={"model": RECALL_MODELS})
    print("train seconds:", ", ".join(f"{r['model']}@{r['distance']}: {r['train_s']:.1f}" for r in secs))


if __name__ == "__main__":
    main()
