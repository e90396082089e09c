"""Shared plumbing for running the lesson experiments: environment, timing, memory.

Everything here is plain Python + PyTorch (no Django) so the experiments can run in
a Celery worker, in a test, or from ``bench/experiments.py`` alike.

Why this module exists:

* **Parameters** are declared once, on a frozen dataclass (the experiment's config),
  with per-device-class defaults and bounds.  The web form, validation and the run
  all read the same declaration, so they cannot drift apart.  That declaration lives
  in ``params.py`` and each ``*_config.py``, which import no torch: the web process
  reads them without paying for torch.
* **Environment** is recorded by one function so every result says on what hardware,
  with which library versions and how many threads the numbers were measured.
* **Timing** wraps ``torch.utils.benchmark.Timer`` with the two things that are easy
  to get wrong: ``num_threads`` (Timer defaults to 1 thread!) and accelerator
  synchronisation (injectable, so it can be tested without a GPU).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils import benchmark


class Progress(Protocol):
    """``progress(fraction, message)``: fraction in [0, 1], called at least once per point."""

    def __call__(self, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """Default progress sink for callers that do not care (tests, scripts)."""


# --------------------------------------------------------------------------------------
# Devices and environment
# --------------------------------------------------------------------------------------


def detect_device_class() -> str:
    """``"cuda"`` when this process can use a GPU, else ``"cpu"`` (picks the default sizes)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(choice: str) -> torch.device:
    """Turn the ``device`` parameter (auto/cpu/cuda) into a concrete device.

    The check is made here, at run time in the worker, not at validation time: the web
    process that validates a form may well have no GPU while the worker has one.
    """
    if choice == "auto":
        choice = detect_device_class()
    if choice == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' was requested but torch.cuda.is_available() is False")
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def cpu_name() -> str:
    """CPU model string, from /proc/cpuinfo on Linux, else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def environment(device: torch.device, dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """Where and with what the numbers were measured; attached to every result.

    A timing without the device, the thread count and the library versions is not a
    result a reader can compare with anything, so every experiment stores this.
    """
    env: dict[str, Any] = {
        "device": str(device) if device.type != "cuda" else f"cuda:{device.index or 0}",
        "device_name": cpu_name(),
        "cpu_name": cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "dtype": str(dtype).replace("torch.", ""),
        "num_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "numpy": np.__version__,
    }
    # Other processes on the machine distort timings; the 1-minute load average next to
    # cpu_count lets a reader see whether the run had the cores to itself.
    env["load_avg_1m"] = load_average()
    if torch.version.cuda:
        env["cuda"] = torch.version.cuda
    if device.type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
        env["cudnn"] = torch.backends.cudnn.version()
        env["tf32_matmul"] = bool(torch.backends.cuda.matmul.allow_tf32)
    return env


def load_average() -> float | None:
    """1-minute load average (None where the OS has none): call at the start and end of a run."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def contention_note(env: Mapping[str, Any]) -> str | None:
    """A warning for the notes when other processes were competing for the CPUs."""
    loads = [v for v in (env.get("load_avg_1m"), env.get("load_avg_1m_end")) if v is not None]
    cpus = env.get("cpu_count") or 1
    if loads and max(loads) > 0.75 * cpus:
        return (
            f"The machine was busy: 1-minute load average up to {max(loads):.1f} on {cpus} CPUs during this "
            "run, so other processes competed for the cores; timings are inflated and noisier than on an "
            "idle machine."
        )
    return None


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads (0: leave the current setting), then restore.

    The recurrent experiments are thousands of tiny ops: extra threads buy nothing there,
    and when the CPUs are shared (a worker next to a web server) their spin-waits made
    the same run 5-10x slower in our measurements.  Timing benchmarks do not use this.
    """
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and all GPUs) and numpy so a run computes the same thing twice."""
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------

CPU_MEMORY_METHOD = (
    "CPU: growth of the process RSS above its value just before one warm-up call, "
    "sampled every ~0.5 ms by a psutil thread after glibc malloc_trim(0); approximate "
    "(the allocator may reuse memory it already holds), indicative only"
)
CUDA_MEMORY_METHOD = (
    "CUDA: torch.cuda.max_memory_allocated() after reset_peak_memory_stats(), minus "
    "memory_allocated() before one warm-up call (activations + workspace, weights excluded)"
)


