"""Layer-norm placement: Post-LN and Pre-LN stacks trained with and without learning-rate warm-up.

The module-6 lesson says (after Xiong et al. 2020) that at initialisation the gradients of the
parameters near the output of a Post-LN Transformer are large and do not shrink with depth, so
full-size first steps are unstable and the original recipe needs a warm-up, while Pre-LN's
gradients shrink like 1/sqrt(L) and it trains without one.  Here we measure both halves:

* **gradient norm per layer at initialisation**: one backward pass on one batch, the norm of
  the gradient of each layer's parameters (attention + FFN + its LayerNorms), for every depth;
* **training**: every (placement, depth) is trained twice from the same initial weights on the
  same batches with the same peak learning rate, once with a linear warm-up and once without.
  A run whose loss becomes NaN/inf or rises above twice the loss of uniform guessing is
  stopped and reported as diverged at that step.

The blocks are written out here rather than taken from ``nn.TransformerEncoderLayer`` so the two
placements are visibly the two formulas of the lesson (Post-LN ``x = LN(x + f(x))``, Pre-LN
``x = x + f(LN(x))``, plus Pre-LN's final LayerNorm).  The lesson's own ``ln_experiment``
listing uses ``nn.TransformerEncoderLayer(norm_first=...)``, which computes the same thing.

Task (bidirectional, every position labelled): random tokens x_0..x_{n-1} from a vocabulary of
V; the label at position t is the previous token x_{t-1} (x_0 at t = 0).  Each position has to
find its left neighbour by attention and position, so the task needs attention, yet a small
model learns it in a few hundred steps.  Fresh random batches every step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench.common import (
    Progress,
    begin_run,
    in_config_threads,
    load_average,
    seed_everything,
    sinusoidal_encoding,
    small_ops_run_notes,
)
from experiments.bench.layer_norm_placement_config import (
    PLACEMENT_LABELS,
    WARMUP_LABELS,
    LayerNormPlacementConfig,
)
from experiments.bench.params import config_to_dict

# A loss this many times that of guessing uniformly (ln V) means the run has blown up.
DIVERGENCE_FACTOR = 2.0
# Divergence is checked every this many steps (one device sync each), and training stops there.
CHECK_EVERY = 10
# A run whose final loss is above this fraction of ln V learnt next to nothing (reported as stuck, not diverged).
STUCK_FRACTION = 0.9
CURVE_POINTS = 100

# What the lesson and the paper claim (stored as claims, drawn dashed, never mixed with measurements).
CLAIMS = {
    "source": "Xiong et al. 2020",
    "post_top_layer": "gradient norm near the output does not shrink with depth L",
    "pre_top_layer": "gradient norm near the output shrinks like 1/sqrt(L)",
    "warmup": "Post-LN needs a learning-rate warm-up for stable training; Pre-LN can train without one",
}


# ------------------------------------------------------------------------------- data


def make_batch(batch: int, seq_len: int, vocab: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` random sequences and their labels: y_t = x_{t-1}, y_0 = x_0."""
    x = torch.randint(0, vocab, (batch, seq_len), generator=gen)
    y = x.clone()
    y[:, 1:] = x[:, :-1]
    return x, y


# ----------------------------------------------------------------------------- models


class ResidualSublayer(nn.Module):
    """One sublayer f with its residual connection and LayerNorm, in either placement.

    Post-LN (Vaswani et al. 2017): ``LN(x + f(x))`` -- the LayerNorm sits on the residual path.
    Pre-LN: ``x + f(LN(x))`` -- the residual path is a pure identity.
    """

    def __init__(self, f: nn.Module, d_model: int, placement: str) -> None:
        super().__init__()
        if placement not in PLACEMENT_LABELS:
            raise ValueError(f"placement must be one of {list(PLACEMENT_LABELS)}, got {placement!r}")
        self.f = f
        self.norm = nn.LayerNorm(d_model)
        self.pre = placement == "pre"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre:
            return x + self.f(self.norm(x))
        return self.norm(x + self.f(x))


