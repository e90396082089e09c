"""Timing with ``torch.utils.benchmark``: the thread count and accelerator synchronisation done right."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils import benchmark


def _noop() -> None:
    return None


def sync_for(device: torch.device) -> Callable[[], None]:
    """The synchronisation a timer must do before reading the clock on ``device``.

    CUDA kernels run asynchronously: without a sync the clock measures launch time.
    ``torch.cuda.synchronize`` is looked up at call time, so tests can monkeypatch it.
    """
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return _noop


@dataclass(frozen=True)
class Timing:
    """Per-call statistics (seconds) of one measured statement."""

    median: float
    q25: float
    q75: float
    mean: float
    blocks: int
    calls_per_block: int
    warmup_calls: int
    method: str = "blocked_autorange"

    @property
    def iqr(self) -> float:
        return self.q75 - self.q25


def measure(
    fn: Callable[[], Any],
    *,
    sync: Callable[[], None] = _noop,
    min_run_time: float = 0.2,
    warmup_s: float = 0.05,
    max_warmup_calls: int = 20,
    min_blocks: int = 3,
    first_call: Callable[[], Any] | None = None,
) -> Timing:
    """Time ``fn()`` with ``torch.utils.benchmark.Timer.blocked_autorange``.

    * explicit warm-up (lazy init, allocator growth, cuDNN/oneDNN kernel choice) of at
      least one call and ``warmup_s`` seconds, synchronised on both sides;
      ``first_call`` may wrap the first warm-up call (e.g. to probe peak memory);
    * ``num_threads=torch.get_num_threads()``: Timer's default of 1 thread would
      silently benchmark a single core;
    * the Timer's clock calls ``sync()`` before reading the time, so on CUDA the
      measured blocks include the kernels, not just their launch;
    * at least ``min_blocks`` blocks, so an IQR can be computed even for slow points:
      when ``min_blocks`` warm-up-sized calls would not fit in ``min_run_time``, the
      run time asked of blocked_autorange is raised to ``(min_blocks - 0.5)`` calls, so
      it times about ``min_blocks`` single-call blocks itself.  (Topping up with
      ``Timer.timeit`` instead would cost 2 hidden warm-up calls per extra block.)
    """
    sync()
    start = time.perf_counter()
    (first_call or fn)()
    sync()
    last_call = time.perf_counter() - start
    warmup_calls = 1
    while time.perf_counter() - start < warmup_s and warmup_calls < max_warmup_calls:
        t0 = time.perf_counter()
        fn()
        sync()
        last_call = time.perf_counter() - t0
        warmup_calls += 1

    def clock() -> float:
        sync()
        return time.perf_counter()

    timer = benchmark.Timer(
        stmt="fn()",
        globals={"fn": fn},
        timer=clock,
        num_threads=torch.get_num_threads(),
    )
    run_time = max(min_run_time, (min_blocks - 0.5) * last_call)
    m = timer.blocked_autorange(min_run_time=run_time)
    number = int(m.number_per_run)
    per_call = [t / number for t in m.raw_times]
    method = f"blocked_autorange(min_run_time={run_time:.3g})"
    if len(per_call) < min_blocks:  # rare: the timed calls were slower than the warm-up call
        method += " + Timer.timeit top-up"
    while len(per_call) < min_blocks:
        extra = timer.timeit(number)
        per_call.extend(t / extra.number_per_run for t in extra.raw_times)
    arr = np.asarray(per_call, dtype=np.float64)
    return Timing(
        median=float(np.median(arr)),
        q25=float(np.percentile(arr, 25)),
        q75=float(np.percentile(arr, 75)),
        mean=float(arr.mean()),
        blocks=len(per_call),
        calls_per_block=number,
        warmup_calls=warmup_calls,
        method=method,
    )


def gemm_peak_flops(device: torch.device, n: int, *, min_run_time: float = 0.2) -> dict[str, Any]:
    """Practical fp32 peak of ``device``: FLOP/s of one large square matmul.

    Datasheet peaks are unreachable on a shared VM; a big GEMM measured in the same run,
    with the same thread count, is the honest yardstick for "fraction of peak".
    """
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device)
    b = torch.randn(n, n, generator=gen).to(device)
    timing = measure(lambda: torch.mm(a, b), sync=sync_for(device), min_run_time=min_run_time)
    flops = 2.0 * n**3
    return {"n": n, "median_ms": timing.median * 1e3, "flops_per_s": flops / timing.median}
