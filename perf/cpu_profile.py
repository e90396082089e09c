"""Django CPU per request, without wrk: the bench's pages called in-process through the WSGI application.

On a shared, loaded machine wrk's requests per second say as much about the neighbours as about the code; the
CPU time this process spends per request (``time.process_time()``) does not. This boots the production
settings the bench uses (``perf.settings``, PostgreSQL, Redis), fills a database of its own with the bench's
data (``perf.prepare``: the real course, signed-in readers), then times N GETs of each page and, with
``--profile``, prints the top of a cProfile of the signed-in lesson page mix.

    .venv/bin/python -m perf.cpu_profile                 # prepare (first time), then time every page
    .venv/bin/python -m perf.cpu_profile --profile 30    # and the top 30 functions of the signed-in mix
    .venv/bin/python -m perf.cpu_profile --reuse-data    # keep the database and static files of the last run

Only this process's CPU is counted: PostgreSQL's and Redis's share of a request is not (the bench's "CPU ms per
request" counts them).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A database, Redis database and folder of its own, so that it never disturbs a running `make bench`.
os.environ.setdefault("BENCH_PG_DATABASE", "academy_cpu_profile")
os.environ.setdefault("BENCH_REDIS_DB", "13")
os.environ.setdefault("BENCH_DIR", str(REPO / ".var" / "cpu-profile"))
# The timing needs readers, not thousands of open quiz attempts.
os.environ.setdefault("BENCH_SUBMITTERS", "8")
os.environ.setdefault("BENCH_GRADUATES", "2")

from perf.common import FIXTURES_JSON, PYTHON, recreate_database, run_checked, site_env  # noqa: E402


def _prepare() -> None:
    recreate_database()
    run_checked([PYTHON, "-m", "perf.prepare"], env=site_env(), timeout=900)
    run_checked([PYTHON, "manage.py", "collectstatic", "--no-input", "-v", "0"], env=site_env(), timeout=900)


def _call(app, path: str, cookie: str | None) -> tuple[int, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), body


def _measure(requests: int, profile_top: int) -> None:
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    fixtures = json.loads(FIXTURES_JSON.read_text())
    lessons = fixtures["lesson_urls"]
    mixes = {
        "Django minimal view": [("/bench/minimal/", None)],
        "Lesson page, anonymous": [(url, None) for url in lessons],
        "Lesson page, signed in": [(url, c) for c in fixtures["reader_cookies"] for url in lessons],
        "Lesson page with 3 panels, signed in": [(lessons[0], c) for c in fixtures["reader_cookies"]],
        "Course page, anonymous": [(fixtures["course_url"], None)],
    }
    expected = {"Lesson page, signed in": b"Sign out", "Lesson page with 3 panels, signed in": b"Sign out"}
    for label, mix in mixes.items():
        # Warm: process copies, page cache, connections, and every reader's first visit of every lesson (which
        # records the read; the bench's load is mostly later visits).
        for path, cookie in mix + mix[:60]:
            _call(app, path, cookie)
        started = time.process_time()
        for index in range(requests):
            path, cookie = mix[index % len(mix)]
            status, body = _call(app, path, cookie)
            if status != 200 or expected.get(label, b"") not in body:
                raise SystemExit(f"{label}: {path} answered {status}")
        cpu_ms = (time.process_time() - started) * 1000 / requests
        print(f"{label:40s} {cpu_ms:6.2f} ms CPU per request ({requests} requests, this process only)")
    if profile_top:
        import cProfile
        import pstats

        mix = mixes["Lesson page, signed in"]
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on PostgreSQL
        profiler.enable()
        for index in range(requests):
            _call(app, *mix[index % len(mix)])
        profiler.disable()
        profiler.dump_stats(FIXTURES_JSON.parent / "signed-in-lesson.prof")  # for snakeviz, pstats, flameprof
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(profile_top)
        print(f"\ncProfile of {requests} signed-in lesson GETs (7 lessons x 64 readers), by cumulative time:")
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(profile_top)
        print(f"\nThe same, by own time:\n{out.getvalue()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="requests per page (default 1000)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the top N of a cProfile")
    parser.add_argument("--reuse-data", action="store_true", help="skip preparing the database and static files")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child's half
    args = parser.parse_args()
    if args.measure:
        _measure(args.requests, args.profile)
        return
    if not args.reuse_data or not FIXTURES_JSON.exists():
        _prepare()
    command = [PYTHON, "-m", "perf.cpu_profile", "--measure", "--requests", str(args.requests)]
    # The child's stderr holds one request-log line per request: kept in a file, shown only on failure.
    log_path = FIXTURES_JSON.parent / "measure.log"
    with log_path.open("w") as log:
        done = subprocess.run([*command, "--profile", str(args.profile)], cwd=REPO, env=site_env(), stderr=log)
    if done.returncode:
        raise SystemExit(log_path.read_text()[-3000:])


if __name__ == "__main__":
    main()
