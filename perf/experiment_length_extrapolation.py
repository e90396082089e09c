"""perf/run_experiments.py's part for length-extrapolation: harness vs bare loop, and the printed summary."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import torch
from torch import nn

from experiments.bench import length_extrapolation as le
from experiments.bench.common import resolve_device, seed_everything, torch_threads


def bare_scheme(scheme: str, cfg: le.LengthExtrapolationConfig, device: torch.device) -> None:
    """One scheme's training and evaluations exactly as ``run`` does them, minus the bookkeeping."""
    seed_everything(cfg.seed)
    model = le.PositionLM(scheme, cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    model.train()
    for _ in range(cfg.steps):
        x, y, mask = (t.to(device) for t in le.make_batch(cfg.batch, cfg.train_len, cfg, gen))
        loss = le.masked_loss(model(x), y, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()
    chunk = min(cfg.batch, cfg.eval_sequences)
    with torch.inference_mode():
        for length in cfg.eval_lengths():
            if not model.supports_length(length):
                continue
            gen = torch.Generator().manual_seed(cfg.seed + 1_000_003 + length)
            for first in range(0, cfg.eval_sequences, chunk):
                n = min(chunk, cfg.eval_sequences - first)
                x, y, mask = (t.to(device) for t in le.make_batch(n, length, cfg, gen))
                torch.nn.functional.cross_entropy(model(x)[mask], y[mask], reduction="sum").item()


def overhead(cfg: le.LengthExtrapolationConfig) -> tuple[float, float]:
    """Sum over schemes of harness (``run`` for that scheme alone) and bare seconds.

    Each scheme is timed twice each way in ABBA (or BAAB) order and the faster of each pair is kept:
    other processes can only add time, so the minimum is the robust estimate.
    """
    device = resolve_device(cfg.device)
    harness = bare = 0.0
    for i, scheme in enumerate(cfg.scheme_names()):
        one = dataclasses.replace(cfg, schemes=scheme)
        times: dict[str, list[float]] = {"harness": [], "bare": []}
        order = ("harness", "bare", "bare", "harness") if i % 2 == 0 else ("bare", "harness", "harness", "bare")
        for side in order:
            start = time.perf_counter()
            if side == "harness":
                le.run(one)
            else:
                with torch_threads(cfg.threads):
                    bare_scheme(scheme, one, device)
            times[side].append(time.perf_counter() - start)
        harness += min(times["harness"])
        bare += min(times["bare"])
    return harness, bare


def print_length_extrapolation(result: dict[str, Any]) -> None:
    """Accuracy and loss per scheme and evaluation length, and the training time of each scheme."""
    lengths = result["eval_lengths"]
    print(f"trained at L = {result['train_len']}; accuracy on repeated tokens (loss, nats/token)")
    print(f"{'scheme':18} " + " ".join(f"{'T=' + str(t):>15}" for t in lengths))
    for name, accs in result["accuracy"].items():
        cells = [
            "not applicable" if a is None else f"{a:6.3f} ({v:.3f})"
            for a, v in zip(accs, result["loss"][name], strict=True)
        ]
        print(f"{result['scheme_labels'][name]:18} " + " ".join(f"{c:>15}" for c in cells))
    print("train seconds:", ", ".join(f"{n}: {r['train_seconds']:.1f}" for n, r in result["runs"].items()))
