"""An experiment's peak memory measured in a fresh Python process.

In the test runner's own process, memory that earlier tests freed is reused by the allocator, so a peak measured
there depends on which tests ran before. A fresh interpreter runs one warm-up (the first calls of every code path,
outside the measurement), then the measured run.
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


def peak_and_estimate(name: str, params: dict, *, warm_params: dict) -> tuple[int, int]:
    """(measured peak RSS growth, the config's estimate) in bytes, for one CPU run of ``name`` at ``params``."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps([name, warm_params, params])],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=True,
    )
    peak, estimate = json.loads(done.stdout.strip().splitlines()[-1])
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
