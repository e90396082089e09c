"""Registry and parameter validation: the contract the Django side relies on (no database)."""

from __future__ import annotations

import dataclasses

import pytest

from experiments.bench import registry
from experiments.bench.registry import EXPERIMENTS, ParamError, UnknownExperiment

NAMES = ["sequence-latency", "gradient-flow", "long-range-recall", "seq2seq-bottleneck", "attention-cost",
         "attention-heads", "length-extrapolation", "layer-norm-placement", "kv-cache-decoding"]


def test_registry_lists_every_experiment_in_course_order() -> None:
    assert list(EXPERIMENTS) == NAMES
    for name, exp in EXPERIMENTS.items():
        assert exp.name == name
        assert exp.title and exp.description
        assert dataclasses.is_dataclass(exp.config_cls)
        assert callable(exp.run) and callable(exp.figure)
        with pytest.raises(dataclasses.FrozenInstanceError):
            exp.title = "x"  # type: ignore[misc]


def test_unknown_experiment() -> None:
    with pytest.raises(UnknownExperiment):
        registry.get_experiment("nope")
    with pytest.raises(UnknownExperiment):
        registry.param_schema("nope", "cpu")
    with pytest.raises(UnknownExperiment):
        registry.validate_params("nope", {}, "cpu")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("device_class", ["cpu", "cuda"])
def test_schema_fields_and_defaults_validate(name: str, device_class: str) -> None:
    schema = registry.param_schema(name, device_class)
    assert schema, name
    for p in schema:
        assert set(p) >= {"name", "type", "default", "min", "max", "choices", "help"}
        assert p["type"] in {"int", "float", "choice", "int_list", "bool"}
        assert p["help"]
        if p["type"] == "choice":
            assert p["default"] in p["choices"]
        if p["type"] == "int_list":
            assert isinstance(p["default"], list)
    # The defaults are themselves valid, and an empty dict means "all defaults".
    defaults = {p["name"]: p["default"] for p in schema}
    config = registry.validate_params(name, {}, device_class)
    assert registry.validate_params(name, defaults, device_class) == config
    assert "seed" in defaults


def test_device_class_defaults_differ_for_sequence_latency() -> None:
    cpu = {p["name"]: p for p in registry.param_schema("sequence-latency", "cpu")}
    gpu = {p["name"]: p for p in registry.param_schema("sequence-latency", "cuda")}
    # GPU: the seed's full sizes; CPU: scaled down.
    assert gpu["transformer_layers"]["default"] == 6
    assert gpu["rnn_layers"]["default"] == 1
    assert gpu["seq_lens"]["default"] == [10, 50, 100, 200, 500, 1000]
    assert gpu["batch_sizes"]["default"] == [1, 32]
    assert cpu["transformer_layers"]["default"] == 6  # the seed's Transformer, shorter sequences
    assert max(cpu["seq_lens"]["default"]) < max(gpu["seq_lens"]["default"])
    assert max(cpu["batch_sizes"]["default"]) < 32
    assert cpu["seq_lens"]["max"] < gpu["seq_lens"]["max"]


def test_param_error_reports_every_field() -> None:
    with pytest.raises(ParamError) as info:
        registry.validate_params(
            "sequence-latency",
            {"hidden": 5, "heads": "eight", "seq_lens": [10, 999999], "mode": "fast", "bogus": 1},
            "cpu",
        )
    errors = info.value.errors
    assert set(errors) == {"hidden", "heads", "seq_lens", "mode", "bogus"}
    assert "between 16 and 1024" in errors["hidden"] and "got 5" in errors["hidden"]
    assert "integer" in errors["heads"]
    assert "999999" in errors["seq_lens"]
    assert "inference" in errors["mode"]
    assert "unknown parameter" in errors["bogus"]
    assert "hidden:" in str(info.value)


