"""The Django side's only door into ``experiments/bench`` (plain PyTorch); ``bench.registry`` is the table behind
it, for code without Django (the bench scripts, the worker's run functions). Both raise the same exceptions.

The bench registry and the experiments' parameter declarations import no torch, so listing the experiments,
describing their parameters and validating a run's parameters cost the web process nothing beyond plain Python.
Torch (~3 s, ~300 MB per process) is imported only by :func:`execute` and :func:`detect_device_class` (and plotly
by :func:`figure_json`), which only a Celery pool child calls when it runs an experiment: the web process and the
worker's parent (which forks the pool children) never import torch nor initialise CUDA.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from experiments.bench import registry
from experiments.bench.params import config_to_dict

# The registry's own exceptions under the names the Django side uses: one class each, raised and caught alike.
UnknownExperimentError = registry.UnknownExperiment  # no experiment of that name exists
InvalidParamsError = registry.ParamError  # ``errors`` maps a field to a readable message


@dataclass(frozen=True)
class ExperimentInfo:
    name: str
    title: str
    description: str


@lru_cache(maxsize=1)
def experiment_names() -> tuple[str, ...]:
    return tuple(registry.EXPERIMENTS)


def get_info(name: str) -> ExperimentInfo:
    experiment = registry.get_experiment(name)
    return ExperimentInfo(name=experiment.name, title=experiment.title, description=experiment.description)


@lru_cache(maxsize=32)
def _schema(name: str, device_class: str) -> tuple[dict[str, Any], ...]:
    return tuple(registry.param_schema(name, device_class))


def param_schema(name: str, device_class: str) -> list[dict[str, Any]]:
    """Form-ready description of every parameter (name, type, default, min, max, choices, help)."""
    if name not in experiment_names():
        raise UnknownExperimentError(name)
    return [dict(field) for field in _schema(name, device_class)]


def default_params(name: str, device_class: str) -> dict[str, Any]:
    return {field["name"]: field["default"] for field in param_schema(name, device_class)}


def memory_budgets() -> dict[str, int]:
    """Bytes one run may use per device class: the ``EXPERIMENTS_*_MEMORY_BUDGET_MB`` settings."""
    from django.conf import settings

    return {
        "cpu": settings.EXPERIMENTS_CPU_MEMORY_BUDGET_MB * 2**20,
        "cuda": settings.EXPERIMENTS_CUDA_MEMORY_BUDGET_MB * 2**20,
    }


def validate_params(name: str, params: Any, device_class: str) -> dict[str, Any]:
    """Check ``params`` against the experiment's bounds for ``device_class`` and the server's memory budget;
    return them complete, as JSON.

    Raises :class:`UnknownExperimentError` or :class:`InvalidParamsError` (every problem at once).
    """
    if name not in experiment_names():
        raise UnknownExperimentError(name)
    if not isinstance(params, dict):
        raise InvalidParamsError({"params": "must be a JSON object of parameter names to values"})
    config = registry.validate_params(name, params, device_class, memory_budgets=memory_budgets())
    return json_safe(config_to_dict(config))  # json_safe: the config's tuples become lists


def params_hash(name: str, params: dict[str, Any]) -> str:
    """Identity of a run's workload: equal validated params give equal hashes, whatever the key order."""
    canonical = json.dumps({"experiment": name, "params": params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_safe(value: Any) -> Any:
    """Plain JSON for any database: tuples and numpy values become Python ones, NaN and infinities ``None``.

    PostgreSQL's jsonb rejects NaN, and a benchmark can produce one (a ratio over a zero time, a failed fit).
    """
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars, torch tensors
    if callable(tolist):
        return json_safe(tolist())
    return str(value)


def figure_json(name: str, result: dict[str, Any]) -> dict[str, Any]:
    """The experiment's Plotly figure for ``result``, as plain JSON (numpy arrays encoded by plotly's encoder)."""
    import plotly.utils

    figure = registry.get_experiment(name).figure(result)
    if hasattr(figure, "to_plotly_json"):
        figure = figure.to_plotly_json()
    return json_safe(json.loads(json.dumps(figure, cls=plotly.utils.PlotlyJSONEncoder)))


def execute(name: str, params: dict[str, Any], device_class: str, progress) -> dict[str, Any]:
    """Run the experiment (worker only). Re-validates ``params`` for the worker's actual device class."""
    config = registry.validate_params(name, params, device_class, memory_budgets=memory_budgets())
    return json_safe(registry.get_experiment(name).run(config, progress))


def detect_device_class() -> str:
    """``"cuda"`` or ``"cpu"`` for this process. Initialises CUDA: call it only inside a worker's task."""
    return registry.detect_device_class()
