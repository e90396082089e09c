"""The attention-cost experiment's parameters and memory estimate (see ``attention_cost.py`` for what it measures).

No torch here: the web process reads this to build the form, validate a run's parameters and refuse a run whose
estimated peak memory exceeds the worker's budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.bench.params import cpu_threads_param, device_param, param

# Human labels, shared by the result's table and the chart's legend.
IMPLEMENTATION_LABELS = {
    "naive": "naive",
    "sdpa": "SDPA (default)",
    "flash": "SDPA flash",
    "efficient": "SDPA memory-efficient",
    "math": "SDPA math",
}
PASS_LABELS = {"forward": "forward", "forward_backward": "forward+backward"}
PASS_CHOICES = {"both": ("forward", "forward_backward"), "forward": ("forward",),
                "forward_backward": ("forward_backward",)}
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}

MIB = 2**20
MAX_SATURATION_NUMBERS = 2**28
# Growth that does not depend on the sizes: the first run in a fresh process initialises oneDNN, the autograd
# engine and the allocator's arenas (measured at about 45 MiB of RSS on CPU; a warm process adds almost none);
# on CUDA, cuBLAS workspaces come from the caching allocator.
FIXED_ALLOWANCE_BYTES = {"cpu": 64 * MIB, "cuda": 64 * MIB}
# The CPU flash kernel keeps per-thread blocks of queries x keys (at most a few MiB each).
FUSED_WORKSPACE_BYTES = 4 * MIB


@dataclass(frozen=True)
class AttentionCostConfig:
    """Parameters; the CPU defaults run in about 15 s of CPU time on one thread.

    CUDA defaults, estimated for one H100-class GPU in float16: at the largest point, n = 4096 with batch 2 x
    16 heads x d_k 64, one forward is 4·b·h·n²·d ≈ 0.14 TFLOP and forward+backward ≈ 0.4 TFLOP (milliseconds on
    the fused kernels); the naive path materialises b·h·n² fp16 scores S = 1 GiB, read and written a few times,
    and peaks near 4 S = 4 GiB (about 8 GiB estimated for the math backend, counted with float32 scores), inside
    the default 12.8 GB CUDA budget. 4 lengths x 5 implementations x 2 passes = 40 points of warm-up + ~0.3 s of
    timed blocks each: ≈ 15-25 s in all, plus the saturation part (< 1 s). n = 8192 (4x the memory) is accepted
    where EXPERIMENTS_CUDA_MEMORY_BUDGET_MB allows it.
    """

    seq_lens: tuple[int, ...] = param(
        "int_list",
        [256, 512, 1024, 2048],
        cuda=[512, 1024, 2048, 4096],
        min=16,
        max=4096,
        cuda_max=65536,
        max_items=8,
        help="Sequence lengths n (tokens) to time.",
    )
    batch: int = param("int", 1, cuda=2, min=1, max=8, cuda_max=64, help="Sequences per call.")
    heads: int = param("int", 4, cuda=16, min=1, max=16, cuda_max=64, help="Attention heads (each has its own n x n).")
    head_dim: int = param("int", 64, min=8, max=256, help="d_k = d_v per head.")
    passes: str = param(
        "choice",
        "both",
        choices=list(PASS_CHOICES),
        help="Time the forward pass, forward+backward (gradients of Q, K, V), or both.",
    )
    backends: bool = param(
        "bool",
        False,
        cuda=True,
        help="Also time each SDPA backend (flash, memory-efficient, math) through sdpa_kernel.",
    )
    dtype: str = param(
        "choice", "float32", cuda="float16", choices=list(DTYPE_BYTES), help="Element type of Q, K and V."
    )
    min_run_time: float = param(
        "float", 0.2, min=0.05, max=2.0, help="Seconds of timed blocks per point (torch Timer.blocked_autorange)."
    )
    saturation_dims: tuple[int, ...] = param(
        "int_list",
        [4, 16, 64, 256, 1024],
        min=1,
        max=2048,
        cuda_max=8192,
        max_items=8,
        help="d_k values for the softmax-saturation part.",
    )
    saturation_keys: int = param("int", 32, min=2, max=1024, help="Keys per query in the saturation part.")
    saturation_queries: int = param(
        "int", 500, min=10, max=5000, cuda_max=50000, help="Random queries per d_k in the saturation part."
    )
    threads: int = cpu_threads_param()
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Random seed for Q, K, V and the upstream gradients.")
    device: str = device_param()

    def check(self) -> dict[str, str]:
        errors = {}
        if self.dtype == "float16" and self.device == "cpu":
            errors["dtype"] = "float16 matmuls have no fast CPU kernels; use float32 or bfloat16 on the CPU"
        # every query has its own keys: queries x keys x d_k numbers at the largest d_k
        numbers = self.saturation_queries * self.saturation_keys * max(self.saturation_dims or (1,))
        if numbers > MAX_SATURATION_NUMBERS:
            errors["saturation_queries"] = (
                f"queries x keys x largest d_k = {numbers:,} numbers; at most {MAX_SATURATION_NUMBERS:,} (1 GiB)"
            )
        return errors

    def implementations(self) -> tuple[str, ...]:
        return ("naive", "sdpa", "flash", "efficient", "math") if self.backends else ("naive", "sdpa")

    def directions(self) -> tuple[str, ...]:
        return PASS_CHOICES[self.passes]

    def point_peak_bytes(self, impl: str, direction: str, n: int, device_class: str) -> int:
        """Estimated peak of one timed call above the inputs Q, K, V (which :meth:`peak_memory_bytes` adds)."""
        es = DTYPE_BYTES[self.dtype]
        bh = self.batch * self.heads
        scores = bh * n * n * es  # one n x n matrix per head and sequence
        io = bh * n * self.head_dim * es  # one tensor shaped like Q
        if impl == "math" or (impl == "sdpa" and device_class == "cpu" and self.dtype == "float16"):
            # PyTorch's math backend converts half inputs to float32 before the matmuls: 4-byte scores.
            scores = bh * n * n * 4
        if impl in ("naive", "math"):
            # forward: the scores and the softmax output coexist (2 S); backward keeps the weights and holds the
            # gradient of the weights and of the scores at once (~4 S), plus grads and copies of Q, K, V.
            return 2 * scores + 2 * io if direction == "forward" else 4 * scores + 8 * io
        # fused kernels: output (+ log-sum-exp) forward; gradients of Q, K, V, of the output and copies backward
        return (2 * io if direction == "forward" else 8 * io) + FUSED_WORKSPACE_BYTES

    def saturation_peak_bytes(self) -> int:
        """Keys of every query at the largest d_k dominate; the scores and their gradients are queries x keys."""
        if not self.saturation_dims:
            return 0
        d = max(self.saturation_dims)
        q, k = self.saturation_queries, self.saturation_keys
        return 4 * (q * k * d + q * d + 12 * q * k)

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak memory of one run (see the estimate contract in ``params``' experiments)."""
        es = DTYPE_BYTES[self.dtype]
        timing = 0
        for n in self.seq_lens:
            inputs = 3 * self.batch * self.heads * n * self.head_dim * es
            for impl in self.implementations():
                for direction in self.directions():
                    timing = max(timing, inputs + self.point_peak_bytes(impl, direction, n, device_class))
        return max(timing, self.saturation_peak_bytes()) + FIXED_ALLOWANCE_BYTES[device_class]
