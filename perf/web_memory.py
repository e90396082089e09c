"""Does the web process leak? RSS of the bench's gunicorn workers after 1,000, 5,000 and 10,000 requests.

The requests are everything the other stages send (all pages, quiz submissions, progress polls, experiment
API calls), topped up with the page mix (lessons anonymous and signed in, course page, verification pages) if
those stages served fewer than 10,000. A sampler thread reads the server's own access log, so the counts are
exact, and records the workers' RSS as each checkpoint is passed. The budget compares 1,000 with 10,000; the
5,000 reading shows whether growth is still going on (a leak) or was over by then (caches filling up).
"""
from __future__ import annotations

import threading
import time

from .common import Service
from .loadgen import run_wrk
from .web_load import Page

CHECKPOINTS = (1_000, 5_000, 10_000)


def _workers_rss(web: Service) -> int:
    return sum(size for name, size in web.rss_bytes().items() if name != "master")


class RssCheckpoints(threading.Thread):
    """Started with the server: watches its access log and takes an RSS reading at each checkpoint."""

    def __init__(self, web: Service, checkpoints: tuple[int, ...] = CHECKPOINTS) -> None:
        super().__init__(daemon=True, name="rss-checkpoints")
        self.web = web
        self.pending = list(checkpoints)
        self.readings: list[dict] = []
        self.served = 0
        self._offset = 0
        self._halt = threading.Event()
        self._path = web.log_path.with_name(f"{web.name}-access.log")

    def _count(self) -> int:
        with self._path.open("rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        self.served += chunk[:complete].count(b"\n")
        return self.served

    def run(self) -> None:
        while not self._halt.is_set() and self.pending:
            served = self._count()
            while self.pending and served >= self.pending[0]:
                self.pending.pop(0)
                self.readings.append({"requests": served, "workers_rss_bytes": _workers_rss(self.web),
                                      "per_process": self.web.rss_bytes(), "at": time.monotonic()})
            self._halt.wait(0.1)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def finish(sampler: RssCheckpoints, pages: list[Page]) -> dict:
    """Top the server up to the last checkpoint with the page mix, then compare the readings."""
    port = sampler.web.extra["port"]
    longest = max(len(page.requests) for page in pages)
    requests = [page.requests[i % len(page.requests)] for i in range(longest) for page in pages]
    rate = 100.0
    topped_up = 0
    while sampler.pending and sampler.is_alive():
        remaining = sampler.pending[-1] - sampler.served
        duration = min(10.0, max(1.0, remaining / rate))
        result = run_wrk(name="memory", port=port, requests=requests, duration_s=duration, expect_status=200)
        topped_up += result.requests
        rate = max(20.0, result.rps)
        if result.error_count:
            raise RuntimeError(f"errors while loading for the memory check: {result.as_dict()}")
        time.sleep(0.3)
    sampler.stop()
    readings = sampler.readings
    if len(readings) < 2:
        raise RuntimeError(f"only {len(readings)} RSS readings were taken")
    first, last = readings[0], readings[-1]
    return {
        "readings": readings,
        "topped_up_requests": topped_up,
        "growth": last["workers_rss_bytes"] / first["workers_rss_bytes"] - 1,
    }
