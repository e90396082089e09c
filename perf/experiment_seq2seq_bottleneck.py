"""seq2seq-bottleneck in ``perf/run_experiments.py``: harness overhead against a bare loop, and a summary print.

The harness is what ``run()`` adds around the torch work: the per-step progress callback, the
loss bookkeeping, timers and the accuracy statistics. The bare loop trains the same models on the
same batches and decodes the same test sequences, with none of that.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench import seq2seq_bottleneck as s2s
from experiments.bench.common import resolve_device, sync_for, torch_threads
from experiments.bench.seq2seq_bottleneck_config import EVAL_CHUNK, Seq2SeqBottleneckConfig


def bare_model(kind: str, cfg: Seq2SeqBottleneckConfig, device: torch.device) -> None:
    """Train one model and decode every test length exactly as ``run()`` does, minus the bookkeeping."""
    model = s2s.build_model(kind, cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    for n in s2s.training_lengths(cfg, gen):
        x, y = s2s.make_batch(cfg.batch, n, cfg.vocab, cfg.task, gen)
        x, y = x.to(device), y.to(device)
        logits, _ = model(x, s2s.decoder_input(y, cfg.vocab))
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()
    with torch.inference_mode():
        for n in cfg.test_lengths:
            x, _ = s2s.make_batch(cfg.test_samples, n, cfg.vocab, cfg.task, torch.Generator().manual_seed(n))
            for chunk in x.split(EVAL_CHUNK):
                model.greedy(chunk.to(device), n).cpu()
    sync_for(device)()


def harness_model(kind: str, cfg: Seq2SeqBottleneckConfig, device: torch.device) -> None:
    """The same work through the experiment's own ``train`` (with a progress callback) and ``evaluate``."""
    model, _ = s2s.train(kind, cfg, device, lambda step: None)
    for n in cfg.test_lengths:
        s2s.evaluate(model, cfg, n, device)


def seq2seq_overhead(cfg: Seq2SeqBottleneckConfig, repeats: int) -> dict[str, float]:
    """Sums over the two models of harness and bare seconds, wall clock and process CPU time.

    Per model, ``repeats`` of each side in ABBA order (BAAB for the second model); the fastest of
    each is kept: other processes can only add time, so the minimum is the robust estimate. On a
    shared machine the wall clock mostly measures the other processes; the process CPU time of
    this single-threaded run does not, so it is the number to judge the overhead by.
    """
    device = resolve_device(cfg.device)
    out = {"harness_wall_s": 0.0, "bare_wall_s": 0.0, "harness_cpu_s": 0.0, "bare_cpu_s": 0.0}
    with torch_threads(cfg.threads):
        for i, kind in enumerate(("plain", "attention")):
            times: dict[str, list[tuple[float, float]]] = {"harness": [], "bare": []}
            pair = ("harness", "bare") if i % 2 == 0 else ("bare", "harness")
            order = [side for r in range(max(1, repeats)) for side in (pair if r % 2 == 0 else pair[::-1])]
            for side in order:
                wall, cpu = time.perf_counter(), time.process_time()
                (harness_model if side == "harness" else bare_model)(kind, cfg, device)
                times[side].append((time.perf_counter() - wall, time.process_time() - cpu))
            for side in ("harness", "bare"):
                out[f"{side}_wall_s"] += min(t[0] for t in times[side])
                out[f"{side}_cpu_s"] += min(t[1] for t in times[side])
    return out


def print_seq2seq_bottleneck(result: dict[str, Any]) -> None:
    lengths = result["test_lengths"]
    lo, hi = result["train_range"]
    print(f"token accuracy (greedy), training lengths {lo}..{hi}, chance {result['chance']:.3f}:")
    print(f"{'model':20} " + " ".join(f"{'n=' + str(n) + ('*' if n > hi else ''):>7}" for n in lengths))
    for kind, accs in result["accuracy"].items():
        print(f"{result['model_labels'][kind]:20} " + " ".join(f"{a:7.3f}" for a in accs))
    print("(* = longer than any training sequence)")
    s = result["summary"]
    print("mean in training range:", {k: round(v, 3) for k, v in s["mean_accuracy_in_training_range"].items()})
    beyond = s["mean_accuracy_beyond_training_range"]
    print("mean beyond it:        ", {k: None if v is None else round(v, 3) for k, v in beyond.items()})
    print(
        "train seconds:",
        ", ".join(f"{result['model_labels'][k]}: {t['train_seconds']:.1f}" for k, t in result["training"].items()),
    )
