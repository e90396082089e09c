"""Sequence latency: does an LSTM really get slower than a Transformer as sequences grow?

The seed lesson ("The Problem With RNNs") benchmarks an LSTM language model against a
6-layer Transformer encoder and prints "typical results (on GPU)".  This experiment runs
the *same two models* and measures them properly:

* ``torch.utils.benchmark.Timer`` with the real thread count, explicit warm-up and
  CUDA synchronisation (see ``common.measure``);
* median and IQR per (model, batch size, length), tokens/s and peak memory;
* achieved FLOP/s from an analytic FLOP count, as a fraction of the practical peak of
  the same device (a large square GEMM measured in the same run);
* the scaling exponent k of time ~ length^k per model and batch (log-log fit), and the
  batch size at which the faster model changes, if it does.

The lesson's printed numbers are kept in ``SEED_CLAIMS``: they are the seed's claim,
not something we measured, and the chart labels them that way.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench.common import (
    PeakMemory,
    Progress,
    begin_run,
    contention_note,
    fit_power_law,
    gemm_peak_flops,
    load_average,
    measure,
    seed_everything,
    sync_for,
)
from experiments.bench.params import config_to_dict
from experiments.bench.sequence_latency_config import (
    COLUMN_LABELS,
    D_FF,
    MAX_POSITIONS,
    MODEL_LABELS,
    SequenceLatencyConfig,
)
from experiments.bench.tables import labelled_table

# The seed lesson's "Typical results (on GPU)" comment, verbatim: batch 32, hidden 512,
# vocab 10000, 1-layer LSTM vs 6-layer TransformerEncoder, inference, GPU unspecified.
SEED_CLAIMS: dict[str, Any] = {
    "label": "lesson claims (seed, GPU)",
    "source": "seed lesson 'The Problem With RNNs', benchmark listing, '# Typical results (on GPU)'",
    "is_measurement": False,
    "batch_size": 32,
    "seq_lens": [10, 50, 100, 200, 500, 1000],
    "lstm_ms": [2.34, 8.92, 17.56, 34.78, 86.34, 172.89],
    "transformer_ms": [3.12, 4.23, 5.67, 9.34, 28.45, 89.23],
}

MODELS = ("lstm", "transformer")


# ----------------------------------------------------------------------------- models
# The seed's two models, with its globals (vocab_size, hidden_size) turned into arguments.


class BenchmarkRNN(nn.Module):
    """Seed: Embedding -> nn.LSTM -> Linear to vocab (``num_layers`` added, seed uses 1)."""

    def __init__(self, vocab_size: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.rnn = nn.LSTM(hidden_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        emb = self.embedding(x)
        output, _ = self.rnn(emb)  # Sequential processing!
        return self.fc(output)


class BenchmarkTransformer(nn.Module):
    """Seed: Embedding + learned positions -> TransformerEncoder -> Linear to vocab."""

    def __init__(self, vocab_size: int, hidden_size: int, nhead: int = 8, num_layers: int = 6) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.pos_encoding = nn.Parameter(torch.randn(1, MAX_POSITIONS, hidden_size))
        encoder_layer = nn.TransformerEncoderLayer(d_model=hidden_size, nhead=nhead, batch_first=True)
        self.transformer = nn.TransformerEncoder(encoder_layer, num_layers=num_layers, enable_nested_tensor=False)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq_len = x.size(1)
        emb = self.embedding(x) + self.pos_encoding[:, :seq_len, :]
        output = self.transformer(emb)  # Parallel processing!
        return self.fc(output)


def build_models(cfg: SequenceLatencyConfig, device: torch.device) -> dict[str, nn.Module]:
    """Both models, seeded, on ``device``, in eval() or train() mode as ``cfg.mode`` says."""
    seed_everything(cfg.seed)
    models = {
        "lstm": BenchmarkRNN(cfg.vocab, cfg.hidden, cfg.rnn_layers),
        "transformer": BenchmarkTransformer(cfg.vocab, cfg.hidden, cfg.heads, cfg.transformer_layers),
    }
    for m in models.values():
        m.to(device).train(cfg.mode == "train")
    return models


# ---------------------------------------------------------------------- FLOP counting


def transformer_flops(cfg: SequenceLatencyConfig, batch: int, length: int) -> float:
    """Analytic FLOPs of one forward (x3 for forward+backward), matmuls only.

    Per layer: Q,K,V and output projections 8*B*T*d^2; scores + weighted sum 4*B*T^2*d;
    FFN 4*B*T*d*d_ff.  Plus the output Linear 2*B*T*d*vocab (embeddings are lookups).
    """
    b, t, d = batch, length, cfg.hidden
    per_layer = 8 * b * t * d * d + 4 * b * t * t * d + 4 * b * t * d * D_FF
    total = cfg.transformer_layers * per_layer + 2 * b * t * d * cfg.vocab
    return float(total * (3 if cfg.mode == "train" else 1))


def lstm_flops(cfg: SequenceLatencyConfig, batch: int, length: int) -> float:
    """Analytic LSTM FLOPs: 4 gates x (input + recurrent) matmuls per layer, plus output Linear."""
    b, t, h = batch, length, cfg.hidden
    per_layer = 2 * b * t * 4 * h * (h + h)
    total = cfg.rnn_layers * per_layer + 2 * b * t * h * cfg.vocab
    return float(total * (3 if cfg.mode == "train" else 1))


# --------------------------------------------------------------------------- the run


def make_step(model: nn.Module, x: torch.Tensor, mode: str, vocab: int) -> Any:
    """The statement being timed: one inference forward, or one training forward+backward."""
    if mode == "inference":

        def step() -> None:
            with torch.inference_mode():
                model(x)

        return step
    target = torch.randint(0, vocab, x.shape, device=x.device)

    def train_step() -> None:
        model.zero_grad(set_to_none=True)
        logits = model(x)
        F.cross_entropy(logits.reshape(-1, vocab), target.reshape(-1)).backward()

    return train_step


COLUMNS = [
    "model",
    "batch",
    "seq_len",
    "median_ms",
    "q25_ms",
    "q75_ms",
    "iqr_ms",
    "tokens_per_s",
    "peak_mem_mb",
    "gflop",
    "gflop_per_s",
    "frac_of_peak",
    "blocks",
]


def run(config: SequenceLatencyConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Measure both models at every (batch, length); return the JSON-able result dict."""
    cfg = config
    track, device, env = begin_run(cfg.device, progress)
    sync = sync_for(device)
    models = build_models(cfg, device)
    points = [(b, t) for b in cfg.batch_sizes for t in cfg.seq_lens]
    total = len(points) * len(MODELS) + 1
    done = 0
    track(0.0, "measuring the device's GEMM peak")
    peak = gemm_peak_flops(device, cfg.gemm_size, min_run_time=cfg.min_run_time)
    done += 1
    track(done / total * 0.99, f"GEMM peak {peak['flops_per_s'] / 1e9:.1f} GFLOP/s")

    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    rows: list[list[Any]] = []
    mem = PeakMemory(device)
    for batch, length in points:
        x = torch.randint(0, cfg.vocab, (batch, length), generator=gen).to(device)
        for name in MODELS:  # both models back to back at each point: drift hits both alike
            step = make_step(models[name], x, cfg.mode, cfg.vocab)
            timing = measure(step, sync=sync, min_run_time=cfg.min_run_time, first_call=lambda s=step: mem(s))
            flop = (transformer_flops if name == "transformer" else lstm_flops)(cfg, batch, length)
            rows.append(
                [
                    name,
                    batch,
                    length,
                    timing.median * 1e3,
                    timing.q25 * 1e3,
                    timing.q75 * 1e3,
                    timing.iqr * 1e3,
                    batch * length / timing.median,
                    None if mem.peak_bytes is None else mem.peak_bytes / 2**20,
                    flop / 1e9,
                    flop / timing.median / 1e9,
                    flop / timing.median / peak["flops_per_s"],
                    timing.blocks,
                ]
            )
            done += 1
            track(
                done / total * 0.99,
                f"{name} batch {batch} length {length}: {timing.median * 1e3:.2f} ms",
            )
        if device.type == "cuda":
            torch.cuda.empty_cache()

    result = {
        "experiment": "sequence-latency",
        "environment": {**env, "load_avg_1m_end": load_average()},
        "params": {**config_to_dict(cfg), "device": str(device), "d_ff": D_FF},
        "table": labelled_table(COLUMNS, rows, column_labels=COLUMN_LABELS, value_labels={"model": MODEL_LABELS}),
        "summary": summarise(cfg, rows, peak),
        "gemm_peak": peak,
        "seed_claims": SEED_CLAIMS,
        "scaled_down": differs_from_seed(cfg),
        "memory_method": mem.method,
        "notes": notes_for(cfg, device),
    }
    note = contention_note(result["environment"])
    if note:
        result["notes"].append(note)
    track.done("done")
    return result


