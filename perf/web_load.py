"""Page throughput and latency under wrk: lesson, course, verification pages, quiz submission, and the baseline.

Each page gets two runs with 32 connections: capacity (as fast as the server answers) and at the budget's rate
(paced), plus Django's minimal view on the same server as the yardstick for "our overhead".
"""
from __future__ import annotations

import concurrent.futures
import http.client
import time
from dataclasses import dataclass

from .common import DURATION_S, Service
from .cpu_monitor import CpuMonitor
from .loadgen import CONCURRENCY, LoadResult, Request, run_wrk


@dataclass(frozen=True)
class Page:
    """One page to load: what to send and how to tell a right answer (status and a text it must contain)."""

    key: str
    label: str
    requests: tuple[Request, ...]
    expect_status: int = 200
    expect_text: str = "-"
    budget_rps: float | None = None
    budget_p99_ms: float | None = None
    once: bool = False  # quiz submissions: each request seals an attempt, so none is sent twice


def _get(port: int, request: Request, timeout: float = 120) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Host": "127.0.0.1"}
    if request.cookie != "-":
        headers["Cookie"] = request.cookie
    conn.request(request.method, request.path, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def warm_up(web: Service, pages: list[Page], *, workers: int, wrk_seconds: float = 2) -> float:
    """Make every worker import and render everything once before measuring (first views load templates,
    Markdown and panel code: a one-off cost, not a steady-state one). Returns the slowest first answer (s)."""
    port = web.extra["port"]
    slowest = 0.0
    gets = [page for page in pages if not page.once]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers * 3) as pool:
        for page in gets:
            started = time.monotonic()
            batch = [page.requests[i % len(page.requests)] for i in range(workers * 3)]
            statuses = list(pool.map(lambda r: _get(port, r), batch))
            slowest = max(slowest, time.monotonic() - started)
            bad = [s for s in statuses if s != page.expect_status]
            if bad:
                raise RuntimeError(f"warm-up of {page.key} got statuses {bad[:5]}; see {web.log_path}")
    for page in gets if wrk_seconds else ():
        run_wrk(name=f"warm-{page.key}", port=port, requests=list(page.requests), duration_s=wrk_seconds,
                expect_status=page.expect_status, expect_text=page.expect_text)
    return slowest


def measure(web: Service, page: Page, *, rate: float = 0, duration_s: float = DURATION_S,
            requests: list[Request] | None = None) -> LoadResult:
    with CpuMonitor() as monitor:
        result = run_wrk(
            name=page.key, port=web.extra["port"], requests=list(requests or page.requests), duration_s=duration_s,
            expect_status=page.expect_status, expect_text=page.expect_text, rate=rate, connections=CONCURRENCY,
            once=page.once,
        )
    usage = monitor.usage
    result.extra["cpu"] = usage.as_dict()
    if result.requests:
        # CPU time of everything serving the page (gunicorn, PostgreSQL backends, wrk) per request: unlike req/s,
        # it barely changes when other processes share the machine, so runs on a busy machine stay comparable.
        result.extra["cpu_ms_per_request"] = round(usage.bench_cores * usage.seconds * 1000 / result.requests, 2)
    return result


def measure_page(web: Service, page: Page) -> dict:
    """Capacity, then latency at the budget rate (if the page has one)."""
    if page.once:
        half = len(page.requests) // 2
        capacity = measure(web, page, requests=list(page.requests[:half]))
        paced = None
        if page.budget_rps:
            paced = measure(web, page, rate=page.budget_rps, requests=list(page.requests[half:]))
    else:
        capacity = measure(web, page)
        paced = measure(web, page, rate=page.budget_rps) if page.budget_rps else None
    return {
        "key": page.key,
        "label": page.label,
        "budget_rps": page.budget_rps,
        "budget_p99_ms": page.budget_p99_ms,
        "capacity": capacity.as_dict(),
        "at_budget_rate": paced.as_dict() if paced else None,
    }
