"""Long-range recall: can the model learn to use a token d steps back?

Vanishing gradients (see ``gradient_flow``) predict a behaviour: with a fixed training
budget, a recurrent model should fail to learn a dependency once it is far enough in
the past, while attention, which connects any two positions directly, should not care
about the distance.  This experiment trains tiny models on a synthetic task and
measures exactly that.

Task, for a distance d (sequence length d + 1)::

    position 0        : a "value" token v, one of K=8          <- must be remembered
    positions 1..d-1  : random distractor tokens (8 kinds)
    position d        : a query token "?"                       <- predict v here

Label: v.  Chance accuracy: 1/K.  Training data are fresh random batches every step
(no overfitting possible); test accuracy is on 1000 held-out sequences.  Every model
gets the same budget: the same number of Adam steps, batch size and learning rate.

Models: embedding -> {tanh RNN, LSTM, causal Transformer with sinusoidal positions}
-> linear read-out of the last position.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench.common import (
    CausalTransformer,
    Progress,
    begin_run,
    in_config_threads,
    load_average,
    seed_everything,
    small_ops_run_notes,
)
from experiments.bench.long_range_recall_config import COLUMN_LABELS, MODEL_LABELS, TEST_SIZE, LongRangeRecallConfig
from experiments.bench.params import config_to_dict
from experiments.bench.tables import labelled_table

NUM_VALUES = 8  # K: label classes, chance = 1/K
NUM_DISTRACTORS = 8
QUERY = NUM_VALUES + NUM_DISTRACTORS  # token id of "?"
VOCAB = QUERY + 1


# ------------------------------------------------------------------------------- data


def make_batch(batch: int, distance: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` sequences of length ``distance + 1`` and their labels (the value token)."""
    values = torch.randint(0, NUM_VALUES, (batch,), generator=gen)
    x = torch.randint(NUM_VALUES, NUM_VALUES + NUM_DISTRACTORS, (batch, distance + 1), generator=gen)
    x[:, 0] = values
    x[:, -1] = QUERY
    return x, values


# ----------------------------------------------------------------------------- models


