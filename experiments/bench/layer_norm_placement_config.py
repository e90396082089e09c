"""The layer-norm-placement experiment's parameters (see ``layer_norm_placement.py`` for the task and the models).

No torch here: the web process reads this to build the form, validate a run's parameters and refuse a run
whose estimated memory does not fit the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.bench.params import cpu_threads_param, device_param, param

PLACEMENT_LABELS = {"post": "Post-LN", "pre": "Pre-LN"}
WARMUP_LABELS = {True: "with warm-up", False: "no warm-up"}

BYTES_PER_FLOAT = 4
# Fixed part of the estimate: on CPU, what any training run adds to the RSS of a process that has run one
# before (allocator arenas, the optimizer's bookkeeping); on CUDA, the cuBLAS workspace and allocator rounding.
# A process's very first run also pays a one-off ~90 MiB (kernel libraries loaded lazily), not counted here.
CPU_FIXED_BYTES = 4 * 2**20
CUDA_FIXED_BYTES = 16 * 2**20


@dataclass(frozen=True)
class LayerNormPlacementConfig:
    """Parameters; the defaults train 2 placements x 3 depths x 2 schedules in about 40 s of one CPU core.

    CUDA defaults (d 256, 64 x 64 tokens, 1000 steps, depths 2/6/12): about 6 x 0.8 M x 20 layers x 4096 tokens
    x 2 placements x 2 schedules x 1000 steps ~ 1.6e15 FLOP, i.e. under 10 s of matmul on an H100-class GPU; the
    ~80 k layer-steps are launch-bound at roughly 0.2-0.5 ms each, so 15-40 s in all. Peak memory by
    ``peak_memory_bytes``: about 1.6 GB (the 12-layer stack's activations for 4096 tokens).
    """

    depths: tuple[int, ...] = param(
        "int_list", [2, 6, 12], min=1, max=12, cuda_max=48, max_items=4, help="Stack depths (layers) to train."
    )
    d_model: int = param("int", 32, cuda=256, min=16, max=128, cuda_max=1024, help="Model width d.")
    heads: int = param("int", 4, min=1, max=16, help="Attention heads (must divide d_model).")
    seq_len: int = param("int", 8, cuda=64, min=4, max=64, cuda_max=512, help="Tokens per training sequence.")
    batch: int = param("int", 32, cuda=64, min=1, max=128, cuda_max=1024, help="Sequences per step.")
    steps: int = param("int", 200, cuda=1000, min=10, max=1000, cuda_max=5000, help="Adam steps per run.")
    lr: float = param("float", 1e-2, min=1e-5, max=1.0, help="Peak Adam learning rate (same for every run).")
    warmup_steps: int = param(
        "int", 50, cuda=300, min=1, max=1000, cuda_max=5000, help="Linear warm-up length of the warm-up runs."
    )
    vocab: int = param("int", 8, min=4, max=64, help="Token vocabulary size V of the task.")
    threads: int = cpu_threads_param()
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Random seed (weights and data).")
    device: str = device_param()

    def check(self) -> dict[str, str]:
        errors = {}
        if self.d_model % self.heads:
            errors["heads"] = f"must divide d_model ({self.d_model}); got {self.heads}"
        if self.warmup_steps >= self.steps:
            errors["warmup_steps"] = f"must be smaller than steps ({self.steps}); got {self.warmup_steps}"
        return errors

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak memory of one run: the deepest model training, plus a fixed allowance.

        Runs are sequential and each model is freed before the next, so the peak is one model of the largest
        depth: weights, gradients and Adam's two moments (4 copies of the parameters), the activations kept for
        backward, and the transient attention scores of one layer (SDPA keeps no n x n matrix for backward).
        """
        d, n, b, h, v = self.d_model, self.seq_len, self.batch, self.heads, self.vocab
        depth = max(self.depths)
        per_layer_params = 12 * d * d + 13 * d  # attention 4d^2+4d, FFN 8d^2+5d, two LayerNorms 4d
        params = depth * per_layer_params + 2 * v * d + v + 2 * d  # embedding, read-out, final LayerNorm
        tokens = b * n
        # Per layer and token, kept for backward: LN outputs, q/k/v, attention output and its projection,
        # residual sums, FFN hidden before and after ReLU (4d each): about 20 d floats; x1.5 for the
        # activation gradients alive during backward (fitted to measured peaks, see the tests).
        saved = depth * tokens * 30 * d
        # One layer's scores and softmax (2 h n^2 per sequence), and the embedding / logits of the batch.
        transient = 2 * b * h * n * n + tokens * (4 * d + 2 * v)
        fixed = CUDA_FIXED_BYTES if device_class == "cuda" else CPU_FIXED_BYTES
        return (4 * params + saved + transient) * BYTES_PER_FLOAT + fixed
