"""The machine a measurement ran on: device choice, environment record, threads and seeds."""
from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch


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
