"""Shared plumbing for the lesson experiments: parameters, environment, timing, memory.

Everything here is plain Python + PyTorch (no Django) so the experiments can run in
a Celery worker, in a test, or from ``bench/experiments.py`` alike.

Why this module exists:

* **Parameters** are declared once, on a frozen dataclass (the experiment's config),
  with per-device-class defaults and bounds.  The web form, validation and the run
  all read the same declaration, so they cannot drift apart.
* **Environment** is recorded by one function so every result says on what hardware,
  with which library versions and how many threads the numbers were measured.
* **Timing** wraps ``torch.utils.benchmark.Timer`` with the two things that are easy
  to get wrong: ``num_threads`` (Timer defaults to 1 thread!) and accelerator
  synchronisation (injectable, so it can be tested without a GPU).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import math
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils import benchmark

DEVICE_CLASSES = ("cpu", "cuda")
PARAM_TYPES = ("int", "float", "choice", "int_list", "bool")


class Progress(Protocol):
    """``progress(fraction, message)``: fraction in [0, 1], called at least once per point."""

    def __call__(self, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """Default progress sink for callers that do not care (tests, scripts)."""


class ParamError(ValueError):
    """Invalid experiment parameters; ``errors`` maps a field name to a readable message.

    A dict rather than a single message so a web form can put each message next to
    its field, and so every problem is reported at once instead of one per submit.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


# --------------------------------------------------------------------------------------
# Parameter declaration and validation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamMeta:
    """What the form, the validator and the docs need to know about one parameter."""

    type: str
    cuda_default: Any
    min: float | None
    max: float | None
    cuda_max: float | None
    choices: tuple[str, ...] | None
    help: str
    max_items: int


_SAME = object()


def param(
    type: str,
    default: Any,
    *,
    cuda: Any = _SAME,
    min: float | None = None,
    max: float | None = None,
    cuda_max: float | None = None,
    choices: Iterable[str] | None = None,
    help: str = "",
    max_items: int = 8,
) -> Any:
    """Declare a config field with its CPU default and, optionally, a different CUDA default.

    Bounds apply to the value (for ``int_list``: to every element).  ``cuda_max`` lets a
    GPU worker accept larger sizes than a CPU worker, which would take minutes on them.
    """
    if type not in PARAM_TYPES:
        raise ValueError(f"unknown param type {type!r}")
    if isinstance(default, list):
        default = tuple(default)
    if isinstance(cuda, list):
        cuda = tuple(cuda)
    meta = ParamMeta(
        type=type,
        cuda_default=default if cuda is _SAME else cuda,
        min=min,
        max=max,
        cuda_max=max if cuda_max is None else cuda_max,
        choices=tuple(choices) if choices is not None else None,
        help=help,
        max_items=max_items,
    )
    return field(default=default, metadata={"param": meta})


def _check_device_class(device_class: str) -> None:
    if device_class not in DEVICE_CLASSES:
        raise ValueError(f"device_class must be one of {DEVICE_CLASSES}, got {device_class!r}")


def _plain(value: Any) -> Any:
    """Tuples (immutable config storage) back to lists for JSON and forms."""
    return list(value) if isinstance(value, tuple) else value


def schema_for(config_cls: type, device_class: str) -> list[dict[str, Any]]:
    """Describe every parameter of ``config_cls`` for ``device_class`` (form-ready dicts)."""
    _check_device_class(device_class)
    out = []
    for f in dataclasses.fields(config_cls):
        meta: ParamMeta = f.metadata["param"]
        cuda = device_class == "cuda"
        out.append(
            {
                "name": f.name,
                "type": meta.type,
                "default": _plain(meta.cuda_default if cuda else f.default),
                "min": meta.min,
                "max": meta.cuda_max if cuda else meta.max,
                "choices": list(meta.choices) if meta.choices else None,
                "help": meta.help,
                **({"max_items": meta.max_items} if meta.type == "int_list" else {}),
            }
        )
    return out


def _as_int(value: Any) -> int:
    """Accept ints, integral floats and numeric strings (form input); reject the rest."""
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise TypeError


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip())
        except ValueError:
            raise TypeError from None
    else:
        raise TypeError
    if not math.isfinite(out):
        raise TypeError
    return out


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    raise TypeError


def _bounds_message(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"between {lo:g} and {hi:g}"
    return f">= {lo:g}" if lo is not None else f"<= {hi:g}"


def _coerce_one(name: str, meta: ParamMeta, value: Any, hi: float | None) -> Any:
    """Convert one raw value; raise ``ValueError(message)`` with a user-facing message."""
    lo = meta.min
    if meta.type == "int_list":
        if isinstance(value, str):
            value = [v for v in value.replace(";", ",").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"must be a list of integers, got {type(value).__name__}")
        items = []
        for v in value:
            try:
                items.append(_as_int(v))
            except TypeError:
                raise ValueError(f"must be a list of integers, got item {v!r}") from None
        if not items:
            raise ValueError("must contain at least one value")
        items = sorted(set(items))
        if len(items) > meta.max_items:
            raise ValueError(f"at most {meta.max_items} distinct values, got {len(items)}")
        bad = [v for v in items if (lo is not None and v < lo) or (hi is not None and v > hi)]
        if bad:
            raise ValueError(f"every value must be {_bounds_message(lo, hi)}; out of bounds: {bad}")
        return tuple(items)
    if meta.type == "choice":
        if not isinstance(value, str) or value not in (meta.choices or ()):
            raise ValueError(f"must be one of {list(meta.choices or ())}, got {value!r}")
        return value
    if meta.type == "bool":
        try:
            return _as_bool(value)
        except TypeError:
            raise ValueError(f"must be true or false, got {value!r}") from None
    try:
        number: float = _as_int(value) if meta.type == "int" else _as_float(value)
    except TypeError:
        kind = "an integer" if meta.type == "int" else "a number"
        raise ValueError(f"must be {kind}, got {value!r}") from None
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise ValueError(f"must be {_bounds_message(lo, hi)}, got {number:g}")
    return number


def coerce_params(config_cls: type, params: Mapping[str, Any] | None, device_class: str) -> Any:
    """Build a ``config_cls`` from raw user params; unspecified ones take the class defaults.

    Collects *all* problems (unknown names, wrong types, out-of-bounds values and the
    config's own cross-field ``check()``) into one :class:`ParamError`.
    """
    _check_device_class(device_class)
    params = dict(params or {})
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    errors: dict[str, str] = {}
    for name in params:
        if name not in fields:
            errors[name] = f"unknown parameter; expected one of {sorted(fields)}"
    values: dict[str, Any] = {}
    for name, f in fields.items():
        meta: ParamMeta = f.metadata["param"]
        cuda = device_class == "cuda"
        if name not in params:
            values[name] = meta.cuda_default if cuda else f.default
            continue
        try:
            values[name] = _coerce_one(name, meta, params[name], meta.cuda_max if cuda else meta.max)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ParamError(errors)
    config = config_cls(**values)
    check = getattr(config, "check", None)
    if check is not None:
        errors.update(check())
    if errors:
        raise ParamError(errors)
    return config


def config_to_dict(config: Any) -> dict[str, Any]:
    """JSON-ready view of a config (tuples become lists)."""
    return {k: _plain(v) for k, v in dataclasses.asdict(config).items()}


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
