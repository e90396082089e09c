"""The memory rule without torch or a database: every experiment estimates its peak, and the estimate behaves."""
from __future__ import annotations

import dataclasses

import pytest

from experiments.bench import registry
from experiments.bench.memory import GB, MB, check_memory, human_bytes
from experiments.bench.params import ParamError

NAMES = list(registry.EXPERIMENTS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("device_class", ["cpu", "cuda"])
def test_every_registered_experiment_estimates_its_peak_memory(name, device_class):
    config_cls = registry.get_experiment(name).config_cls
    assert callable(getattr(config_cls, "peak_memory_bytes", None)), (
        f"{config_cls.__name__} needs peak_memory_bytes(device_class) so that the server can refuse runs "
        "that would exhaust its worker's memory"
    )
    estimate = registry.validate_params(name, {}, device_class).peak_memory_bytes(device_class)
    assert isinstance(estimate, int) and estimate > 0


@pytest.mark.parametrize("name", NAMES)
def test_the_defaults_fit_a_small_server(name):
    # A quarter of an 8 GB machine on CPU; the default budget of a GPU worker.
    assert registry.validate_params(name, {}, "cpu").peak_memory_bytes("cpu") < 2 * GB
    assert registry.validate_params(name, {}, "cuda").peak_memory_bytes("cuda") < 12.8 * GB


@pytest.mark.parametrize(
    ("name", "field", "small", "large"),
    [
        ("sequence-latency", "batch_sizes", [1], [32]),
        ("sequence-latency", "seq_lens", [100], [1000]),
        ("sequence-latency", "mode", "inference", "train"),
        ("gradient-flow", "samples", 8, 256),
        ("gradient-flow", "seq_len", 100, 1000),
        ("long-range-recall", "hidden", 8, 256),
        ("long-range-recall", "distances", [10], [200]),
        ("kv-cache-decoding", "batch_sizes", [1], [32]),
        ("kv-cache-decoding", "gen_lens", [10], [160]),
        ("kv-cache-decoding", "d_model", 64, 512),
    ],
)
def test_the_estimate_grows_with_the_sizes_that_cost_memory(name, field, small, large):
    def estimate(value):
        return registry.validate_params(name, {field: value}, "cpu").peak_memory_bytes("cpu")

    assert estimate(large) > estimate(small)


def test_the_reported_attack_is_estimated_at_over_100_gb():
    # One training step of this model measured about 3.5 GB per sequence: 32 sequences are ~110 GB.
    config = registry.validate_params(
        "sequence-latency",
        {"hidden": 1024, "heads": 32, "vocab": 50000, "batch_sizes": [32], "seq_lens": [1000], "mode": "train"},
        "cpu",
    )
    assert 100 * GB < config.peak_memory_bytes("cpu") < 220 * GB


def test_a_config_over_budget_is_refused_on_the_memory_key_and_one_within_it_is_not():
    config = registry.validate_params("gradient-flow", {}, "cpu")
    need = config.peak_memory_bytes("cpu")
    check_memory(config, "cpu", {"cpu": need})
    check_memory(config, "cpu", None)
    with pytest.raises(ParamError) as refused:
        check_memory(config, "cpu", {"cpu": need - 1})
    assert list(refused.value.errors) == ["memory"]
    assert "this server's CPU worker allows" in refused.value.errors["memory"]


def test_the_registry_refuses_over_budget_only_when_given_budgets():
    params = {"batch_sizes": [32], "seq_lens": [1000], "mode": "train"}
    assert registry.validate_params("sequence-latency", params, "cpu")
    with pytest.raises(ParamError):
        registry.validate_params("sequence-latency", params, "cpu", memory_budgets={"cpu": 6 * GB})


def test_a_config_without_an_estimate_is_not_refused():
    @dataclasses.dataclass(frozen=True)
    class Bare:
        device: str = "auto"

    check_memory(Bare(), "cpu", {"cpu": 1})


@pytest.mark.parametrize(
    ("n", "text"), [(31.4 * GB, "31 GB"), (5.9 * GB, "5.9 GB"), (700 * MB, "700 MB"), (12 * MB, "12 MB")]
)
def test_sizes_are_said_in_round_figures(n, text):
    assert human_bytes(n) == text