def _malloc_trim() -> None:
    """Return freed heap pages to the OS so RSS growth reflects this call only (glibc)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakMemory:
    """Callable wrapper: ``PeakMemory(device)(fn)`` runs ``fn`` once and records ``peak_bytes``."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_bytes: int | None = None

    @property
    def method(self) -> str:
        return CUDA_MEMORY_METHOD if self.device.type == "cuda" else CPU_MEMORY_METHOD

    def __call__(self, fn: Callable[[], Any]) -> Any:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            before = torch.cuda.memory_allocated(self.device)
            out = fn()
            torch.cuda.synchronize(self.device)
            self.peak_bytes = torch.cuda.max_memory_allocated(self.device) - before
            return out
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil is in requirements.txt
            self.peak_bytes = None
            return fn()
        proc = psutil.Process()
        _malloc_trim()
        before = proc.memory_info().rss
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                done.wait(0.0005)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            out = fn()
        finally:
            peak[0] = max(peak[0], proc.memory_info().rss)
            done.set()
            thread.join()
        self.peak_bytes = max(0, peak[0] - before)
        return out


# --------------------------------------------------------------------------------------
# Small maths helpers and shared modules
# --------------------------------------------------------------------------------------


def fit_power_law(xs: Iterable[float], ys: Iterable[float]) -> float | None:
    """Least-squares slope of log y on log x: the exponent k in y ~ x^k (None if < 2 points)."""
    x = np.log(np.asarray(list(xs), dtype=np.float64))
    y = np.log(np.asarray(list(ys), dtype=np.float64))
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    return float(np.polyfit(x, y, 1)[0])


def sinusoidal_encoding(length: int, dim: int) -> torch.Tensor:
    """The fixed sin/cos positional encoding of "Attention Is All You Need", shape (length, dim)."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


class CausalTransformer(nn.Module):
    """Small causal Transformer encoder on continuous inputs (B, T, d) with sinusoidal PE.

    Used by the gradient-flow and long-range-recall experiments: position t may only
    attend to positions <= t, exactly like a recurrent model reading left to right,
    so the comparison with RNNs is fair.
    """

    def __init__(self, dim: int, heads: int, layers: int, max_len: int = 4096, dropout: float = 0.0) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            d_model=dim, nhead=heads, dim_feedforward=4 * dim, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.register_buffer("pe", sinusoidal_encoding(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.size(1)
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=x.device, dtype=x.dtype)
        return self.encoder(x + self.pe[:t], mask=mask, is_causal=True)


class ProgressTracker:
    """Makes progress reports monotonic and guarantees exactly one final 1.0."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress or no_progress
        self._last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        fraction = min(1.0, max(self._last, float(fraction)))
        if fraction >= 1.0 and self._last >= 1.0:
            return
        self._last = fraction
        self._progress(fraction, message)

    def done(self, message: str = "done") -> None:
        self(1.0, message)


def begin_run(device_choice: str, progress: Progress | None) -> tuple[ProgressTracker, torch.device, dict[str, Any]]:
    """What every experiment does first: its progress tracker, its device, and the environment, recorded before
    the work so that the load average is the one the run started under."""
    track = ProgressTracker(progress)
    device = resolve_device(device_choice)
    return track, device, environment(device)


def in_config_threads(run: Callable[[Any, Progress | None], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Decorate an experiment's ``run`` so that it runs with its config's ``threads`` (see :func:`torch_threads`)."""

    @functools.wraps(run)
    def with_threads(config: Any, progress: Progress | None = None) -> dict[str, Any]:
        with torch_threads(config.threads):
            return run(config, progress)

    return with_threads


def small_ops_run_notes(env: Mapping[str, Any]) -> list[str]:
    """The notes an :func:`in_config_threads` experiment ends with: its thread count, and contention if any."""
    notes = [
        f"Ran with torch.get_num_threads() = {env['num_threads']} (parameter 'threads'; "
        "tiny recurrent ops gain nothing from more threads)."
    ]
    note = contention_note(env)
    return [*notes, note] if note else notes
