"""The long-range-recall experiment's parameters (see ``long_range_recall.py`` for the task and the models).

No torch here: the web process reads this to build the form and validate a run's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from experiments.bench.memory import (
    F32,
    FIXED_ALLOWANCE,
    lstm_layer_params,
    sequential_peak,
    transformer_layer_params,
)
from experiments.bench.params import cpu_threads_param, device_param, param

MODEL_LABELS = {"rnn": "RNN (tanh)", "lstm": "LSTM", "transformer": "Transformer (causal)"}
TEST_SIZE = 1000  # held-out sequences scored after training
VOCAB = 17  # 8 values, 8 distractors and the query token
# The words the chart and the data table use (experiments/bench/tables.py).
COLUMN_LABELS = {
    "model": "Model",
    "distance": "Distance d (tokens)",
    "test_accuracy": "Test accuracy",
    "chance": "Chance",
    "final_train_loss": "Final training loss",
    "steps_to_95pct_train_acc": "Steps to 95 % training accuracy",
    "train_s": "Training time (s)",
}


@dataclass(frozen=True)
class LongRangeRecallConfig:
    """Parameters; the defaults train 3 models x 4 distances in well under 60 s on 2 CPU cores."""

    TABLE_LABELS: ClassVar[dict[str, str]] = COLUMN_LABELS
    TABLE_VALUE_LABELS: ClassVar[dict[str, dict[str, str]]] = {"model": MODEL_LABELS}

    distances: tuple[int, ...] = param(
        "int_list", [5, 10, 20, 50, 100], min=1, max=200, cuda_max=1000, max_items=6, help="Distances d to test."
    )
    steps: int = param("int", 200, cuda=1000, min=1, max=2000, cuda_max=20000, help="Adam steps per model and d.")
    hidden: int = param("int", 64, min=8, max=256, help="Embedding / hidden / d_model size.")
    batch: int = param("int", 32, cuda=64, min=1, max=256, cuda_max=1024, help="Training sequences per step.")
    transformer_layers: int = param("int", 1, min=1, max=4, help="Transformer encoder layers (heads: 4).")
    lr: float = param("float", 3e-3, min=1e-5, max=0.1, help="Adam learning rate (same for every model).")
    models: str = param(
        "choice",
        "all",
        choices=["all", "rnn", "lstm", "transformer", "rnn_vs_transformer"],
        help="Which models to train.",
    )
    threads: int = cpu_threads_param()
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Random seed (weights and data).")
    device: str = device_param()

    MEMORY_HINT = "lower the batch size or the largest distance"

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak of one run: the costliest model at the largest distance, training or testing.

        Models and distances are trained one after another: the worst model at the largest distance counts, plus
        on a CPU what the allocator keeps of the one before (``memory.sequential_peak``).  Training holds
        weights, gradients and Adam's two moments (4 copies of the parameters) and one batch's activations;
        testing scores all held-out sequences at once in inference mode.  The Transformer's causal attention
        runs on PyTorch's fused kernels while training (no n x n scores kept), but at test time the encoder's
        inference path materialises about 2.5 copies of one layer's scores for all held-out sequences.
        """
        h, b, n = self.hidden, self.batch, max(self.distances) + 1
        heads = 4 if h % 4 == 0 else 1
        costs = []
        for name in self.model_names():
            if name == "transformer":
                params = self.transformer_layers * transformer_layer_params(h, 4 * h)
                table = F32 * (n * n + n * h)
                train = self.transformer_layers * F32 * b * n * 30 * h + table
                test = F32 * TEST_SIZE * n * (5 * heads * n // 2 + 6 * h) + table
            else:
                params = lstm_layer_params(h, h) if name == "lstm" else h * (h + h) + 2 * h
                train = F32 * b * n * (16 if name == "lstm" else 6) * h
                test = F32 * TEST_SIZE * n * (5 if name == "lstm" else 4) * h
            weights = F32 * (params + VOCAB * h + h * 8)
            costs.append(4 * weights + max(train, test))
        return int(sequential_peak(costs, device_class) + FIXED_ALLOWANCE[device_class])

    def model_names(self) -> tuple[str, ...]:
        if self.models == "all":
            return tuple(MODEL_LABELS)
        if self.models == "rnn_vs_transformer":
            return ("rnn", "transformer")
        return (self.models,)
