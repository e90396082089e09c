"""Who used the CPU during a measurement: the bench's own processes, or something else on the machine.

The bench machine is shared (tests, other developers' servers). A figure measured while other processes held a
core is not comparable with one measured on an idle machine, so every load run records how many cores the
rest of the machine used meanwhile ("background cores"), and the report flags busy runs.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil

from .common import PG_DATABASE


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    if proc.pid == os.getpid():
        # wrk runs as our child and has exited by the end of a run: its CPU time is in our children's times.
        return times.user + times.system + times.children_user + times.children_system
    return times.user + times.system


def _is_ours(proc: psutil.Process, our_pids: set[int]) -> bool:
    if proc.pid in our_pids:
        return True
    try:
        if proc.name().startswith("postgres"):
            return PG_DATABASE in " ".join(proc.cmdline())
        if proc.name() == "wrk":
            return True  # only the bench runs wrk here
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return False


@dataclass
class CpuUsage:
    seconds: float
    bench_cores: float
    background_cores: float
    load_average_1m: float

    def as_dict(self) -> dict[str, float]:
        return {
            "seconds": round(self.seconds, 2),
            "bench_cores": round(self.bench_cores, 2),
            "background_cores": round(self.background_cores, 2),
            "load_average_1m": round(self.load_average_1m, 2),
        }


class CpuMonitor:
    """``with CpuMonitor(pids) as monitor: ...`` then ``monitor.usage``."""

    def __init__(self, our_pids: set[int] | None = None) -> None:
        self.our_pids = {os.getpid(), *(our_pids or set())}
        self.usage: CpuUsage | None = None

    def _ours_seconds(self) -> dict[int, float]:
        seconds = {}
        for proc in psutil.process_iter():
            try:
                if _is_ours(proc, self.our_pids) or any(p.pid in self.our_pids for p in proc.parents()):
                    seconds[proc.pid] = _cpu_seconds(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return seconds

    def __enter__(self) -> CpuMonitor:
        self._start_wall = time.monotonic()
        self._start_total = psutil.cpu_times()
        self._start_ours = self._ours_seconds()
        return self

    def __exit__(self, *exc) -> None:
        wall = time.monotonic() - self._start_wall
        end_total = psutil.cpu_times()
        busy = sum(
            getattr(end_total, name) - getattr(self._start_total, name)
            for name in ("user", "nice", "system", "irq", "softirq", "steal")
            if hasattr(end_total, name)
        )
        end_ours = self._ours_seconds()
        ours = sum(max(0.0, seconds - self._start_ours.get(pid, 0.0)) for pid, seconds in end_ours.items())
        self.usage = CpuUsage(
            seconds=wall,
            bench_cores=ours / wall if wall else 0.0,
            background_cores=max(0.0, busy - ours) / wall if wall else 0.0,
            load_average_1m=os.getloadavg()[0],
        )
