"""Timing, environment and helpers shared by the experiments (pure torch, no GPU needed)."""

from __future__ import annotations

import json

import pytest
import torch

from experiments.bench import common
from experiments.bench.common import ProgressTracker, Timing, environment, fit_power_law, measure, sync_for


@pytest.fixture
def three_threads():
    """More threads than Timer's default of 1, so forgetting num_threads would show."""
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield 3
    torch.set_num_threads(before)


def test_timer_uses_all_torch_threads(monkeypatch: pytest.MonkeyPatch, three_threads: int) -> None:
    seen: list[int] = []
    real = common.benchmark.Timer

    class SpyTimer(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:
            seen.append(kwargs.get("num_threads", 1))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(common.benchmark, "Timer", SpyTimer)
    threads_inside: list[int] = []
    timing = measure(lambda: threads_inside.append(torch.get_num_threads()), min_run_time=0.01, warmup_s=0.0)
    assert seen == [three_threads]
    assert set(threads_inside) == {three_threads}  # also true inside the timed blocks
    assert isinstance(timing, Timing)
    assert timing.blocks >= 3 and timing.median > 0 and timing.iqr >= 0 and timing.warmup_calls >= 1


def test_measure_synchronises_around_warmup_and_every_clock_read() -> None:
    events: list[str] = []
    timing = measure(lambda: events.append("fn"), sync=lambda: events.append("sync"), min_run_time=0.01)
    assert events[0] == "sync"  # before the warm-up
    assert events[1:3] == ["fn", "sync"]  # after the (first) warm-up call
    assert events[-1] == "sync"  # clock read after the last timed block
    assert events.count("sync") >= 2 * timing.blocks + 2


def test_cuda_path_calls_torch_cuda_synchronize(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GPU needed: fake CUDA and check the real code path synchronises."""
    calls: list[object] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    device = common.resolve_device("auto")
    assert device == torch.device("cuda", 0)
    assert common.detect_device_class() == "cuda"
    timing = measure(lambda: None, sync=sync_for(device), min_run_time=0.01)
    assert len(calls) >= 2 * timing.blocks + 2
    assert all(c == device for c in calls)
    # On CPU no synchronisation happens at all.
    calls.clear()
    measure(lambda: None, sync=sync_for(torch.device("cpu")), min_run_time=0.01)
    assert calls == []


def test_resolve_device_refuses_missing_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert common.resolve_device("auto") == torch.device("cpu")
    with pytest.raises(RuntimeError, match="cuda"):
        common.resolve_device("cuda")


def test_environment_fields() -> None:
    env = environment(torch.device("cpu"))
    assert env["device"] == "cpu"
    assert env["device_name"]
    assert env["torch"] == torch.__version__
    assert env["dtype"] == "float32"
    assert env["num_threads"] == torch.get_num_threads()
    assert env["python"].count(".") == 2
    assert "hostname" not in env
    json.dumps(env)


def test_gemm_peak_and_peak_memory() -> None:
    peak = common.gemm_peak_flops(torch.device("cpu"), 64, min_run_time=0.01)
    assert peak["n"] == 64 and peak["flops_per_s"] > 0
    probe = common.PeakMemory(torch.device("cpu"))
    out = probe(lambda: torch.ones(4_000_000).sum())  # ~16 MB temporary
    assert float(out) == 4_000_000
    assert probe.peak_bytes is not None and probe.peak_bytes >= 0
    assert "RSS" in probe.method


def test_fit_power_law() -> None:
    xs = [10, 20, 40, 80]
    assert fit_power_law(xs, [3 * x**2 for x in xs]) == pytest.approx(2.0)
    assert fit_power_law(xs, [5.0] * 4) == pytest.approx(0.0, abs=1e-12)
    assert fit_power_law([10], [1.0]) is None


def test_contention_note() -> None:
    assert common.contention_note({"load_avg_1m": 0.3, "load_avg_1m_end": 1.0, "cpu_count": 2}) is None
    note = common.contention_note({"load_avg_1m": 0.3, "load_avg_1m_end": 7.5, "cpu_count": 2})
    assert note is not None and "7.5" in note


def test_progress_tracker_is_monotonic_and_ends_once() -> None:
    seen: list[float] = []
    track = ProgressTracker(lambda f, m: seen.append(f))
    for f in (0.0, 0.5, 0.3, 2.0):
        track(f, "x")
    track.done()
    assert seen == [0.0, 0.5, 0.5, 1.0]
