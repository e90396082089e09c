"""What every bench step shares: where files go, the bench database and Redis, and the processes it starts.

The bench never touches the development database or `.var/` itself: it gets a PostgreSQL database of its own
(``academy_bench``, recreated each run), a Redis database of its own, and a folder ``.var/bench/`` for media,
static files, logs and results.
"""
from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
WORK = Path(os.environ.get("BENCH_DIR", REPO / ".var" / "bench"))
LOGS = WORK / "logs"
RESULTS_JSON = WORK / "results.json"
FIXTURES_JSON = WORK / "fixtures.json"

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "academy_bench")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "14"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
COURSE_SLUG = "transformers-architecture"
COURSE_DIR = REPO / "content" / COURSE_SLUG
# Threaded workers, as in production (config/gunicorn.conf.py); 3 processes on this 2-core machine.
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "3"))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", "4"))
# Seconds per load run. Shorter runs make `make bench` faster and the figures noisier.
DURATION_S = float(os.environ.get("BENCH_DURATION_S", "8"))


def database_url() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DATABASE


def site_env(**extra: str) -> dict[str, str]:
    """The environment production settings require, pointed at the bench's own database, Redis and folders."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "perf.settings",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "SITE_URL": "http://127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "TA_VAR_DIR": str(WORK / "var"),
        "MEDIA_ROOT": str(WORK / "media"),
        "STATIC_ROOT": str(WORK / "static"),
        "CERTIFICATE_SIGNING_KEY_PATH": str(WORK / "var" / "certificate-signing-key.json"),
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine_description() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model or platform.processor() or "unknown",
        "logical_cpus": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def run_checked(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{output}")
    return result.stdout


@dataclass
class Service:
    """A process the bench started (gunicorn or a Celery worker); stopped by its own pid only."""

    name: str
    process: subprocess.Popen
    log_path: Path
    extra: dict = field(default_factory=dict)

    def tree(self) -> list[psutil.Process]:
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss_bytes(self) -> dict[str, int]:
        """RSS of the master and of each child process (the gunicorn workers, or the Celery pool)."""
        sizes = {}
        for index, proc in enumerate(self.tree()):
            try:
                sizes["master" if index == 0 else f"child-{proc.pid}"] = proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return sizes

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_service(name: str, args: list[str], *, env: dict[str, str]) -> Service:
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}.log"
    log = log_path.open("w")
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()  # the child keeps its own descriptor
    return Service(name=name, process=process, log_path=log_path)


def wait_for_http(
    port: int, path: str = "/bench/minimal/", timeout: float = 60, service: Service | None = None
) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if service is not None and service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited early:\n{service.log_tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
            last_error = RuntimeError(f"status {status}")
        except OSError as exc:
            last_error = exc
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer {path}: {last_error}")


def start_web(*, workers: int = WEB_WORKERS, name: str = "gunicorn") -> Service:
    """gunicorn as production runs it (config/gunicorn.conf.py: threaded workers), plus an access log that the
    memory stage counts requests in, on a spare loopback port."""
    port = free_port()
    access_log = LOGS / f"{name}-access.log"
    access_log.parent.mkdir(parents=True, exist_ok=True)
    access_log.write_text("")  # gunicorn appends; the memory check counts this run's lines only
    args = [
        PYTHON, "-m", "gunicorn", "config.wsgi:application", "-c", "config/gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(WEB_THREADS),
        "--access-logfile", str(access_log),
        "--backlog", "2048",
        # Production keeps gunicorn's 30 s default. The bench allows more so that a worker's first requests
        # (imports, template loading) on two busy cores can never get it killed mid-warm-up and skew the figures.
        "--timeout", "180",
    ]
    service = start_service(name, args, env=site_env())
    service.extra["port"] = port
    wait_for_http(port, service=service)
    return service


def start_worker(*, name: str = "celery-worker") -> Service:
    """A Celery worker as production runs it (both queues, concurrency 1, prefork), on the bench's Redis."""
    args = [
        PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", "celery,gpu", "-c", "1", "--pool", "prefork",
        "-n", f"bench-{os.getpid()}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
    ]
    service = start_service(name, args, env=site_env())
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if "ready" in service.log_tail(20000):
            return service
        if service.process.poll() is not None:
            break
        time.sleep(0.3)
    service.stop()
    raise RuntimeError(f"Celery worker did not start:\n{service.log_tail()}")


def stop_all(services: Iterable[Service]) -> None:
    for service in services:
        try:
            service.stop()
        except Exception as exc:  # noqa: BLE001 - best effort while shutting down
            print(f"warning: could not stop {service.name}: {exc}", file=sys.stderr)


def recreate_database() -> None:
    """Drop and create the bench's own PostgreSQL database, so every run starts from the same state."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
