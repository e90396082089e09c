"""The one table the Django side reads: experiment name -> how to validate, run and plot it.

Kept free of Django so the worker, the tests and ``perf/run_experiments.py`` all use the
exact same entry points as the site.

Importing this module imports no torch (nor plotly): names, titles, descriptions and
parameter declarations are plain Python (``params.py``, ``*_config.py``), so a web process
can list the experiments and validate a run's parameters cheaply.  An experiment's
``run`` and ``figure`` are looked up, and their modules imported, only when asked for:
in a worker's pool child, a test or a script.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from experiments.bench.attention_cost_config import AttentionCostConfig
from experiments.bench.attention_heads_config import AttentionHeadsConfig
from experiments.bench.gradient_flow_config import GradientFlowConfig
from experiments.bench.kv_cache_decoding_config import KvCacheDecodingConfig
from experiments.bench.layer_norm_placement_config import LayerNormPlacementConfig
from experiments.bench.length_extrapolation_config import LengthExtrapolationConfig
from experiments.bench.long_range_recall_config import LongRangeRecallConfig
from experiments.bench.memory import check_memory
from experiments.bench.params import ParamError, coerce_params, schema_for
from experiments.bench.seq2seq_bottleneck_config import Seq2SeqBottleneckConfig
from experiments.bench.sequence_latency_config import SequenceLatencyConfig

if TYPE_CHECKING:
    from experiments.bench.common import Progress

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "ParamError",
    "UnknownExperiment",
    "detect_device_class",
    "get_experiment",
    "param_schema",
    "validate_params",
]


class UnknownExperiment(KeyError):
    """No experiment is registered under that name."""


def _resolve(path: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function, importing its module on first use."""
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class Experiment:
    """Everything needed to offer one experiment on a lesson page.

    ``run_path`` and ``figure_path`` name the functions (``"module:function"``) instead of
    holding them, so listing the experiments does not import torch or plotly.
    """

    name: str
    title: str
    description: str
    config_cls: type
    run_path: str
    figure_path: str

    @property
    def run(self) -> Callable[[Any, Progress], dict[str, Any]]:
        """``run(config, progress) -> result``; the first access imports the experiment's module (and torch)."""
        return _resolve(self.run_path)

    @property
    def figure(self) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """``figure(result) -> Plotly figure dict``; the first access imports the charts module (and plotly)."""
        return _resolve(self.figure_path)


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            name="sequence-latency",
            title="LSTM vs Transformer: latency as sequences grow",
            description=(
                "Times the lesson's BenchmarkRNN (LSTM) and BenchmarkTransformer at several batch sizes "
                "and sequence lengths with torch.utils.benchmark, and compares with the lesson's claimed "
                "GPU numbers. Reports median and IQR, tokens/s, memory, achieved FLOP/s vs the device's "
                "measured GEMM peak, and how time scales with length."
            ),
            config_cls=SequenceLatencyConfig,
            run_path="experiments.bench.sequence_latency:run",
            figure_path="experiments.bench.charts:sequence_latency_figure",
        ),
        Experiment(
            name="gradient-flow",
            title="Vanishing gradients, measured",
            description=(
                "How much of the loss gradient at the last position reaches each earlier input, for a "
                "tanh RNN, LSTMs (default and forget-bias +1/+3), a GRU and a causal Transformer; plus the "
                "lesson's own gradient-norm listing run exactly as written."
            ),
            config_cls=GradientFlowConfig,
            run_path="experiments.bench.gradient_flow:run",
            figure_path="experiments.bench.charts:gradient_flow_figure",
        ),
        Experiment(
            name="long-range-recall",
            title="Learning a long-range dependency",
            description=(
                "Trains a tiny RNN, LSTM and Transformer with the same budget to recall a token d steps "
                "back, and plots test accuracy against d (with chance level)."
            ),
            config_cls=LongRangeRecallConfig,
            run_path="experiments.bench.long_range_recall:run",
            figure_path="experiments.bench.charts:long_range_recall_figure",
        ),
        Experiment(
            name="seq2seq-bottleneck",
            title="The encoder-decoder bottleneck",
            description=(
                "Trains a GRU encoder-decoder with and without attention (same hidden size, same budget) to "
                "copy or reverse random token sequences, and plots token accuracy against source length, "
                "including lengths longer than any seen in training, next to Bahdanau et al.'s claim."
            ),
            config_cls=Seq2SeqBottleneckConfig,
            run_path="experiments.bench.seq2seq_bottleneck:run",
            figure_path="experiments.bench.seq2seq_bottleneck_chart:seq2seq_bottleneck_figure",
        ),
        Experiment(
            name="attention-cost",
            title="What self-attention costs, and why scale by 1/√d_k",
            description=(
                "Times one attention call and measures its peak memory against sequence length n, for the "
                "naive QKᵀ-softmax-V path and for F.scaled_dot_product_attention (on a GPU also each backend), "
                "forward and forward+backward, with fitted exponents; and measures how unscaled dot products "
                "saturate the softmax (entropy, gradient reaching the scores) as d_k grows."
            ),
            config_cls=AttentionCostConfig,
            run_path="experiments.bench.attention_cost:run",
            figure_path="experiments.bench.attention_cost_chart:attention_cost_figure",
        ),
        Experiment(
            name="attention-heads",
            title="What attention heads learn, which ones matter, and the KV cache",
            description=(
                "Trains a small 2-layer attention-only Transformer on an induction task (continue a repeated "
                "segment), shows every head's attention map, measures each head's importance as the loss increase "
                "when it alone is masked, prunes heads least important first, and compares the KV-cache memory "
                "of MHA, GQA and MQA at the same width."
            ),
            config_cls=AttentionHeadsConfig,
            run_path="experiments.bench.attention_heads:run",
            figure_path="experiments.bench.attention_heads_chart:attention_heads_figure",
        ),
        Experiment(
            name="length-extrapolation",
            title="Position schemes beyond the training length",
            description=(
                "Trains the same small causal Transformer with sinusoidal, learned absolute, RoPE, ALiBi and "
                "no positions on a repeated-segment copying task at length L, then measures accuracy and loss "
                "at L, 2L, 4L and 8L (learned positions stop at L)."
            ),
            config_cls=LengthExtrapolationConfig,
            run_path="experiments.bench.length_extrapolation:run",
            figure_path="experiments.bench.length_extrapolation_chart:length_extrapolation_figure",
        ),
        Experiment(
            name="layer-norm-placement",
            title="Post-LN vs Pre-LN, with and without warm-up",
            description=(
                "Trains Post-LN and Pre-LN Transformer stacks of several depths on one small task with the "
                "same learning rate, with and without a warm-up, marks runs that diverge, and plots the "
                "gradient norm of every layer at initialisation against Xiong et al.'s (2020) claim."
            ),
            config_cls=LayerNormPlacementConfig,
            run_path="experiments.bench.layer_norm_placement:run",
            figure_path="experiments.bench.layer_norm_placement_chart:layer_norm_placement_figure",
        ),
        Experiment(
            name="kv-cache-decoding",
            title="Generating with and without a KV cache",
            description=(
                "Greedy generation from a small decoder-only Transformer with and without a KV cache: time "
                "per token against position, total time against generated length (with fitted exponents), "
                "tokens/s against batch size, and the cache's memory for MHA, GQA and MQA at the same width."
            ),
            config_cls=KvCacheDecodingConfig,
            run_path="experiments.bench.kv_cache_decoding:run",
            figure_path="experiments.bench.kv_cache_decoding_chart:kv_cache_decoding_figure",
        ),
    )
}


