"""The attention-heads experiment's parameters and memory estimate (see ``attention_heads.py`` for the task).

No torch here: the web process reads this to build the form, validate a run's parameters and refuse a run
whose estimated memory exceeds the worker's budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.bench.params import cpu_threads_param, device_param, param

KV_DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4}
EVAL_SIZE = 512  # held-out sequences for the ablation losses and the head scores
MIN_SEGMENT = 2  # shortest repeated segment; the longest is seq_len // 2

_FLOAT = 4  # every trained tensor is float32
# Growth that does not scale with the sizes (autograd graph nodes, Adam's first step, the eval data): about
# 1 MiB of process RSS for the smallest configurations we measured.
_CPU_FIXED_BYTES = 3 * 2**19
_CUDA_FIXED_BYTES = 2**20
# Score-sized (B x H x T x T) float32 tensors at the peak, as (per layer, shared by the layers): every layer keeps
# its attention probabilities for backward; the backward pass of one layer at a time adds a few temporaries (the
# probabilities' gradient, softmax's, the mask's and the scaling's). On CUDA that is about two. On CPU the process
# RSS also holds what glibc keeps of freed blocks below its mmap threshold (up to 32 MiB) in the heap, and that
# grows with the layers: in fresh processes, 1 to 4 layers peaked at 3 to 9, 3 to 10, 8 to 14 and 14 to 21 score
# tensors' worth above the rest (one configuration of 2 layers ranged over 92 to 150 MiB), and a whole run of 1
# layer 5 to 10 (its evaluation after training adds blocks of other sizes); the larger of two 4-layer runs later
# reached 26 (275 MiB). Five a layer and three shared put each within the suite's tolerance on both sides: 0.90 to
# 1.88 times single runs' peaks (1.88 only for CI's lowest 2-layer run), the whole run 0.90 to 1.22.
_SCORE_TENSORS = {"cpu": (5, 3), "cuda": (1, 2)}


@dataclass(frozen=True)
class AttentionHeadsConfig:
    """Parameters; the CPU defaults train and analyse the model in about 20 s of one core.

    CUDA defaults, by our estimate: about 0.2 M parameters, 256 x 64 = 16 k tokens per step, so
    6 x params x tokens + attention (about 3 x 4 B T^2 d per layer) ~ 2e10 FLOP per step; 4000 steps ~ 8e13 FLOP,
    roughly 5-15 s on one H100-class GPU (small fp32 kernels reach ~10 TFLOP/s at best, and each step is
    about a hundred kernel launches); peak memory ~ 0.4 GiB (``peak_memory_bytes``).
    """

    seq_len: int = param(
        "int", 24, cuda=64, min=6, max=64, cuda_max=256, help="Tokens per sequence (a prefix, then a segment twice)."
    )
    vocab: int = param("int", 32, cuda=128, min=8, max=512, cuda_max=4096, help="Vocabulary size (>= seq_len).")
    d_model: int = param("int", 64, cuda=128, min=16, max=256, cuda_max=1024, help="Model width d.")
    heads: int = param("int", 4, cuda=8, min=1, max=16, help="Attention heads per layer (must divide d_model).")
    layers: int = param("int", 2, min=1, max=4, help="Attention-only layers (induction needs 2).")
    steps: int = param("int", 800, cuda=4000, min=1, max=3000, cuda_max=20000, help="Adam training steps.")
    batch: int = param("int", 64, cuda=256, min=1, max=256, cuda_max=1024, help="Training sequences per step.")
    lr: float = param("float", 3e-3, min=1e-5, max=0.1, help="Adam learning rate.")
    kv_context: int = param(
        "int", 4096, min=1, max=1_048_576, help="Context length for the KV-cache comparison (arithmetic only)."
    )
    kv_batch: int = param("int", 1, min=1, max=1024, help="Batch size for the KV-cache comparison (arithmetic only).")
    kv_dtype: str = param("choice", "float16", choices=list(KV_DTYPE_BYTES), help="Cache element type.")
    threads: int = cpu_threads_param()
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Random seed (weights and data).")
    device: str = device_param()

    def check(self) -> dict[str, str]:
        errors = {}
        if self.d_model % self.heads:
            errors["heads"] = f"must divide d_model ({self.d_model}); got {self.heads}"
        if self.vocab < self.seq_len:
            # every token of a sequence is distinct apart from the repeat, so each has one earlier occurrence
            errors["vocab"] = f"must be at least seq_len ({self.seq_len}); got {self.vocab}"
        return errors

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads

    def parameter_count(self) -> int:
        """Trainable parameters: embeddings, per layer LayerNorm + QKV + W_O, final LayerNorm, read-out."""
        d = self.d_model
        per_layer = 2 * d + (3 * d * d + 3 * d) + (d * d + d)
        return self.vocab * d + self.seq_len * d + self.layers * per_layer + 2 * d + d * self.vocab + self.vocab

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak memory of one run: the training step dominates (evaluation runs in chunks of ``batch``).

        * weights, gradients and Adam's two moments: 4 x parameters;
        * per layer, kept for backward or alive at the peak: the attention probabilities and the score-sized
          temporaries of the backward pass, B x H x T x T each (``_SCORE_TENSORS``: per layer and shared),
          and about fourteen B x T x d tensors per layer (LayerNorm in/out, QKV, head outputs, merged heads,
          projection, residual);
        * the read-out: logits, their shifted copy, log-softmax and gradients, about five B x T x V;
        * a fixed allowance for what does not scale (see ``_CPU_FIXED_BYTES``).
        """
        b, t, d, h, v = self.batch, self.seq_len, self.d_model, self.heads, self.vocab
        state = 4 * self.parameter_count()
        kept_per_layer, shared = _SCORE_TENSORS[device_class]
        scores = (kept_per_layer * self.layers + shared) * b * h * t * t
        activations = self.layers * 14 * b * t * d
        readout = 5 * b * t * v + b * t * d
        fixed = _CUDA_FIXED_BYTES if device_class == "cuda" else _CPU_FIXED_BYTES
        return _FLOAT * (state + scores + activations + readout) + fixed
