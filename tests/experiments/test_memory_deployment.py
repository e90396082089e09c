"""The deployment keeps a run's memory inside the worker container: budget < ceiling < the container's limit."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())


def default_of(value: str) -> str:
    """``${NAME:-default}`` -> ``default``."""
    match = re.fullmatch(r"\$\{[A-Z_]+:-([^}]+)\}", str(value))
    assert match, value
    return match.group(1)


def megabytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([mg])", size).groups()
    return int(number) * (1024 if unit == "g" else 1)


def test_each_worker_container_has_a_memory_limit_above_the_run_ceiling_and_no_swap():
    for name in ("worker", "gpu-worker"):
        service = COMPOSE["services"][name]
        environment = service["environment"]
        budget = int(default_of(environment["EXPERIMENTS_CPU_MEMORY_BUDGET_MB"]))
        ceiling = int(default_of(environment["EXPERIMENTS_WORKER_MEMORY_LIMIT_MB"]))
        limit = megabytes(default_of(service["mem_limit"]))
        assert budget < ceiling < limit, name
        # the ceiling plus the worker's parent process (~200 MB) fits under the container's limit
        assert limit - ceiling >= 512, name
        assert service["memswap_limit"] == service["mem_limit"], name


def test_web_and_workers_judge_runs_by_the_same_budgets():
    environments = [COMPOSE["services"][name]["environment"] for name in ("web", "worker", "gpu-worker")]
    for key in ("EXPERIMENTS_CPU_MEMORY_BUDGET_MB", "EXPERIMENTS_CUDA_MEMORY_BUDGET_MB", "EXPERIMENTS_MAX_ACTIVE_RUNS"):
        assert len({env[key] for env in environments}) == 1, key
