"""The kv-cache-decoding experiment's parameters (see ``kv_cache_decoding.py`` for what it measures).

No torch here: the web process reads this to build the form, validate a run's parameters and
estimate its peak memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.bench.params import cpu_threads_param, device_param, param

FLOAT32_BYTES = 4
# Fixed part of a run's peak beyond the tensors counted below: the allocator's slack, the
# interpreter objects of the timing loop, MKL's scratch space on the first call.
MEMORY_ALLOWANCE_BYTES = 8 * 2**20
# glibc's largest dynamic mmap threshold on 64-bit Linux: larger blocks are always mmapped.
GLIBC_MMAP_MAX_BYTES = 32 * 2**20

# CUDA defaults, sized by FLOP count for one H100-class GPU at ~50 TFLOP/s fp32 (TF32 off):
# one token position through the d=1024, 8-layer model is ~24 d^2 x 8 = 0.2 GFLOP.  Without a
# cache, generating n tokens at batch b after a 16-token prompt processes ~b (16 n + n^2 / 2)
# positions: 0.22 PFLOP (~4.5 s) for b = 8, n = 512, ~6 s for all lengths, x4 calls (warm-up +
# 3 blocks) ~25 s.  With the cache, each step is ~160 kernel launches (~1.5 ms): ~6 s for all
# lengths x 4 calls.  The batch sweep (128 tokens, batch up to 64) is ~0.07 PFLOP uncached
# (~1.5 s) x 4 calls ~8 s with the smaller batches, and ~3 s cached.  Total ~40-50 s; memory
# < 1 GB (weights 0.5 GB at vocab 8000 are 0.1 GB; the largest score tensor 8 x 16 x 528^2 fp32
# is 0.14 GB).


@dataclass(frozen=True)
class KvCacheDecodingConfig:
    """Parameters; the CPU defaults run in about 30 s of one core (the limit is 60 s)."""

    d_model: int = param("int", 256, cuda=1024, min=16, max=512, cuda_max=2048, help="Model width d_model.")
    heads: int = param("int", 8, cuda=16, min=1, max=32, help="Query heads (must divide d_model).")
    gqa_kv_heads: int = param(
        "int", 2, cuda=4, min=1, max=32, help="Key/value heads of the GQA variant (must divide heads)."
    )
    layers: int = param("int", 4, cuda=8, min=1, max=8, cuda_max=24, help="Decoder blocks.")
    vocab: int = param("int", 1000, cuda=8000, min=16, max=8000, cuda_max=50000, help="Vocabulary size.")
    prompt_len: int = param("int", 4, cuda=16, min=1, max=64, cuda_max=512, help="Prompt tokens before generating.")
    gen_lens: tuple[int, ...] = param(
        "int_list",
        [10, 20, 40, 80],
        cuda=[64, 128, 256, 512],
        min=2,
        max=160,
        cuda_max=4096,
        max_items=6,
        help="Numbers of generated tokens to time; the longest also gives time per token vs position.",
    )
    length_batch: int = param(
        "int",
        4,
        cuda=8,
        min=1,
        max=8,
        cuda_max=64,
        help="Batch size of the length sweep (a few sequences make the per-step overhead a smaller share).",
    )
    batch_sizes: tuple[int, ...] = param(
        "int_list",
        [1, 4, 16],
        cuda=[1, 8, 32, 64],
        min=1,
        max=32,
        cuda_max=256,
        max_items=6,
        help="Batch sizes for the tokens/s sweep.",
    )
    batch_gen_len: int = param(
        "int", 24, cuda=128, min=2, max=64, cuda_max=1024, help="Generated tokens per sequence in the batch sweep."
    )
    min_run_time: float = param(
        "float", 0.05, min=0.01, max=2.0, help="Seconds of timed blocks per point (at least 3 blocks are timed)."
    )
    threads: int = cpu_threads_param()
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Random seed for weights and prompts.")
    device: str = device_param()

    def check(self) -> dict[str, str]:
        """Cross-field constraints that single-field bounds cannot express."""
        errors = {}
        if self.d_model % self.heads:
            errors["heads"] = f"must divide d_model ({self.d_model}); got {self.heads}"
        elif self.heads % self.gqa_kv_heads:
            errors["gqa_kv_heads"] = f"must divide heads ({self.heads}); got {self.gqa_kv_heads}"
        return errors

    @property
    def max_positions(self) -> int:
        """Positions the model must embed: the prompt plus the longest generation of either sweep."""
        return self.prompt_len + max(max(self.gen_lens), self.batch_gen_len)

    def kv_head_variants(self) -> dict[str, int]:
        """Key/value heads of the MHA, GQA and MQA variants compared at the same width and query heads."""
        return {"MHA": self.heads, "GQA": self.gqa_kv_heads, "MQA": 1}

    def weight_count(self, kv_heads: int | None = None) -> int:
        """Parameters of the decoder (``kv_heads`` key/value heads; default: MHA)."""
        d, kv = self.d_model, (self.heads if kv_heads is None else kv_heads) * (self.d_model // self.heads)
        per_layer = (d * d + d) + (d * 2 * kv + 2 * kv) + (d * d + d) + (8 * d * d + 5 * d) + 4 * d
        return self.vocab * d + self.max_positions * d + self.layers * per_layer + 2 * d + d * self.vocab

    def cache_bytes(self, *, batch: int, positions: int, kv_heads: int | None = None) -> int:
        """Bytes of the KV cache: keys and values, per layer, per KV head, per position, fp32."""
        kv = self.heads if kv_heads is None else kv_heads
        return 2 * self.layers * batch * kv * (self.d_model // self.heads) * positions * FLOAT32_BYTES

    def _forward_temporaries(self, batch: int, length: int) -> tuple[int, int]:
        """Peak live activations (bytes) of one full forward of ``length`` tokens in inference mode, and the part
        of it in tensors of at least ``GLIBC_MMAP_MAX_BYTES``.

        Attention holds x, its LayerNorm, q, k, v, the scores and their softmax (the mask is
        applied in place); the MLP holds x, its LayerNorm, the 4d hidden and its GELU, and
        the output.  The larger of the two is the forward's peak.
        """
        d = self.d_model
        scores = batch * self.heads * length * length * FLOAT32_BYTES
        hidden = 4 * batch * length * d * FLOAT32_BYTES
        attention = 6 * batch * length * d * FLOAT32_BYTES + 2 * scores
        mlp = 4 * batch * length * d * FLOAT32_BYTES + 2 * hidden
        if attention >= mlp:
            return attention, 2 * scores if scores >= GLIBC_MMAP_MAX_BYTES else 0
        return mlp, 2 * hidden if hidden >= GLIBC_MMAP_MAX_BYTES else 0

    def _uncached_generation_bytes(self, batch: int, n_new: int, device_class: str) -> int:
        """Memory an uncached generation of ``n_new`` tokens takes at its peak.

        CUDA (``max_memory_allocated``) sees only the live tensors: the largest step.  On a CPU
        the process RSS grows by far more: every step allocates tensors one position larger
        than the step before freed, glibc serves them from its heap (in a long-lived worker its
        dynamic mmap threshold has risen to its 32 MiB maximum) and the freed, slightly too
        small blocks are mostly not reused.  We measured the growth at 0.6 to 1.0 times the sum
        of every step's activations, so that sum is the estimate; tensors of 32 MiB or more are
        mmapped and returned on free, so they count once, at the largest step.
        """
        steps = [self._forward_temporaries(batch, t) for t in range(self.prompt_len, self.prompt_len + n_new)]
        if device_class == "cuda":
            return max(total for total, _ in steps)
        return sum(total - big for total, big in steps) + max(big for _, big in steps)

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak memory of one run (RSS growth on "cpu", ``max_memory_allocated`` on "cuda").

        The dominant terms: the weights (one model at a time is alive, MHA is the largest; the
        run builds its models itself, so they count), plus the larger of the KV cache of the
        biggest cached generation and what the biggest uncached generation takes (see
        :meth:`_uncached_generation_bytes`); the two never coexist.
        """
        longest = max(self.gen_lens)
        cache = max(
            self.cache_bytes(batch=self.length_batch, positions=self.prompt_len + longest),
            self.cache_bytes(batch=max(self.batch_sizes), positions=self.prompt_len + self.batch_gen_len),
        )
        uncached = max(
            self._uncached_generation_bytes(self.length_batch, longest, device_class),
            self._uncached_generation_bytes(max(self.batch_sizes), self.batch_gen_len, device_class),
        )
        return self.weight_count() * FLOAT32_BYTES + max(cache, uncached) + MEMORY_ALLOWANCE_BYTES