class SelfAttention(nn.Module):
    """``nn.MultiheadAttention`` as a one-argument function of x (no mask: the task is bidirectional)."""

    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(d_model, heads, dropout=0.0, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mha(x, x, x, need_weights=False)[0]


class Block(nn.Module):
    """A Transformer encoder layer: self-attention sublayer, then feed-forward (4d, ReLU) sublayer."""

    def __init__(self, d_model: int, heads: int, placement: str) -> None:
        super().__init__()
        ffn = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.ReLU(), nn.Linear(4 * d_model, d_model))
        self.attention = ResidualSublayer(SelfAttention(d_model, heads), d_model, placement)
        self.feed_forward = ResidualSublayer(ffn, d_model, placement)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feed_forward(self.attention(x))


class Stack(nn.Module):
    """Embedding + sinusoidal positions -> ``depth`` blocks -> (Pre-LN: final LayerNorm) -> linear read-out."""

    def __init__(self, *, vocab: int, d_model: int, heads: int, depth: int, placement: str, max_len: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.blocks = nn.ModuleList(Block(d_model, heads, placement) for _ in range(depth))
        # Xavier on every weight matrix of the blocks, the initialisation nn.Transformer applies (and the lesson).
        for p in self.blocks.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        # Created after the blocks so both placements draw the same initial block weights from the same seed.
        self.final_norm: nn.Module = nn.LayerNorm(d_model) if placement == "pre" else nn.Identity()
        self.readout = nn.Linear(d_model, vocab)
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embedding(x) + self.pe[: x.size(1)]
        for block in self.blocks:
            h = block(h)
        return self.readout(self.final_norm(h))


def build_model(placement: str, depth: int, cfg: LayerNormPlacementConfig) -> Stack:
    """The initial model of one (placement, depth): the same seed gives the same weights to both schedules."""
    seed_everything(cfg.seed + 7919 * depth)
    return Stack(
        vocab=cfg.vocab, d_model=cfg.d_model, heads=cfg.heads, depth=depth, placement=placement, max_len=cfg.seq_len
    )


def task_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))


# -------------------------------------------------------------------- the measurements


def layer_gradient_norms(model: Stack, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """||dL/d(parameters of layer l)|| for every layer l (bottom first), after one backward pass."""
    model.zero_grad(set_to_none=True)
    task_loss(model, x, y).backward()
    norms = []
    for block in model.blocks:
        grads = [p.grad.reshape(-1) for p in block.parameters() if p.grad is not None]
        norms.append(torch.cat(grads).norm())
    model.zero_grad(set_to_none=True)
    return torch.stack(norms).cpu().tolist()


def init_gradient_norms(placement: str, depth: int, cfg: LayerNormPlacementConfig, device: torch.device) -> list[float]:
    """Per-layer gradient norms of the initial model (the one both schedules start from) on one batch."""
    model = build_model(placement, depth, cfg).to(device)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1_000_003)
    x, y = make_batch(cfg.batch, cfg.seq_len, cfg.vocab, gen)
    return layer_gradient_norms(model, x.to(device), y.to(device))


def divergence_threshold(vocab: int) -> float:
    """Loss above which a run counts as diverged: DIVERGENCE_FACTOR x the loss of a uniform guess."""
    return DIVERGENCE_FACTOR * math.log(vocab)


def first_divergence(losses: list[float], threshold: float) -> int | None:
    """Index of the first loss that is NaN, infinite or above ``threshold`` (None: none is)."""
    return next((i for i, v in enumerate(losses) if not math.isfinite(v) or v > threshold), None)


def lr_at(step: int, cfg: LayerNormPlacementConfig, warmup: bool) -> float:
    """Learning rate of step ``step`` (1-based): linear from lr/warmup_steps to lr, then constant; or lr throughout."""
    if not warmup:
        return cfg.lr
    return cfg.lr * min(1.0, step / cfg.warmup_steps)


