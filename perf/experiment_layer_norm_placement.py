"""layer-norm-placement's part of ``perf/run_experiments.py``: harness overhead and a printed summary."""

from __future__ import annotations

import time
from typing import Any

import torch

from experiments.bench import layer_norm_placement as lnp
from experiments.bench.common import resolve_device, torch_threads
from experiments.bench.layer_norm_placement_config import LayerNormPlacementConfig


def bare_job(placement: str, depth: int, warmup: bool, cfg: LayerNormPlacementConfig, device: torch.device) -> None:
    """One training run exactly as ``lnp.train`` does it, minus the loss bookkeeping and divergence checks."""
    model = lnp.build_model(placement, depth, cfg).to(device)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lnp.lr_at(1, cfg, warmup))
    gen = torch.Generator().manual_seed(cfg.seed + depth)
    for step in range(1, cfg.steps + 1):
        for group in opt.param_groups:
            group["lr"] = lnp.lr_at(step, cfg, warmup)
        x, y = lnp.make_batch(cfg.batch, cfg.seq_len, cfg.vocab, gen)
        loss = lnp.task_loss(model, x.to(device), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def overhead(cfg: LayerNormPlacementConfig) -> tuple[float, float, int]:
    """Harness (``lnp.train``) and bare seconds summed over the jobs of the deepest stack, and the job count.

    The deepest stack's four runs are most of the work.  Each job is timed twice each way in ABBA (or BAAB)
    order and the faster of each pair is kept: other processes can only add time, so the minimum is the
    robust estimate.
    """
    device = resolve_device(cfg.device)
    depth = max(cfg.depths)
    jobs = [(p, warmup) for p in lnp.PLACEMENT_LABELS for warmup in (True, False)]
    harness = bare = 0.0
    with torch_threads(cfg.threads):
        for i, (placement, warmup) in enumerate(jobs):
            times: dict[str, list[float]] = {"harness": [], "bare": []}
            order = ("harness", "bare", "bare", "harness") if i % 2 == 0 else ("bare", "harness", "harness", "bare")
            for side in order:
                start = time.perf_counter()
                if side == "harness":
                    lnp.train(placement, depth, warmup, cfg, device)
                else:
                    bare_job(placement, depth, warmup, cfg, device)
                times[side].append(time.perf_counter() - start)
            harness += min(times["harness"])
            bare += min(times["bare"])
    return harness, bare, len(jobs)


def print_layer_norm_placement(result: dict[str, Any]) -> None:
    """Top-layer gradients at init and every run's outcome."""
    s = result["summary"]
    print("top-layer gradient norm at initialisation, by depth:")
    for label, by_depth in s["top_layer_grad_norm_at_init"].items():
        values = "  ".join(f"L={d}: {v:.3f}" for d, v in by_depth.items())
        ratio = s["top_layer_deep_over_shallow"][label]
        claim = s["one_over_sqrt_depth_ratio"]
        print(f"  {label:8} {values}   deepest/shallowest {ratio:.2f} (1/sqrt(L) gives {claim:.2f})")
    print(f"final training loss (uniform guess {s['uniform_loss']:.3f}; diverged runs marked):")
    for label, by_depth in s["runs"].items():
        cells = []
        for d, outcome in by_depth.items():
            if "diverged_at_step" in outcome:
                cells.append(f"L={d}: diverged at step {outcome['diverged_at_step']}")
            else:
                cells.append(f"L={d}: {outcome['final_loss']:.3f}")
        print(f"  {label:24} " + "  ".join(cells))
