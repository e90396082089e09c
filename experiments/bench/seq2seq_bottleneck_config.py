"""The seq2seq-bottleneck experiment's parameters (see ``seq2seq_bottleneck.py`` for the task and the models).

No torch here: the web process reads this to build the form, validate a run's parameters and estimate
its memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.bench.params import cpu_threads_param, device_param, param

MODEL_LABELS = {"plain": "GRU, no attention", "attention": "GRU + attention"}
ATTENTION_LABELS = {"additive": "additive (Bahdanau)", "dot": "dot product (Luong)"}
TASK_LABELS = {"copy": "copy the sequence", "reverse": "reverse the sequence"}

EVAL_CHUNK = 256  # test sequences decoded at once: bounds the test's memory whatever test_samples is
FLOAT_BYTES = 4
# Allocator slack and small per-run objects. Not counted: the one-time library set-up of a process's first
# run (about 90 MB of RSS measured on CPU), which a warm worker has already paid.
FIXED_ALLOWANCE_BYTES = {"cpu": 12 * 2**20, "cuda": 8 * 2**20}


@dataclass(frozen=True)
class Seq2SeqBottleneckConfig:
    """Parameters. CPU defaults: two models x 1000 steps, 28 to 33 s of CPU time on one thread
    (measured as process CPU time on a busy 2-core AMD EPYC: about an idle core's wall time; limit 60 s).

    CUDA defaults (an H100-class GPU): the decoder is a Python loop of small kernels, so a step costs
    launches, not FLOPs. About 120 kernel launches per decoder position forward and backward, at
    ~10 us each, over a mean training length of 17.5 positions: ~20 ms per step, so 2 x 1500 steps is
    ~60 s at worst and ~30 s with faster launches. The arithmetic is negligible next to it:
    ~6 * batch * n * (12 hidden^2 + n * hidden) ~ 6 * 256 * 17.5 * 0.8 M ~ 22 GFLOP per step.
    Memory at those sizes: ~0.55 GB by ``peak_memory_bytes``.
    """

    task: str = param("choice", "copy", choices=list(TASK_LABELS), help="Copy or reverse the source tokens.")
    attention: str = param(
        "choice", "additive", choices=list(ATTENTION_LABELS), help="Score of the attention model's decoder."
    )
    train_min_len: int = param("int", 2, cuda=5, min=1, max=40, cuda_max=100, help="Shortest training sequence.")
    train_max_len: int = param("int", 16, cuda=30, min=1, max=40, cuda_max=100, help="Longest training sequence.")
    test_lengths: tuple[int, ...] = param(
        "int_list",
        [4, 8, 12, 16, 20, 24, 32],
        cuda=[5, 10, 20, 30, 40, 60, 80],
        min=1,
        max=60,
        cuda_max=200,
        max_items=8,
        help="Source lengths to test (longer than train_max_len: extrapolation).",
    )
    steps: int = param("int", 1000, cuda=1500, min=1, max=3000, cuda_max=10000, help="Adam steps per model.")
    batch: int = param("int", 64, cuda=256, min=1, max=256, cuda_max=1024, help="Training sequences per step.")
    hidden: int = param("int", 64, cuda=256, min=8, max=256, cuda_max=1024, help="Embedding and GRU hidden size.")
    vocab: int = param("int", 16, min=2, max=128, help="Distinct source tokens (chance = 1 / vocab).")
    lr: float = param("float", 3e-3, min=1e-5, max=0.1, help="Adam learning rate (same for both models).")
    test_samples: int = param("int", 200, cuda=1000, min=1, max=1000, cuda_max=10000, help="Test sequences per length.")
    threads: int = cpu_threads_param()
    seed: int = param("int", 0, min=0, max=2**31 - 1, help="Random seed (weights and data).")
    device: str = device_param()

    def check(self) -> dict[str, str]:
        if self.train_min_len > self.train_max_len:
            return {"train_min_len": f"must be <= train_max_len ({self.train_max_len}); got {self.train_min_len}"}
        return {}

    def peak_memory_bytes(self, device_class: str) -> int:
        """Estimated peak memory of one run (the memory contract: within 2x of a measured peak).

        The peak is the larger of one training step of the attention model (the bigger one) at the
        longest training length, and greedy decoding of one chunk of the longest test length. A
        training step keeps, for each of its n decoder positions, the attention's (batch, n, hidden)
        tanh output and weights, the GRU cell's inputs and gates, and the logits; the encoder keeps its
        gates for every source position; backward adds gradients of the same order for a moment.
        Weights, gradients and Adam's two moments are counted too. Calibrated against RSS growth on CPU
        (tests/experiments/test_bench_seq2seq_bottleneck.py): 1.1x to 1.7x of the measured peaks.
        """
        h, v = self.hidden, self.vocab
        weights = (
            v * h  # source embedding
            + (v + 1) * h  # target embedding (+ start token)
            + 3 * h * (2 * h + 2)  # encoder GRU
            + 3 * h * (3 * h + 2)  # decoder GRUCell, input [embedding, context]
            + 2 * h * h  # additive attention W, U (v is h)
            + h
            + (2 * h + 1) * v  # read-out from [state, context]
        )
        # weights, gradients and two Adam moments of the model in training, and the weights of the other one
        params = 5 * weights

        n, b = self.train_max_len, self.batch
        # additive: the tanh of W s + U h, (b, n, h), kept per position (the sum is overwritten in place);
        # dot: only the (b, n) scores, counted with the weights
        score = n * h if self.attention == "additive" else 0
        per_position = b * (score + 4 * n + 14 * h + 3 * v)
        encoder = b * n * 8 * h
        train = 1.3 * (n * per_position + encoder)  # saved tensors, plus the gradients alive mid-backward

        t, c = max(self.test_lengths), min(self.test_samples, EVAL_CHUNK)
        # inference keeps nothing for backward: per decoded chunk, at the encoder's end, the embeddings, the GRU's
        # input gates (3h) and outputs for every position, then the keys and the reused score buffer; one more
        # (chunk, n, hidden) for what the heap keeps of them; plus one position's temporaries. (Counted 12h a
        # position before: measured peaks were half of that estimate, 29-34 MiB for chunk 256, n 60, hidden 64.)
        decode = c * t * (6 * h + (h if self.attention == "additive" else 0)) + c * (20 * h + 2 * v)
        return int(FLOAT_BYTES * (params + max(train, decode)) + FIXED_ALLOWANCE_BYTES[device_class])
