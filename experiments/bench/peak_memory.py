"""Measuring a run's peak memory on CPU (RSS growth) and CUDA (max allocated)."""
from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Callable
from typing import Any

import torch

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
