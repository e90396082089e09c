"""The length-extrapolation experiment's parameters (see ``length_extrapolation.py`` for the task and the models).

No torch here: the web process reads this to build the form, validate a run's parameters and estimate its memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.bench.params import cpu_threads_param, device_param, param

SCHEME_LABELS = {
    "sinusoidal": "Sinusoidal",
    "learned": "Learned absolute",
    "rope": "RoPE",
    "alibi": "ALiBi",
    "nope": "None (NoPE)",
}

# Fixed overhead of a run above the process baseline: the optimizer's and autograd's bookkeeping, the
# allocator's arenas, the data generator.  Below ~20 MiB the measured RSS growth is noise (the allocator
# reuses memory it already holds), so the estimate is only checked against configurations well above that.
# Not included: the first torch run in a fresh process grows RSS by a further ~95 MiB once, whatever its
# size (library code pages, allocator arenas, thread pools; measured with a tiny configuration), the same
# for every experiment; the estimate is for a process that has run torch before.
FIXED_ALLOWANCE_BYTES = 8 * 2**20
FLOAT_BYTES = 4


@dataclass(frozen=True)
class LengthExtrapolationConfig:
    """Parameters; the CPU defaults train 5 schemes and evaluate them at 4 lengths in about a minute on 2 cores.

    CUDA defaults, by estimate: a step of 64 x 128 tokens through 2 layers of width 128 is ~25 GFLOP
    (6 x 0.4 M parameters x 8192 tokens + attention), so 5 schemes x 2000 steps are ~250 TFLOP: ~15 s at a
    realistic 20 TFLOP/s fp32 on an H100-class GPU, plus ~10 k steps x ~2-3 ms of kernel launches (small
    model) = 35-45 s in all.  Peak memory: the evaluation at 8 x 128 = 1024 tokens keeps a few
    64 x 4 x 1024 x 1024 score tensors (1 GiB each), far below an H100's 80 GB.
    """

    train_len: int = param(
        "int", 32, cuda=128, min=8, max=64, cuda_max=512, help="Training length L (tokens per sequence)."
    )
    eval_multiples: tuple[int, ...] = param(
        "int_list",
        [1, 2, 4, 8],
        min=1,
        max=8,
        max_items=5,
        help="Evaluation lengths, as multiples of L (must include 1).",
    )
    schemes: str = param(
        "choice", "all", choices=["all", *SCHEME_LABELS], help="Position scheme(s) to train and compare."
    )
    steps: int = param("int", 400, cuda=2000, min=1, max=1500, cuda_max=20000, help="Adam steps per scheme.")
    batch: int = param("int", 32, cuda=64, min=1, max=128, cuda_max=512, help="Training sequences per step.")
    d_model: int = param("int", 64, cuda=128, min=16, max=128, cuda_max=512, help="Model width.")
    heads: int = param("int", 4, min=1, max=8, help="Attention heads (d_model / heads must be even, for RoPE).")
    layers: int = param("int", 2, min=1, max=4, cuda_max=8, help="Transformer layers (induction needs 2).")
    vocab: int = param("int", 32, min=8, max=256, help="Vocabulary size (random tokens).")
    period_min: int = param("int", 3, min=2, max=64, help="Shortest repeated segment (tokens).")
    period_max: int = param("int", 12, cuda=32, min=2, max=64, cuda_max=256, help="Longest repeated segment.")
    lr: float = param("float", 3e-3, min=1e-5, max=0.03, help="Adam learning rate (same for every scheme).")
    eval_sequences: int = param(
        "int", 64, cuda=256, min=8, max=256, cuda_max=2048, help="Held-out sequences per evaluation length."
    )
    threads: int = cpu_threads_param()
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Random seed (weights and data).")
    device: str = device_param()

    def check(self) -> dict[str, str]:
        """Cross-field rules: shapes RoPE can rotate, segments that repeat within L and fit the vocabulary."""
        errors: dict[str, str] = {}
        if self.d_model % self.heads or (self.d_model // self.heads) % 2:
            errors["heads"] = "d_model / heads must be a whole, even number (RoPE rotates pairs of coordinates)."
        if self.period_min > self.period_max:
            errors["period_min"] = "must not exceed period_max."
        if 2 * self.period_max > self.train_len:
            errors["period_max"] = "must be at most train_len / 2, so that every training sequence repeats."
        elif self.period_max > self.vocab:
            errors["period_max"] = "must not exceed vocab (a segment's tokens are all different)."
        if 1 not in self.eval_multiples:
            errors["eval_multiples"] = "must include 1 (the training length), the point every other is compared with."
        return errors

    def scheme_names(self) -> tuple[str, ...]:
        return tuple(SCHEME_LABELS) if self.schemes == "all" else (self.schemes,)

    def eval_lengths(self) -> tuple[int, ...]:
        return tuple(m * self.train_len for m in self.eval_multiples)

    def parameter_count(self) -> int:
        """Weights of one model (the learned table included, the largest case)."""
        d = self.d_model
        per_layer = 4 * d * d + 4 * d + 2 * 4 * d * d + 4 * d + d + 4 * d  # attention, MLP (4x), 2 LayerNorms
        return self.vocab * d + self.train_len * d + self.layers * per_layer + 2 * d + d * self.vocab + self.vocab

    def training_step_floats(self) -> int:
        """Floats alive at the peak of one training step (forward + backward over batch x L tokens).

        Per layer ~40 (batch, L, d_model)-sized tensors (about 20 kept for backward: norms, q/k/v, the
        attention output, the MLP's 4d hidden before and after GELU, residuals; and their gradients) and
        ~4 score-sized ones (batch x heads x L^2: the softmax kept for backward, the scores and their
        gradients); the logits, their log-softmax and gradient are batch x L x vocab.  The coefficients were
        checked against measured peaks (tests/experiments/test_bench_length_extrapolation.py).
        """
        n = self.batch * self.train_len
        per_layer = 40 * n * self.d_model + 4 * self.batch * self.heads * self.train_len**2
        return self.layers * per_layer + 6 * n * self.vocab

    def evaluation_chunk_floats(self) -> int:
        """Floats alive at the peak of one evaluation chunk (no backward) at the longest length.

        Only one layer's tensors are alive at a time: ~4 score-sized tensors (scores, biased and masked
        scores, softmax, the ALiBi bias) and ~8 (chunk, T, d_model) ones; plus the logits.
        """
        chunk, length = min(self.batch, self.eval_sequences), max(self.eval_lengths())
        n = chunk * length
        return 4 * chunk * self.heads * length**2 + 8 * n * self.d_model + 3 * n * self.vocab

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak memory of one run: weights, gradients and Adam state, the activations of a training
        step and of an evaluation chunk, and a fixed allowance.

        On "cuda" (``max_memory_allocated``) the training step's activations are freed before evaluation,
        so the larger of the two counts.  On "cpu" (RSS growth) they add up: glibc keeps the memory training
        freed (its mmap threshold rises after large frees), so evaluation's tensors come on top (measured).
        """
        weights = 4 * self.parameter_count()  # weights, gradients, Adam's two moments
        train, evaluate = self.training_step_floats(), self.evaluation_chunk_floats()
        activations = max(train, evaluate) if device_class == "cuda" else train + evaluate
        return FLOAT_BYTES * (weights + activations) + FIXED_ALLOWANCE_BYTES
