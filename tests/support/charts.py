"""Experiment charts drawn from real toy-sized runs, for the browser tests of chart layout and theme.

A newly registered experiment needs an entry in ``TINY_PARAMS``: its chart is then checked at phone and laptop
sizes by tests/browser/test_chart_layout.py.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from experiments.bench import registry
from tests.support.browser import BrowserErrors, new_context
from tests.support.factories import ExperimentRunFactory

# Parameters small enough that a real run takes a second or two on one CPU thread, yet produce every part of the
# figure (several subplots, claims, annotations) that a default run produces.
TINY_PARAMS: dict[str, dict] = {
    "sequence-latency": {
        "hidden": 16, "heads": 2, "rnn_layers": 1, "transformer_layers": 1, "vocab": 16, "batch_sizes": [1, 4],
        "seq_lens": [4, 16, 64], "min_run_time": 0.05, "gemm_size": 64, "device": "cpu",
    },
    "gradient-flow": {
        "seq_len": 40, "hidden": 8, "samples": 2, "seeds": 1, "heads": 2, "transformer_layers": 1, "device": "cpu",
    },
    "long-range-recall": {
        "distances": [2, 5, 20], "steps": 3, "hidden": 8, "batch": 4, "transformer_layers": 1, "device": "cpu",
    },
    "seq2seq-bottleneck": {
        "steps": 12, "batch": 8, "hidden": 16, "vocab": 6, "train_min_len": 2, "train_max_len": 4,
        "test_lengths": [2, 3, 4, 6, 8], "test_samples": 16, "device": "cpu",
    },
    "attention-cost": {
        "seq_lens": [32, 64, 128], "heads": 2, "head_dim": 16, "min_run_time": 0.05,
        "saturation_dims": [4, 64, 1024], "saturation_queries": 200, "device": "cpu",
    },
    "attention-heads": {
        "seq_len": 12, "vocab": 16, "d_model": 16, "heads": 2, "layers": 2, "steps": 30, "batch": 16, "lr": 0.01,
        "device": "cpu",
    },
    "length-extrapolation": {
        "train_len": 8, "eval_multiples": [1, 2, 4], "steps": 4, "batch": 4, "d_model": 16, "heads": 2, "layers": 1,
        "vocab": 8, "period_min": 2, "period_max": 4, "eval_sequences": 8, "device": "cpu",
    },
    "kv-cache-decoding": {
        "d_model": 16, "heads": 4, "gqa_kv_heads": 2, "layers": 1, "vocab": 32, "prompt_len": 3,
        "gen_lens": [2, 4, 6, 8], "length_batch": 2, "batch_sizes": [1, 2, 4], "batch_gen_len": 3,
        "min_run_time": 0.01, "device": "cpu",
    },
    "layer-norm-placement": {
        "depths": [1, 2, 3], "d_model": 16, "heads": 2, "seq_len": 4, "batch": 4, "steps": 12, "warmup_steps": 4,
        "device": "cpu",
    },
}


def tiny_run(name: str, cache: dict[str, tuple[dict, dict]]) -> tuple[dict, dict]:
    """(result, figure) of a real run of ``name`` at its ``TINY_PARAMS``, kept in ``cache`` (the session's
    ``tiny_results`` fixture) so each experiment runs once per test session."""
    if name not in cache:
        if name not in TINY_PARAMS:
            pytest.fail(
                f"experiment {name!r} is registered but has no TINY_PARAMS entry in {__name__}: add toy-sized "
                "parameters (a run of a second or two) so its chart is checked at phone and laptop sizes",
                pytrace=False,
            )
        from experiments.bench.common import torch_threads  # imports torch: only when a chart is drawn

        experiment = registry.get_experiment(name)
        config = registry.validate_params(name, TINY_PARAMS[name], "cpu")
        with torch_threads(1):
            result = experiment.run(config, None)
        cache[name] = (result, experiment.figure(result))
    return cache[name]


def show_tiny_run(name: str, tiny_results: dict) -> None:
    """Store a succeeded run of ``name`` at its toy size, so its panel shows the chart."""
    result, figure = tiny_run(name, tiny_results)
    ExperimentRunFactory(experiment=name, params=TINY_PARAMS[name], succeeded=True, result=result, figure=figure,
                         environment=result.get("environment", {}))


def wait_for_layout(page, chart) -> None:
    """Until the script has fitted the chart to the width it has now (it marks the chart when it is done)."""
    page.wait_for_function(
        "el => el.dataset.layout === 'done' && Number(el.dataset.layoutWidth) === el.clientWidth",
        arg=chart.element_handle(),
    )


@contextmanager
def open_chart(browser, live_server, viewport: dict, name: str, errors: BrowserErrors) -> Iterator[tuple]:
    """The chart page of experiment ``name`` in a fresh browser profile, once the chart is laid out: (page, chart).

    The profile is closed on the way out; the page's errors are collected in ``errors``.
    """
    context = new_context(browser, live_server, viewport, errors)
    try:
        page = context.new_page()
        page.goto(f"/chart/{name}/")
        chart = page.locator(f"#experiment-{name} [data-role=chart]")
        wait_for_layout(page, chart)
        yield page, chart
    finally:
        context.close()
