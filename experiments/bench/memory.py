"""Peak-memory arithmetic for the experiments' configs, and the rule that refuses a run over the worker's budget.

Plain Python, no torch and no Django: the web process estimates a run's memory from its parameters before
anything is queued.  Each ``*_config.py`` implements ``peak_memory_bytes(device_class)`` with the helpers below;
the terms are the tensors PyTorch really holds at the worst point of the run (weights, gradients, Adam state,
activations kept for backward, attention score matrices, the largest temporaries), sized in float32.  The
coefficients were fitted to peaks measured with ``common.PeakMemory`` (tests/experiments/test_bench_memory.py
keeps them honest: within a factor of 2 of the measured peak, never more than 25 % under it).
"""

from __future__ import annotations

from typing import Any

from experiments.bench.params import ParamError

F32 = 4  # bytes per float32 element
MB = 2**20
GB = 2**30

# What a run costs beyond its tensors: on a CPU, the allocator's arenas, oneDNN/OpenMP scratch and the first
# use of each kernel (measured 30-60 MB for toy sizes); on a GPU, the cuBLAS/cuDNN workspaces.
FIXED_ALLOWANCE = {"cpu": 64 * MB, "cuda": 32 * MB}

# The key of the error a refused run reports: not a field, so a form shows it above the fields.
MEMORY_ERROR_KEY = "memory"
DEVICE_LABELS = {"cpu": "CPU", "cuda": "GPU"}


def transformer_layer_params(d: int, d_ff: int) -> int:
    """Parameters of one ``nn.TransformerEncoderLayer``: QKV + output projection, FFN, two LayerNorms."""
    return 4 * d * d + 4 * d + 2 * d * d_ff + d_ff + d + 4 * d


def lstm_layer_params(d_in: int, d: int) -> int:
    return 4 * d * (d_in + d) + 8 * d


def attention_scores(batch: int, heads: int, length: int) -> int:
    """Elements of one attention score matrix: batch x heads x n x n."""
    return batch * heads * length * length


def sequential_peak(model_peaks: list[int], device_class: str) -> int:
    """Peak of a run that builds, uses and frees one model after another, given each model's own peak.

    On a CPU the allocator keeps much of what the previous model freed, fragmented, when the next one needs
    blocks of other sizes: measured, long-range-recall's RNN, LSTM and Transformer peaked at the Transformer's
    own peak plus about the LSTM's.  So: the largest plus the second largest.  A GPU's caching allocator reuses
    its blocks, so there the largest alone.
    """
    ordered = sorted(model_peaks, reverse=True)
    if device_class == "cpu" and len(ordered) > 1:
        return ordered[0] + ordered[1]
    return ordered[0]


def run_device_class(config: Any, device_class: str) -> str:
    """The device class a config will really run on: its ``device`` field unless "auto"."""
    chosen = getattr(config, "device", "auto")
    return device_class if chosen == "auto" else chosen


def human_bytes(n: float) -> str:
    """Short, rounded: "31 GB", "2.5 GB", "700 MB"."""
    if n >= 10 * GB:
        return f"{n / GB:.0f} GB"
    if n >= GB:
        return f"{n / GB:.1f} GB"
    return f"{max(1, round(n / MB, -1 if n >= 100 * MB else 0)):.0f} MB"


def check_memory(config: Any, device_class: str, budgets: dict[str, int] | None) -> None:
    """Raise :class:`ParamError` when ``config``'s estimated peak exceeds the budget of the device it runs on.

    ``budgets`` maps a device class to bytes (None or a missing class: no limit).  A config without
    ``peak_memory_bytes`` is accepted (the registry's tests require every registered one to have it).
    """
    estimate = getattr(config, "peak_memory_bytes", None)
    if not budgets or estimate is None:
        return
    target = run_device_class(config, device_class)
    budget = budgets.get(target)
    if budget is None:
        return
    need = int(estimate(target))
    if need > budget:
        hint = getattr(config, "MEMORY_HINT", "use smaller sizes")
        raise ParamError(
            {
                MEMORY_ERROR_KEY: (
                    f"This run needs about {human_bytes(need)} of memory; this server's {DEVICE_LABELS[target]} "
                    f"worker allows {human_bytes(budget)}: {hint}."
                )
            }
        )
