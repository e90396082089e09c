"""Shared plumbing for running the lesson experiments: environment, timing, memory.

Everything here is plain Python + PyTorch (no Django) so the experiments can run in
a Celery worker, in a test, or from ``perf/run_experiments.py`` alike.

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

The code lives in one module per kind of thing (``environment``, ``timing``, ``peak_memory``, ``maths``,
``runs``); this module re-exports all of it so ``from experiments.bench.common import X`` keeps working.
"""
from __future__ import annotations

from torch.utils import benchmark  # noqa: F401  (tests patch the Timer through common.benchmark)

from experiments.bench.environment import (  # noqa: F401
    contention_note,
    cpu_name,
    detect_device_class,
    environment,
    load_average,
    resolve_device,
    seed_everything,
    torch_threads,
)
from experiments.bench.maths import (  # noqa: F401
    CausalTransformer,
    fit_power_law,
    sinusoidal_encoding,
)
from experiments.bench.peak_memory import (  # noqa: F401
    CPU_MEMORY_METHOD,
    CUDA_MEMORY_METHOD,
    PeakMemory,
    _malloc_trim,
)
from experiments.bench.runs import (  # noqa: F401
    Progress,
    ProgressTracker,
    begin_run,
    in_config_threads,
    no_progress,
    small_ops_run_notes,
)
from experiments.bench.timing import (  # noqa: F401
    Timing,
    _noop,
    gemm_peak_flops,
    measure,
    sync_for,
)