class RecallModel(nn.Module):
    """Embedding -> sequence core -> linear read-out at the last position."""

    def __init__(self, kind: str, hidden: int, max_len: int, transformer_layers: int = 1) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, hidden)
        if kind == "rnn":
            self.core: nn.Module = nn.RNN(hidden, hidden, nonlinearity="tanh", batch_first=True)
        elif kind == "lstm":
            self.core = nn.LSTM(hidden, hidden, batch_first=True)
        elif kind == "transformer":
            self.core = CausalTransformer(
                hidden, heads=4 if hidden % 4 == 0 else 1, layers=transformer_layers, max_len=max_len
            )
        else:
            raise KeyError(kind)
        self.readout = nn.Linear(hidden, NUM_VALUES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.core(self.embedding(x))
        if isinstance(out, tuple):
            out = out[0]
        return self.readout(out[:, -1])


def train_and_test(
    kind: str, distance: int, cfg: LongRangeRecallConfig, device: torch.device, on_step: Any = None
) -> dict[str, Any]:
    """Train one model for ``cfg.steps`` steps at one distance; return test accuracy and curve."""
    seed_everything(cfg.seed)
    model = RecallModel(kind, cfg.hidden, max_len=distance + 1, transformer_layers=cfg.transformer_layers).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + distance)
    # Per-step loss and accuracy stay on the device (no .item() per step: on a GPU that
    # would synchronise every step); they are read once, after training.
    losses_t: list[torch.Tensor] = []
    correct_t: list[torch.Tensor] = []
    start = time.perf_counter()
    model.train()
    for step in range(cfg.steps):
        x, y = make_batch(cfg.batch, distance, gen)
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses_t.append(loss.detach())
        correct_t.append((logits.detach().argmax(-1) == y).sum())
        if on_step is not None:
            on_step(step + 1)
    losses: list[float] = torch.stack(losses_t).cpu().tolist()
    accs: list[float] = (torch.stack(correct_t).float() / cfg.batch).cpu().tolist()
    train_s = time.perf_counter() - start
    # first step at which the last 20 training batches averaged >= 95 % accuracy
    solved_at = next((s + 1 for s in range(19, len(accs)) if sum(accs[s - 19 : s + 1]) / 20 >= 0.95), None)
    model.eval()
    test_gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1_000_003 + distance)
    x, y = make_batch(TEST_SIZE, distance, test_gen)
    with torch.inference_mode():
        acc = (model(x.to(device)).argmax(-1).cpu() == y).float().mean().item()
    every = max(1, cfg.steps // 50)
    return {
        "test_accuracy": acc,
        "final_train_loss": sum(losses[-20:]) / len(losses[-20:]),
        "steps_to_95pct_train_acc": solved_at,
        "train_seconds": train_s,
        "loss_curve": {"step": list(range(1, cfg.steps + 1, every)), "loss": losses[::every]},
    }


# --------------------------------------------------------------------------- the run

COLUMNS = ["model", "distance", "test_accuracy", "chance", "final_train_loss", "steps_to_95pct_train_acc", "train_s"]


@in_config_threads
def run(config: LongRangeRecallConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Train every selected model at every distance; return the JSON-able result."""
    cfg = config
    track, device, env = begin_run(cfg.device, progress)
    names = cfg.model_names()
    jobs = [(name, d) for name in names for d in cfg.distances]
    # Progress weighted by work: a step costs roughly the sequence length.
    weights = [(d + 1) * cfg.steps for _, d in jobs]
    total = float(sum(weights))
    track(0.0, "starting")
    done = 0.0
    runs: dict[str, dict[str, Any]] = {name: {} for name in names}
    rows = []
    report_every = max(1, cfg.steps // 10)
    for (name, d), w in zip(jobs, weights, strict=True):

        def on_step(step: int, name: str = name, d: int = d, base: float = done, w: float = w) -> None:
            if step % report_every == 0 and step < cfg.steps:
                track(0.99 * (base + w * step / cfg.steps) / total, f"{MODEL_LABELS[name]}, d={d}: step {step}")

        r = train_and_test(name, d, cfg, device, on_step)
        runs[name][str(d)] = r
        rows.append(
            [
                name,
                d,
                r["test_accuracy"],
                1.0 / NUM_VALUES,
                r["final_train_loss"],
                r["steps_to_95pct_train_acc"],
                r["train_seconds"],
            ]
        )
        done += w
        track(0.99 * done / total, f"{MODEL_LABELS[name]}, d={d}: test accuracy {r['test_accuracy']:.3f}")

    accuracy = {name: [runs[name][str(d)]["test_accuracy"] for d in cfg.distances] for name in names}
    result = {
        "experiment": "long-range-recall",
        "environment": {**env, "load_avg_1m_end": load_average()},
        "params": {**config_to_dict(cfg), "device": str(device), "models_resolved": list(names)},
        "distances": list(cfg.distances),
        "chance": 1.0 / NUM_VALUES,
        "accuracy": accuracy,
        "model_labels": {n: MODEL_LABELS[n] for n in names},
        "runs": runs,
        "table": labelled_table(COLUMNS, rows, column_labels=COLUMN_LABELS, value_labels={"model": MODEL_LABELS}),
        "summary": summarise(cfg, accuracy),
        "notes": [
            f"Task: value token (1 of {NUM_VALUES}) at position 0, d-1 random distractors, query at "
            f"position d; predict the value. Chance = 1/{NUM_VALUES} = {1 / NUM_VALUES:.3f}.",
            f"Same budget for every model: {cfg.steps} Adam steps (lr {cfg.lr:g}, grad-norm clip 1.0) of "
            f"{cfg.batch} fresh random sequences; test accuracy on {TEST_SIZE} held-out sequences.",
            "A fixed small budget is the point: a recurrent model might learn longer distances with "
            "far more steps or tuning; the chart shows what the same budget buys each architecture.",
        ],
    }
    result["notes"].extend(small_ops_run_notes(result["environment"]))
    track.done("done")
    return result


def summarise(cfg: LongRangeRecallConfig, accuracy: dict[str, list[float]]) -> dict[str, Any]:
    """Accuracy per model and distance, and the largest distance each model solved (>= 90 %)."""
    solved = {
        name: max((d for d, a in zip(cfg.distances, accs, strict=True) if a >= 0.9), default=None)
        for name, accs in accuracy.items()
    }
    return {
        "chance": 1.0 / NUM_VALUES,
        "accuracy": {name: dict(zip(map(str, cfg.distances), accs, strict=True)) for name, accs in accuracy.items()},
        "largest_distance_solved_90pct": solved,
    }
