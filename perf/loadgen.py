"""The load generator: wrk (C, event loop), started as its own process, driven by perf/wrk_requests.lua.

Two kinds of run per page:
- capacity: closed loop, 32 connections sending back to back; gives the most requests per second.
- at budget rate: the same 32 connections, paced to the budget's rate (e.g. 500/s); gives the latencies a
  server sees at that load. (In a closed loop latency is just concurrency / throughput, so a p99 budget only
  means something at a given offered rate.)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .common import REPO, WORK

LUA = REPO / "perf" / "wrk_requests.lua"
CONCURRENCY = 32


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    cookie: str = "-"
    body: str = "-"

    def line(self) -> str:
        for value in (self.path, self.cookie, self.body):
            if "\t" in value or "\n" in value:
                raise ValueError(f"request field with a tab or newline: {value!r}")
        return "\t".join((self.method, self.path, self.cookie or "-", self.body or "-"))


@dataclass
class LoadResult:
    name: str
    rate_target: float
    connections: int
    requests: int
    good: int
    duration_s: float
    rps: float
    latency_ms: dict[str, float]
    errors: dict[str, int]
    sample_unexpected: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def error_rate(self) -> float:
        return self.error_count / self.requests if self.requests else 1.0

    def as_dict(self) -> dict:
        return {
            "name": self.name, "rate_target": self.rate_target, "connections": self.connections,
            "requests": self.requests, "good": self.good, "duration_s": self.duration_s, "rps": self.rps,
            "latency_ms": self.latency_ms, "errors": self.errors, "error_rate": self.error_rate,
            "sample_unexpected": self.sample_unexpected, **self.extra,
        }


def _seconds(duration_s: float) -> str:
    return f"{max(1, round(duration_s))}s"  # wrk takes whole seconds


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (APT_PACKAGES), or apt-get install wrk")
    return path


def run_wrk(
    *,
    name: str,
    port: int,
    requests: list[Request],
    duration_s: float,
    expect_status: int | str = 200,
    expect_text: str = "-",
    rate: float = 0,
    connections: int = CONCURRENCY,
    threads: int = 1,
    once: bool = False,
) -> LoadResult:
    """One wrk run against 127.0.0.1:port. ``once``: never send a line twice (quiz submissions)."""
    if not requests:
        raise ValueError(f"{name}: no requests to send")
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK, prefix="wrk-") as tmp:
        request_file = Path(tmp) / "requests.tsv"
        request_file.write_text("\n".join(r.line() for r in requests) + "\n")
        out = Path(tmp) / "out.json"
        args = [
            wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", _seconds(duration_s),
            "--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{port}",
            "--", str(request_file), "once" if once else "cycle", f"{rate:g}", str(threads), str(expect_status),
            expect_text or "-",
        ]
        completed = subprocess.run(
            args, cwd=REPO, env={**os.environ, "BENCH_WRK_OUT": str(out)}, capture_output=True, text=True,
            timeout=duration_s + 60,
        )
        if completed.returncode != 0 or not out.exists():
            output = f"{completed.stdout[-2000:]} {completed.stderr[-2000:]}"
            raise RuntimeError(f"wrk failed ({completed.returncode}): {output}")
        return read_result(name=name, out=out, rate=rate, connections=connections)


def read_result(*, name: str, out: Path, rate: float, connections: int) -> LoadResult:
    data = json.loads(out.read_text(errors="replace"))
    return LoadResult(
        name=name, rate_target=rate, connections=connections, requests=data["requests"], good=data["good"],
        duration_s=data["duration_s"], rps=data["rps"], latency_ms=data["latency_ms"], errors=data["errors"],
        sample_unexpected=data.get("sample_unexpected", ""),
    )


def run_wrk_background(
    *,
    port: int,
    requests: list[Request],
    duration_s: float,
    out: Path,
    expect_status: str = "200",
    expect_text: str = "-",
    rate: float = 0,
    connections: int,
    threads: int = 1,
    etag: bool = False,
) -> tuple[subprocess.Popen, Path]:
    """A second wrk alongside a measured one (the 200 progress readers). Returns the process and its out file."""
    request_file = out.with_suffix(".tsv")
    request_file.write_text("\n".join(r.line() for r in requests) + "\n")
    args = [
        wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", _seconds(duration_s),
        "--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{port}",
        "--", str(request_file), "cycle", f"{rate:g}", str(threads), str(expect_status), expect_text or "-",
        "etag" if etag else "-",
    ]
    process = subprocess.Popen(
        args, cwd=REPO, env={**os.environ, "BENCH_WRK_OUT": str(out)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, out
