"""``make gpu-check``: without a GPU it says so and fails; with results it prints one row per experiment."""
from __future__ import annotations

import pytest

from perf import gpu_check

torch = pytest.importorskip("torch")


def test_without_cuda_it_says_so_and_exits_non_zero(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    assert gpu_check.main([]) == 2
    assert "no CUDA device here" in capsys.readouterr().err


def test_the_table_has_a_row_per_experiment_with_peak_estimate_and_verdict():
    rows = [
        {"experiment": "sequence-latency", "wall_s": 12.3, "peak_mb": 1000.0, "estimate_mb": 1500.0,
         "estimate_over_peak": 1.5, "ok": True},
        {"experiment": "gradient-flow", "wall_s": 2.0, "peak_mb": 1000.0, "estimate_mb": 500.0,
         "estimate_over_peak": 0.5, "ok": False},
        {"experiment": "long-range-recall", "error": "RuntimeError: boom", "ok": False},
    ]

    text = gpu_check.table(rows, "NVIDIA Test GPU")

    lines = text.splitlines()
    assert lines[0] == "Device: NVIDIA Test GPU"
    assert "peak GPU MB" in lines[1] and "estimate MB" in lines[1]
    assert lines[2].split()[:6] == ["sequence-latency", "12.3", "1000", "1500", "1.50", "ok"]
    assert "estimate outside 0.75-2x of the peak" in lines[3]
    assert "FAILED: RuntimeError: boom" in lines[4]


def test_every_registered_experiment_is_checked(monkeypatch, capsys):
    from experiments.bench import registry

    checked = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "fake")
    monkeypatch.setattr(gpu_check, "check", lambda name: checked.append(name) or {
        "experiment": name, "wall_s": 1.0, "peak_mb": 100.0, "estimate_mb": 120.0, "estimate_over_peak": 1.2,
        "ok": True})

    assert gpu_check.main([]) == 0
    assert checked == list(registry.EXPERIMENTS)
