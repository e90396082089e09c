"""The sequence-latency experiment's parameters (see ``sequence_latency.py`` for what it measures).

No torch here: the web process reads this to build the form and validate a run's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from experiments.bench.memory import (
    F32,
    FIXED_ALLOWANCE,
    attention_scores,
    lstm_layer_params,
    transformer_layer_params,
)
from experiments.bench.params import device_param, param

MAX_POSITIONS = 5000  # the seed's learned positional parameter is (1, 5000, hidden)
D_FF = 2048  # nn.TransformerEncoderLayer's default dim_feedforward, as in the seed
# The words the chart and the data table use (experiments/bench/tables.py).
MODEL_LABELS = {"lstm": "LSTM", "transformer": "Transformer"}
COLUMN_LABELS = {
    "model": "Model",
    "batch": "Batch size",
    "seq_len": "Sequence length (tokens)",
    "median_ms": "Median time per call (ms)",
    "q25_ms": "25th percentile (ms)",
    "q75_ms": "75th percentile (ms)",
    "iqr_ms": "IQR (ms)",
    "tokens_per_s": "Tokens per second",
    "peak_mem_mb": "Peak memory (MiB)",
    "gflop": "GFLOP per call",
    "gflop_per_s": "GFLOP/s",
    "frac_of_peak": "Share of GEMM peak",
    "blocks": "Timed blocks",
}


@dataclass(frozen=True)
class SequenceLatencyConfig:
    """Parameters; CPU defaults are scaled down so a run takes ~20 s on 2 cores."""

    TABLE_LABELS: ClassVar[dict[str, str]] = COLUMN_LABELS
    TABLE_VALUE_LABELS: ClassVar[dict[str, dict[str, str]]] = {"model": MODEL_LABELS}

    hidden: int = param("int", 512, min=16, max=1024, cuda_max=2048, help="Embedding / hidden / d_model size.")
    heads: int = param("int", 8, min=1, max=32, help="Attention heads (must divide hidden).")
    rnn_layers: int = param("int", 2, cuda=1, min=1, max=4, cuda_max=8, help="Stacked LSTM layers (seed: 1).")
    transformer_layers: int = param(
        "int", 6, min=1, max=6, cuda_max=24, help="TransformerEncoderLayer count (seed: 6)."
    )
    vocab: int = param("int", 10000, min=16, max=50000, help="Vocabulary size of the embedding and output layer.")
    batch_sizes: tuple[int, ...] = param(
        "int_list", [1, 8], cuda=[1, 32], min=1, max=32, cuda_max=256, max_items=6, help="Batch sizes to measure."
    )
    seq_lens: tuple[int, ...] = param(
        "int_list",
        [10, 50, 100, 200],
        cuda=[10, 50, 100, 200, 500, 1000],
        min=2,
        max=1000,
        cuda_max=MAX_POSITIONS,
        max_items=8,
        help="Sequence lengths to measure.",
    )
    mode: str = param(
        "choice",
        "inference",
        choices=["inference", "train"],
        help="inference: eval() + inference_mode(); train: forward + backward of a cross-entropy loss (~3x slower).",
    )
    min_run_time: float = param(
        "float", 0.2, min=0.05, max=2.0, help="Seconds of timed blocks per point (torch Timer.blocked_autorange)."
    )
    gemm_size: int = param(
        "int",
        2048,
        cuda=8192,
        min=64,
        max=4096,
        cuda_max=16384,
        help="n of the n x n x n fp32 matmul measured as the device's practical peak FLOP/s.",
    )
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Random seed for weights and inputs.")
    device: str = device_param()

    MEMORY_HINT = "lower the batch size or the sequence length (or use inference mode)"

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak of one run: both models' weights (and gradients in train mode) plus the largest point.

        Points run one model at a time and memory only grows with batch and length, so the largest batch at the
        longest length is the worst point.  Train mode keeps, per encoder layer, the softmaxed scores, the
        dropout mask and the dropped scores (about 12 bytes per score) and the feed-forward activations, and the
        backward of a layer needs as much again for its gradients; the cross-entropy over the vocabulary holds
        logits, log-softmax and two gradients of the same size.  Inference holds one layer's scores at a time.
        """
        d, v, b, t = self.hidden, self.vocab, max(self.batch_sizes), max(self.seq_lens)
        lstm = 2 * v * d + v + sum(lstm_layer_params(d, d) for _ in range(self.rnn_layers))
        transformer = 2 * v * d + v + MAX_POSITIONS * d + self.transformer_layers * transformer_layer_params(d, D_FF)
        weights = F32 * (lstm + transformer)
        scores = attention_scores(b, self.heads, t)
        tokens = b * t
        if self.mode == "train":
            layer_kept = 12 * scores + F32 * tokens * (3 * D_FF + 14 * d)
            layer_backward = 12 * scores + F32 * tokens * 2 * D_FF
            tf = self.transformer_layers * layer_kept + layer_backward
            rnn = self.rnn_layers * F32 * 12 * tokens * d
            logits = 4 * F32 * tokens * v
            work = 2 * weights + max(tf, rnn) + logits
        else:
            tf = F32 * (scores + tokens * (D_FF + 6 * d))
            rnn = F32 * 6 * tokens * d
            work = weights + max(tf, rnn) + F32 * tokens * v
        gemm = weights + 3 * F32 * self.gemm_size**2  # the peak-FLOP/s matmul: two operands and the product
        return int(max(work, gemm) + FIXED_ALLOWANCE[device_class])

    def check(self) -> dict[str, str]:
        """Cross-field constraints that single-field bounds cannot express."""
        errors = {}
        if self.hidden % self.heads:
            errors["heads"] = f"must divide hidden ({self.hidden}); got {self.heads}"
        return errors
