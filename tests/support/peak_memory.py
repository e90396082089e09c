"""An experiment's peak memory measured in fresh Python processes.

In the test runner's own process, memory that earlier tests freed is reused by the allocator, so a peak measured
there depends on which tests ran before. A fresh interpreter runs one warm-up (the first calls of every code path,
outside the measurement), then the measured run.

Even fresh processes differ: glibc keeps freed blocks below its mmap threshold (up to 32 MiB) in the heap, or not,
depending on the heap's history, so one configuration's peak spread over 2.2x in ten runs (attention-cost, forward
only: 54 to 118 MiB). The peak an estimate must cover is the larger one a run can reach, so each case runs
``FRESH_RUNS`` processes at once and compares the estimate with the largest peak among them: one process that
happens to keep little no longer fails the "at most twice the peak" bound.
"""
from __future__ import annotations

import json
import subprocess
import sys

from tests.support.paths import REPO

_SCRIPT = """
import json, sys, torch
from experiments.bench import registry
from experiments.bench.common import PeakMemory
name, warm_params, params = json.loads(sys.argv[1])
torch.set_num_threads(1)
experiment = registry.get_experiment(name)
experiment.run(registry.validate_params(name, warm_params, "cpu"), lambda fraction, message: None)
config = registry.validate_params(name, params, "cpu")
meter = PeakMemory(torch.device("cpu"))
meter(lambda: experiment.run(config, lambda fraction, message: None))
print(json.dumps([meter.peak_bytes, config.peak_memory_bytes("cpu")]))
"""


FRESH_RUNS = 2


def largest_of_fresh_runs(script: str, *args: str, runs: int = FRESH_RUNS, timeout: float = 600) -> list:
    """Run ``python -c script *args`` in ``runs`` fresh processes at once; each prints a JSON list whose first item
    is its measured peak. Returns the printed list of the process with the largest peak."""
    processes = [
        subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(runs)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return max(results, key=lambda printed: printed[0])


def peak_and_estimate(name: str, params: dict, *, warm_params: dict) -> tuple[int, int]:
    """(largest measured peak RSS growth, the config's estimate) in bytes, for CPU runs of ``name`` at ``params``."""
    peak, estimate = largest_of_fresh_runs(_SCRIPT, json.dumps([name, warm_params, params]))
    return peak, estimate


# The tolerance every experiment's memory estimate is held to: never more than 25 % under the measured peak (a run
# the worker admits must fit) and at most twice it (a run that would fit is not refused).
LOW, HIGH = 0.75, 2.0
# Every comparison made in this run, printed after it as the "memory estimates" section (tests/experiments/
# conftest.py), so a CI log shows how close each case came to the tolerance, not only the ones that failed.
MEASURED: list[tuple[str, int, int]] = []


def assert_estimate_within_tolerance(estimate: int, peak: int, *, case: str) -> None:
    """Record the comparison, then fail unless LOW x peak <= estimate <= HIGH x peak."""
    MEASURED.append((case, estimate, peak))
    assert peak > 0, f"{case}: nothing measured"
    assert LOW * peak <= estimate <= HIGH * peak, (
        f"{case}: estimate {estimate / 2**20:.1f} MiB, measured {peak / 2**20:.1f} MiB (x{estimate / peak:.2f}, "
        f"tolerance x{LOW}-x{HIGH})"
    )


def summary_lines() -> list[str]:
    """One line per comparison, closest to a bound first."""
    def margin(row: tuple[str, int, int]) -> float:
        ratio = row[1] / row[2]
        return min(ratio / LOW, HIGH / ratio)

    return [
        f"x{estimate / peak:.2f}  estimate {estimate / 2**20:7.1f} MiB  measured {peak / 2**20:7.1f} MiB  {case}"
        for case, estimate, peak in sorted(MEASURED, key=margin)
    ]
