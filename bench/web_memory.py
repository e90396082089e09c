"""Does the web process leak? RSS of a fresh gunicorn's workers after 1,000 and after 10,000 requests.

The requests are the real mix (lessons anonymous and signed in, course page, verification pages), sent by wrk
in short runs; the server's own access log counts what was served, so the counts are exact, not estimated.
"""
from __future__ import annotations

import time

from .common import Service, start_web
from .loadgen import run_wrk
from .web_load import Page, warm_up


def _served(web: Service) -> int:
    path = web.log_path.with_name(f"{web.name}-access.log")
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _workers_rss(web: Service) -> int:
    return sum(size for name, size in web.rss_bytes().items() if name != "master")


def rss_growth(pages: list[Page], *, workers: int, checkpoints: tuple[int, ...] = (1_000, 10_000)) -> dict:
    """``pages``: GET pages answering 200; their requests are interleaved into one mix."""
    web = start_web(workers=workers, name="gunicorn-memory")
    try:
        port = web.extra["port"]
        warm_up(web, pages, workers=workers, wrk_seconds=0)  # imports (torch for the panels) before timing out
        longest = max(len(page.requests) for page in pages)
        requests = [page.requests[i % len(page.requests)] for i in range(longest) for page in pages]
        readings = []
        rate = 200.0  # first guess; corrected from each run
        for target in checkpoints:
            while (served := _served(web)) < target:
                remaining = target - served
                duration = min(10.0, max(0.5, remaining / rate))
                result = run_wrk(name="memory", port=port, requests=requests, duration_s=duration, expect_status=200)
                rate = max(50.0, result.rps)
                if result.error_count:
                    raise RuntimeError(f"errors while loading for the memory check: {result.as_dict()}")
            time.sleep(0.5)
            readings.append({"requests": _served(web), "workers_rss_bytes": _workers_rss(web),
                             "per_process": web.rss_bytes()})
        first, last = readings[0], readings[-1]
        return {
            "workers": workers,
            "readings": readings,
            "growth": last["workers_rss_bytes"] / first["workers_rss_bytes"] - 1,
        }
    finally:
        web.stop()