def get_experiment(name: str) -> Experiment:
    """The registered experiment, or :class:`UnknownExperiment`."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise UnknownExperiment(name) from None


def param_schema(name: str, device_class: str) -> list[dict[str, Any]]:
    """Form-ready parameter list (name, type, default for ``device_class``, min, max, choices, help)."""
    return schema_for(get_experiment(name).config_cls, device_class)


def validate_params(
    name: str,
    params: Mapping[str, Any] | None,
    device_class: str,
    *,
    memory_budgets: Mapping[str, int] | None = None,
) -> Any:
    """Frozen config for ``name``; missing params take the ``device_class`` defaults.

    Raises :class:`ParamError` whose ``errors`` maps each bad field (unknown name, wrong
    type, out of bounds, cross-field rule) to a readable message.  With ``memory_budgets``
    (bytes per device class) a config whose estimated peak memory exceeds the budget of
    the device it would run on is refused too, under the key ``"memory"``.
    """
    config = coerce_params(get_experiment(name).config_cls, params, device_class)
    check_memory(config, device_class, dict(memory_budgets) if memory_budgets else None)
    return config


def detect_device_class() -> str:
    """``"cuda"`` when this process can use a GPU, else ``"cpu"``. Imports torch: call it where a run happens."""
    from experiments.bench.common import detect_device_class as detect

    return detect()
