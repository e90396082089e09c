from __future__ import annotations

import pytest

from tests.support.experiments import TINY_LATENCY_PARAMS
from tests.support.factories import UserFactory
from tests.support.peak_memory import HIGH, LOW, summary_lines


@pytest.fixture(scope="module")
def one_torch_thread():
    """Toy-sized ops gain nothing from threads, and on a busy 2-core box extra threads spin-wait."""
    from experiments.bench.common import torch_threads  # imports torch: only for the modules that ask

    with torch_threads(1):
        yield


@pytest.fixture
def tiny_params() -> dict:
    return dict(TINY_LATENCY_PARAMS)


@pytest.fixture
def other_user(db):
    return UserFactory(username="grace", full_name="Grace Hopper")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = summary_lines()
    if lines:
        terminalreporter.section(f"memory estimates (estimate / measured peak, tolerance x{LOW}-x{HIGH})")
        for line in lines:
            terminalreporter.write_line(line)
