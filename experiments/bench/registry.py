"""The one table the Django side reads: experiment name -> how to validate, run and plot it.

Kept free of Django so the worker, the tests and ``bench/experiments.py`` all use the
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

from experiments.bench.gradient_flow_config import GradientFlowConfig
from experiments.bench.kv_cache_decoding_config import KvCacheDecodingConfig
from experiments.bench.long_range_recall_config import LongRangeRecallConfig
from experiments.bench.params import ParamError, coerce_params, schema_for
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


def validate_params(name: str, params: Mapping[str, Any] | None, device_class: str) -> Any:
    """Frozen config for ``name``; missing params take the ``device_class`` defaults.

    Raises :class:`ParamError` whose ``errors`` maps each bad field (unknown name, wrong
    type, out of bounds, cross-field rule) to a readable message.
    """
    return coerce_params(get_experiment(name).config_cls, params, device_class)


def detect_device_class() -> str:
    """``"cuda"`` when this process can use a GPU, else ``"cpu"``. Imports torch: call it where a run happens."""
    from experiments.bench.common import detect_device_class as detect

    return detect()
