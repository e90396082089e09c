"""The scaffolding every experiment's ``run`` shares: progress, its prologue, its thread count."""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import torch

from experiments.bench.environment import contention_note, environment, resolve_device, torch_threads


class Progress(Protocol):
    """``progress(fraction, message)``: fraction in [0, 1], called at least once per point."""

    def __call__(self, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """Default progress sink for callers that do not care (tests, scripts)."""



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