def train(
    placement: str,
    depth: int,
    warmup: bool,
    cfg: LayerNormPlacementConfig,
    device: torch.device,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train one stack for ``cfg.steps`` Adam steps (stopping early if it diverges)."""
    model = build_model(placement, depth, cfg).to(device)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr_at(1, cfg, warmup))
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + depth)
    threshold = divergence_threshold(cfg.vocab)
    # Losses stay on the device between checks: a .item() per step would synchronise a GPU every step.
    pending: list[torch.Tensor] = []
    losses: list[float] = []
    diverged_at: int | None = None
    start = time.perf_counter()
    for step in range(1, cfg.steps + 1):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg, warmup)
        x, y = make_batch(cfg.batch, cfg.seq_len, cfg.vocab, gen)
        loss = task_loss(model, x.to(device), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        pending.append(loss.detach())
        if step % CHECK_EVERY == 0 or step == cfg.steps:
            chunk: list[float] = torch.stack(pending).cpu().tolist()
            pending.clear()
            bad = first_divergence(chunk, threshold)
            if bad is not None:
                losses.extend(chunk[: bad + 1])
                diverged_at = len(losses)
                break
            losses.extend(chunk)
        if on_step is not None:
            on_step(step)
    seconds = time.perf_counter() - start
    tail = losses[-max(1, cfg.steps // 10) :]
    return {
        "placement": placement,
        "depth": depth,
        "warmup": warmup,
        "diverged": diverged_at is not None,
        "diverged_at_step": diverged_at,
        # Mean training loss over the last tenth of the steps; none for a run that diverged.
        "final_loss": None if diverged_at is not None else sum(tail) / len(tail),
        "min_loss": min((v for v in losses if math.isfinite(v)), default=None),
        "steps_run": len(losses),
        "train_seconds": seconds,
        "curve": _curve(losses, cfg.steps),
    }


def _finite_or_none(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _curve(losses: list[float], steps: int) -> dict[str, list[Any]]:
    """About CURVE_POINTS points of the loss curve (steps 1-based), always including the last one run.

    A NaN or infinite loss is stored as None: JSON has no NaN, and the step is in ``diverged_at_step``.
    """
    every = max(1, steps // CURVE_POINTS)
    idx = list(range(0, len(losses), every))
    if losses and idx[-1] != len(losses) - 1:
        idx.append(len(losses) - 1)
    return {"step": [i + 1 for i in idx], "loss": [_finite_or_none(losses[i]) for i in idx]}


# --------------------------------------------------------------------------- the run

COLUMNS = [
    "Placement",
    "Layers",
    "Schedule",
    "Final training loss",
    "Diverged at step",
    "Top-layer gradient norm at init",
    "Bottom-layer gradient norm at init",
]


def run_label(placement: str, warmup: bool) -> str:
    return f"{PLACEMENT_LABELS[placement]}, {WARMUP_LABELS[warmup]}"


@in_config_threads
def run(config: LayerNormPlacementConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Measure the initial gradients and train every (placement, depth, schedule); return the JSON-able result."""
    cfg = config
    track, device, env = begin_run(cfg.device, progress)
    track(0.0, "starting")
    placements = tuple(PLACEMENT_LABELS)
    grad_norms: dict[str, dict[str, list[float]]] = {p: {} for p in placements}
    for p in placements:
        for depth in cfg.depths:
            grad_norms[p][str(depth)] = init_gradient_norms(p, depth, cfg, device)
            track(0.02, f"{PLACEMENT_LABELS[p]}, {depth} layers: gradients at initialisation")

    # Progress weighted by work: a step costs roughly the depth.
    jobs = [(p, depth, warmup) for depth in cfg.depths for p in placements for warmup in (True, False)]
    total = float(sum(depth for _, depth, _ in jobs) * cfg.steps)
    done = 0.0
    report_every = max(1, cfg.steps // 10)
    runs = []
    for placement, depth, warmup in jobs:
        label = f"{run_label(placement, warmup)}, {depth} layers"

        def on_step(step: int, base: float = done, depth: int = depth, label: str = label) -> None:
            if step % report_every == 0 and step < cfg.steps:
                track(0.02 + 0.97 * (base + depth * step) / total, f"{label}: step {step}")

        r = train(placement, depth, warmup, cfg, device, on_step)
        runs.append(r)
        done += depth * cfg.steps
        outcome = f"diverged at step {r['diverged_at_step']}" if r["diverged"] else f"final loss {r['final_loss']:.3f}"
        track(0.02 + 0.97 * done / total, f"{label}: {outcome}")

    rows = [
        [
            PLACEMENT_LABELS[r["placement"]],
            r["depth"],
            WARMUP_LABELS[r["warmup"]],
            r["final_loss"],
            r["diverged_at_step"],
            grad_norms[r["placement"]][str(r["depth"])][-1],
            grad_norms[r["placement"]][str(r["depth"])][0],
        ]
        for r in runs
    ]
    result = {
        "experiment": "layer-norm-placement",
        "environment": {**env, "load_avg_1m_end": load_average()},
        "params": {**config_to_dict(cfg), "device": str(device)},
        "depths": list(cfg.depths),
        "placement_labels": dict(PLACEMENT_LABELS),
        "init_grad_norms": grad_norms,
        "runs": runs,
        "uniform_loss": math.log(cfg.vocab),
        "divergence_threshold": divergence_threshold(cfg.vocab),
        "claims": dict(CLAIMS),
        "table": {"columns": COLUMNS, "rows": rows},
        "summary": summarise(cfg, grad_norms, runs),
        "notes": notes_for(cfg, device),
    }
    result["notes"].extend(small_ops_run_notes(result["environment"]))
    track.done("done")
    return result


def summarise(
    cfg: LayerNormPlacementConfig, grad_norms: dict[str, dict[str, list[float]]], runs: list[dict[str, Any]]
) -> dict[str, Any]:
    """Top-layer gradients against depth, and each run's outcome, keyed by the human labels."""
    top = {PLACEMENT_LABELS[p]: {str(d): g[str(d)][-1] for d in cfg.depths} for p, g in grad_norms.items()}
    shallow, deep = str(min(cfg.depths)), str(max(cfg.depths))
    outcomes: dict[str, dict[str, Any]] = {}
    for r in runs:
        outcomes.setdefault(run_label(r["placement"], r["warmup"]), {})[str(r["depth"])] = (
            {"diverged_at_step": r["diverged_at_step"]} if r["diverged"] else {"final_loss": r["final_loss"]}
        )
    return {
        "top_layer_grad_norm_at_init": top,
        # How the top layer's gradient changes from the shallowest to the deepest stack (1/sqrt(L) would give
        # sqrt(L_min / L_max)).
        "top_layer_deep_over_shallow": {
            label: (t[deep] / t[shallow] if t[shallow] else None) for label, t in top.items()
        },
        "one_over_sqrt_depth_ratio": math.sqrt(min(cfg.depths) / max(cfg.depths)),
        "runs": outcomes,
        "diverged": [f"{run_label(r['placement'], r['warmup'])}, {r['depth']} layers" for r in runs if r["diverged"]],
        # Runs that ended no better than 90 % of a uniform guess's loss: they did not learn, without blowing up.
        "stuck_near_uniform": [
            f"{run_label(r['placement'], r['warmup'])}, {r['depth']} layers"
            for r in runs
            if r["final_loss"] is not None and r["final_loss"] > STUCK_FRACTION * math.log(cfg.vocab)
        ],
        "uniform_loss": math.log(cfg.vocab),
    }


def notes_for(cfg: LayerNormPlacementConfig, device: torch.device) -> list[str]:
    """How it was measured, and what it does not show."""
    return [
        f"Task: {cfg.seq_len} random tokens from {cfg.vocab}; the label at each position is the previous token "
        "(the first position: itself). Guessing uniformly gives a loss of ln {cfg.vocab} = {math.log(cfg.vocab):.2f}; "
        "a model that has learnt the task gets close to 0.",
        f"Every run: {cfg.steps} Adam steps of {cfg.batch} fresh sequences, d_model {cfg.d_model}, {cfg.heads} "
        f"heads, FFN 4 x d_model, no dropout, no gradient clipping, peak learning rate {cfg.lr:g}. With warm-up "
        f"the rate rises linearly over the first {cfg.warmup_steps} steps; without, it is {cfg.lr:g} from step 1. "
        "Both schedules of a (placement, depth) start from the same weights and see the same batches.",
        "Final training loss = mean over the last tenth of the steps. A run is marked diverged at the first step "
        f"whose loss is NaN, infinite or above {DIVERGENCE_FACTOR:g} x ln {cfg.vocab} "
        f"= {divergence_threshold(cfg.vocab):.2f}, and stopped there. A run that ends above "
        f"{STUCK_FRACTION:g} x ln {cfg.vocab} did not diverge but learnt next to nothing (summary: stuck).",
        "Gradient norm at initialisation: the norm of the gradient of all of one layer's parameters (attention, "
        "FFN, LayerNorms) after one backward pass on one batch, for the initial weights that both schedules "
        "share. Layer 1 is the bottom layer (next to the embedding).",
        f"One seed ({cfg.seed}) and one small task on {device}: whether a given learning rate diverges depends on "
        "the width, depth, task and optimizer, so a run that trains fine here says nothing about a large model "
        "at the same rate. Try a larger lr to see where each placement breaks.",
    ]