def summarise(cfg: SequenceLatencyConfig, rows: list[list[Any]], peak: dict[str, Any]) -> dict[str, Any]:
    """Key figures: LSTM/Transformer time ratios, scaling exponents, winner flip, peak use."""
    ms = {(r[0], r[1], r[2]): r[COLUMNS.index("median_ms")] for r in rows}
    ratios = {
        str(b): {str(t): ms[("lstm", b, t)] / ms[("transformer", b, t)] for t in cfg.seq_lens} for b in cfg.batch_sizes
    }
    exponents: dict[str, dict[str, float | None]] = {}
    for name in MODELS:
        exponents[name] = {}
        for b in cfg.batch_sizes:
            times = [ms[(name, b, t)] for t in cfg.seq_lens]
            exponents[name][str(b)] = fit_power_law(cfg.seq_lens, times)
    tail = cfg.seq_lens[-3:]
    tail_exponents = {
        name: {str(b): fit_power_law(tail, [ms[(name, b, t)] for t in tail]) for b in cfg.batch_sizes}
        for name in MODELS
    }
    # For each length: the faster model at each batch size, and the first batch where it
    # differs from the faster model at the smallest batch.
    winners = {
        str(t): {str(b): ("lstm" if ratios[str(b)][str(t)] < 1 else "transformer") for b in cfg.batch_sizes}
        for t in cfg.seq_lens
    }
    flip: dict[str, int | None] = {}
    for t in cfg.seq_lens:
        first = winners[str(t)][str(cfg.batch_sizes[0])]
        flip[str(t)] = next((b for b in cfg.batch_sizes if winners[str(t)][str(b)] != first), None)
    rate, frac = COLUMNS.index("gflop_per_s"), COLUMNS.index("frac_of_peak")
    best_tf = max((r for r in rows if r[0] == "transformer"), key=lambda r: r[rate])
    best_lstm = max((r for r in rows if r[0] == "lstm"), key=lambda r: r[rate])
    return {
        "ratio_lstm_over_transformer": ratios,
        "ratio_range_by_batch": {
            str(b): [min(ratios[str(b)].values()), max(ratios[str(b)].values())] for b in cfg.batch_sizes
        },
        "winner": winners,
        "winner_flips_at_batch": flip,
        "scaling_exponent": exponents,
        "scaling_exponent_longest3": tail_exponents,
        "peak_gflop_per_s": peak["flops_per_s"] / 1e9,
        "best_transformer_gflop_per_s": best_tf[rate],
        "best_transformer_frac_of_peak": best_tf[frac],
        "best_lstm_gflop_per_s": best_lstm[rate],
        "best_lstm_frac_of_peak": best_lstm[frac],
    }