def test_wrong_types_are_rejected() -> None:
    cases = {
        "samples": 1.5,
        "seq_len": [3],
        "seeds": True,
        "models": 3,
        "hidden": None,
    }
    for field, value in cases.items():
        with pytest.raises(ParamError) as info:
            registry.validate_params("gradient-flow", {field: value}, "cpu")
        assert list(info.value.errors) == [field], (field, info.value.errors)
    with pytest.raises(ParamError) as info:
        registry.validate_params("long-range-recall", {"distances": "5, x", "lr": "fast"}, "cpu")
    assert set(info.value.errors) == {"distances", "lr"}


def test_form_strings_are_parsed_and_lists_normalised() -> None:
    cfg = registry.validate_params("long-range-recall", {"steps": "12", "lr": "0.01", "distances": "20, 5,5"}, "cpu")
    assert cfg.steps == 12 and cfg.lr == 0.01
    assert cfg.distances == (5, 20)  # sorted, duplicates removed


def test_bounds_depend_on_device_class() -> None:
    registry.validate_params("sequence-latency", {"seq_lens": [2000]}, "cuda")
    with pytest.raises(ParamError) as info:
        registry.validate_params("sequence-latency", {"seq_lens": [2000]}, "cpu")
    assert "between 2 and 1000" in info.value.errors["seq_lens"]


def test_cross_field_rule() -> None:
    with pytest.raises(ParamError) as info:
        registry.validate_params("sequence-latency", {"hidden": 100, "heads": 8}, "cpu")
    assert "divide" in info.value.errors["heads"]


def test_bad_device_class() -> None:
    with pytest.raises(ValueError):
        registry.validate_params("gradient-flow", {}, "tpu")


def test_detect_device_class(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert registry.detect_device_class() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert registry.detect_device_class() == "cuda"


def _imports_in_a_fresh_interpreter(code: str) -> list[str]:
    """Run ``code`` in a new Python process; return which of torch, plotly and django it ended up importing."""
    import subprocess
    import sys
    from pathlib import Path

    probe = f"{code}\nimport sys\nprint(' '.join(m for m in ('torch', 'plotly', 'django') if m in sys.modules))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout.split()


def test_listing_describing_and_validating_experiments_imports_neither_torch_nor_plotly() -> None:
    code = (
        "from experiments.bench import registry\n"
        "for name, experiment in registry.EXPERIMENTS.items():\n"
        "    assert experiment.title and experiment.description\n"
        "    registry.param_schema(name, 'cuda')\n"
        "    registry.validate_params(name, {}, 'cpu')\n"
        "try:\n"
        "    registry.validate_params('sequence-latency', {'hidden': 5}, 'cpu')\n"
        "except registry.ParamError:\n"
        "    pass\n"
    )
    assert _imports_in_a_fresh_interpreter(code) == []


@pytest.mark.slow
def test_an_experiments_run_and_figure_are_imported_when_first_asked_for() -> None:
    code = (
        "from experiments.bench import registry\n"
        "assert callable(registry.get_experiment('long-range-recall').run)\n"
    )
    assert _imports_in_a_fresh_interpreter(code) == ["torch"]
    code = "from experiments.bench import registry\nassert callable(registry.get_experiment('gradient-flow').figure)\n"
    assert _imports_in_a_fresh_interpreter(code) == ["plotly"]


@pytest.mark.slow
def test_the_bench_package_imports_nothing_from_django() -> None:
    """The worker, the tests and perf/run_experiments.py run the experiments as plain PyTorch."""
    import pkgutil

    import experiments.bench

    modules = [f"experiments.bench.{info.name}" for info in pkgutil.iter_modules(experiments.bench.__path__)]
    assert {"experiments.bench.registry", "experiments.bench.common", "experiments.bench.charts"} <= set(modules)

    imported = _imports_in_a_fresh_interpreter("\n".join(f"import {module}" for module in modules))

    assert "torch" in imported and "plotly" in imported  # every module was really imported
    assert "django" not in imported


def test_every_experiment_has_a_row_in_the_experiments_bench() -> None:
    """`make bench` reports each experiment's harness overhead; a new experiment needs its report."""
    from perf import run_experiments as module

    assert set(module.REPORTS) == set(EXPERIMENTS) == set(module.HOW_COMPARED)
