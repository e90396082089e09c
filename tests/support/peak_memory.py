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