def differs_from_seed(cfg: SequenceLatencyConfig) -> bool:
    """True when the model or workload sizes are not the seed's (the chart then says so)."""
    mine = (cfg.hidden, cfg.heads, cfg.rnn_layers, cfg.transformer_layers, cfg.vocab)
    return (
        mine != (512, 8, 1, 6, 10000)
        or tuple(cfg.seq_lens) != tuple(SEED_CLAIMS["seq_lens"])
        or 32 not in cfg.batch_sizes
    )


def notes_for(cfg: SequenceLatencyConfig, device: torch.device) -> list[str]:
    """Plain-language caveats shown under the chart."""
    notes = [
        "Seed claims are the lesson's printed 'typical results (on GPU)' for batch 32 — a claim, "
        "not a measurement from this run.",
        "FLOP/s are from an analytic count of matmul FLOPs (attention, projections, FFN, output "
        "layer; x3 for train), divided by the measured median time; the peak is a square fp32 GEMM "
        "measured in the same run with the same number of threads.",
        f"Timing: torch.utils.benchmark.Timer.blocked_autorange(min_run_time={cfg.min_run_time:g}) "
        f"with num_threads=torch.get_num_threads()={torch.get_num_threads()}, explicit warm-up, "
        "at least 3 blocks per point (for slow points min_run_time is raised to fit 3 calls); the IQR is "
        "over blocks.",
        "Peak memory: " + (PeakMemory(device).method),
    ]
    if cfg.mode == "inference":
        notes.append(
            "Inference uses model.eval() + torch.inference_mode(), so the Transformer layers take "
            "PyTorch's fused 'fast path' (as they would in deployment)."
        )
    else:
        notes.append("Train mode times forward + cross-entropy + backward (no optimiser step), dropout on.")
    if differs_from_seed(cfg):
        notes.append(
            "Sizes differ from the seed's (hidden 512, 8 heads, 1 LSTM layer, 6 Transformer layers, "
            f"vocab 10000, batch 32, lengths up to 1000): here hidden {cfg.hidden}, {cfg.heads} heads, "
            f"{cfg.rnn_layers} LSTM layer(s), {cfg.transformer_layers} Transformer layer(s), vocab "
            f"{cfg.vocab}, batch {list(cfg.batch_sizes)}, lengths {list(cfg.seq_lens)}"
            + (" — scaled down so the run finishes in ~20 s on a small CPU." if device.type == "cpu" else ".")
        )
    return notes
