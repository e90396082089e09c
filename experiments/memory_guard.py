"""The worker's memory ceiling: a run that grows past it is failed with the reason and its process ended.

The web process already refuses runs whose estimate exceeds the budget (``experiments.bench.memory``); this is
the second line, for an estimate that is wrong or an experiment that has none.  Each pool child starts a
watchdog thread (``tasks``: ``worker_process_init``) that reads the child's resident memory every 10 ms.  When
a run pushes it past ``EXPERIMENTS_WORKER_MEMORY_LIMIT_MB`` the thread records the run as failed, with a
reason a reader understands, and then SIGKILLs its own process: the worker's parent replaces the child, the
message's redelivery finds a finished run and does nothing, and the web server and the database never meet
the kernel's out-of-memory killer.

Why a watchdog on resident memory and not ``resource.setrlimit(RLIMIT_AS)``: RLIMIT_AS caps *virtual* memory.
A CPU child that imported torch maps about 0.7 GB of address space for 0.23 GB resident, but CUDA reserves
tens of GB of address space at initialisation, so any useful RLIMIT_AS makes CUDA fail to start; and when an
allocation deep inside a library fails, torch may abort rather than raise.  Killing the child from a watchdog
works on both device classes and always leaves the run with a reason.  The sampling can overshoot by what a run
allocates in 10 ms; the default ceiling leaves 1 GB above the budget for that and for the process itself.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

INTERVAL_S = 0.01
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

# The run the child is executing now (set by ``runner.execute_run``): the one to fail if the ceiling is hit.
_current_run_id: int | None = None


def set_current_run(run_id: int | None) -> None:
    global _current_run_id
    _current_run_id = run_id


def current_run() -> int | None:
    return _current_run_id


def resident_bytes() -> int:
    """This process's resident memory (Linux: /proc/self/statm, cheap enough to read every 10 ms)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * _PAGE_SIZE
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss


def ceiling_message(limit_bytes: int) -> str:
    from .bench.memory import human_bytes

    return (
        f"Stopped: the run grew past {human_bytes(limit_bytes)}, this server's memory ceiling for one run, so its "
        "worker process was ended before it could exhaust the machine's memory. Try smaller sizes: a smaller "
        "batch, shorter sequences or a narrower model."
    )


def end_run_over_ceiling(limit_bytes: int, resident: int) -> None:
    """Fail the current run with the reason, then end this process (the worker's parent starts a new one)."""
    run_id = current_run()
    logger.error(
        "experiment run %s: worker child %s reached %d MB, over its %d MB ceiling; ending it",
        run_id, os.getpid(), resident // 2**20, limit_bytes // 2**20,
    )
    try:
        if run_id is not None:
            from django.db import connection

            from . import services

            services.fail_run(run_id=run_id, reason=ceiling_message(limit_bytes))
            connection.close()
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


class MemoryCeiling:
    """A daemon thread that calls ``on_exceeded(resident)`` once, when a run holds more than ``limit_bytes``.

    Only while a run is active: an idle child above the ceiling (the allocator keeps what a finished run freed)
    is Celery's ``worker_max_memory_per_child`` to replace, not a run to fail.
    """

    def __init__(
        self,
        limit_bytes: int,
        *,
        on_exceeded: Callable[[int, int], None] = end_run_over_ceiling,
        interval_s: float = INTERVAL_S,
        active: Callable[[], bool] = lambda: current_run() is not None,
    ) -> None:
        self.limit_bytes = limit_bytes
        self.on_exceeded = on_exceeded
        self.interval_s = interval_s
        self.active = active
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memory-ceiling", daemon=True)

    def start(self) -> MemoryCeiling:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            if not self.active():
                continue
            resident = resident_bytes()
            if resident > self.limit_bytes:
                self.on_exceeded(self.limit_bytes, resident)
                return


def start_in_worker_child(limit_mb: int) -> MemoryCeiling | None:
    """Start the watchdog in a freshly forked pool child (0 or less: no ceiling)."""
    if limit_mb <= 0:
        return None
    limit = limit_mb * 2**20
    if resident_bytes() > limit // 2:
        logger.warning(
            "worker child %s already holds %d MB of its %d MB memory ceiling before any run",
            os.getpid(), resident_bytes() // 2**20, limit_mb,
        )
    return MemoryCeiling(limit).start()
