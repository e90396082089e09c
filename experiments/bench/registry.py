"""The one table the Django side reads: experiment name -> how to validate, run and plot it.

Kept free of Django so the worker, the tests and ``bench/experiments.py`` all use the
exact same entry points as the site.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from experiments.bench import charts, gradient_flow, long_range_recall, sequence_latency
from experiments.bench.common import ParamError, Progress, coerce_params, detect_device_class, schema_for

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


@dataclass(frozen=True)
class Experiment:
    """Everything needed to offer one experiment on a lesson page."""

    name: str
    title: str
    description: str
    config_cls: type
    run: Callable[[Any, Progress], dict[str, Any]]
    figure: Callable[[dict[str, Any]], dict[str, Any]]


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
            config_cls=sequence_latency.SequenceLatencyConfig,
            run=sequence_latency.run,
            figure=charts.sequence_latency_figure,
        ),
        Experiment(
            name="gradient-flow",
            title="Vanishing gradients, measured",
            description=(
                "How much of the loss gradient at the last position reaches each earlier input, for a "
                "tanh RNN, LSTMs (default and forget-bias +1/+3), a GRU and a causal Transformer; plus the "
                "lesson's own gradient-norm listing run exactly as written."
            ),
            config_cls=gradient_flow.GradientFlowConfig,
            run=gradient_flow.run,
            figure=charts.gradient_flow_figure,
        ),
        Experiment(
            name="long-range-recall",
            title="Learning a long-range dependency",
            description=(
                "Trains a tiny RNN, LSTM and Transformer with the same budget to recall a token d steps "
                "back, and plots test accuracy against d (with chance level)."
            ),
            config_cls=long_range_recall.LongRangeRecallConfig,
            run=long_range_recall.run,
            figure=charts.long_range_recall_figure,
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
