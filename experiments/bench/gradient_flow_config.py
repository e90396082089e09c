"""The gradient-flow experiment's parameters and model sets (see ``gradient_flow.py`` for what it measures).

No torch here: the web process reads this to build the form and validate a run's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from experiments.bench.memory import F32, FIXED_ALLOWANCE, sequential_peak, transformer_layer_params
from experiments.bench.params import cpu_threads_param, device_param, param

MODEL_LABELS = {
    "rnn": "RNN (tanh)",
    "lstm": "LSTM (default init)",
    "lstm_fb1": "LSTM, forget bias +1",
    "lstm_fb3": "LSTM, forget bias +3",
    "gru": "GRU",
    "transformer": "Transformer (causal, sinusoidal PE)",
}
# The words the chart and the data table use (experiments/bench/tables.py).
COLUMN_LABELS = {
    "model": "Model",
    "distance": "Distance from the last token (tokens)",
    "median_ratio": "Gradient ratio, median",
    "q25_ratio": "Gradient ratio, 25th percentile",
    "q75_ratio": "Gradient ratio, 75th percentile",
    "zero_fraction": "Share of exact zeros",
}
MODEL_SETS = {
    "all": tuple(MODEL_LABELS),
    "recurrent": ("rnn", "lstm", "lstm_fb1", "lstm_fb3", "gru"),
    "rnn_vs_transformer": ("rnn", "transformer"),
    **{name: (name,) for name in MODEL_LABELS},
}


@dataclass(frozen=True)
class GradientFlowConfig:
    """Parameters; the defaults run in well under 15 s on 2 CPU cores."""

    TABLE_LABELS: ClassVar[dict[str, str]] = COLUMN_LABELS
    TABLE_VALUE_LABELS: ClassVar[dict[str, dict[str, str]]] = {"model": MODEL_LABELS}

    seq_len: int = param("int", 200, min=2, max=1000, cuda_max=4000, help="Sequence length T.")
    hidden: int = param("int", 64, min=8, max=256, cuda_max=1024, help="Input and hidden size d.")
    samples: int = param("int", 32, min=1, max=256, cuda_max=1024, help="Random input sequences per seed.")
    seeds: int = param("int", 3, min=1, max=10, help="Independently initialised models per architecture.")
    models: str = param(
        "choice", "all", choices=list(MODEL_SETS), help="Which models to measure (a set or a single one)."
    )
    heads: int = param("int", 4, min=1, max=16, help="Transformer attention heads (must divide hidden).")
    transformer_layers: int = param("int", 2, min=1, max=6, help="Transformer encoder layers.")
    threads: int = cpu_threads_param()
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Base random seed.")
    device: str = device_param()

    MEMORY_HINT = "lower the number of samples or the sequence length"

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak of one run: the costliest selected model's forward + backward on one seed's inputs.

        Seeds and models run one after another: the worst model counts, plus on a CPU what the allocator keeps
        of the one before (``memory.sequential_peak``).  Every model holds the input,
        its leaf copy and the input gradient; a recurrent model keeps its per-step states and gates (about 5
        values per hidden unit and step for the tanh RNN, 13-15 for the gated cells); the Transformer keeps per
        layer its projections and feed-forward activations, plus the causal mask and positional table.  The
        per-position ratios of all seeds are kept on the host in float64, with the copies the percentiles make.
        """
        b, t, d = self.samples, self.seq_len, self.hidden
        tokens = b * t
        inputs = 3 * F32 * tokens * d
        per_model = {"rnn": 5, "lstm": 15, "lstm_fb1": 15, "lstm_fb3": 15, "gru": 13}
        costs = [F32 * (per_model[name] + 1) * tokens * d for name in MODEL_SETS[self.models] if name in per_model]
        if "transformer" in MODEL_SETS[self.models]:
            # Causal attention without dropout takes PyTorch's fused (flash / memory-efficient) kernels, which
            # never hold the n x n scores: per head and position only a log-sum-exp is kept.
            weights = F32 * self.transformer_layers * transformer_layer_params(d, 4 * d)
            layer = F32 * (tokens * 20 * d + b * self.heads * t)
            table = F32 * (t * t + t * d)
            costs.append(weights + table + self.transformer_layers * layer + F32 * tokens * 8 * d)
        peak = inputs + sequential_peak(costs, device_class)
        host = 3 * 8 * self.seeds * b * t if device_class == "cpu" else 0
        return int(peak + host + FIXED_ALLOWANCE[device_class])

    def check(self) -> dict[str, str]:
        if self.hidden % self.heads:
            return {"heads": f"must divide hidden ({self.hidden}); got {self.heads}"}
        return {}
