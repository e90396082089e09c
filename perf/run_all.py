"""`make bench`: every performance budget, measured, printed as a table and written to the docs.

    .venv/bin/python -m perf.run_all [--only STAGE ...] [--no-docs]

Stages: queries, pages, certificates, queue, memory, worker, experiments. Each stage's failure is recorded
and reported without stopping the others. Results: .var/bench/results.json; the table also replaces the
generated section of docs/performance.md (unless --no-docs).

Needs PostgreSQL and Redis on 127.0.0.1 and wrk (`make bench` installs it). Everything listens on loopback.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from perf import report, web_memory
from perf.common import (
    FIXTURES_JSON,
    PYTHON,
    REPO,
    RESULTS_JSON,
    WEB_THREADS,
    WEB_WORKERS,
    WORK,
    database_url,
    flush_redis,
    machine_description,
    recreate_database,
    run_checked,
    site_env,
    start_web,
    start_worker,
    stop_all,
)
from perf.loadgen import Request, wrk_binary
from perf.web_load import Page, measure_page, warm_up

STAGES = ("queries", "pages", "certificates", "queue", "memory", "worker", "experiments")


def prepare() -> dict:
    """A fresh bench database with the course and the learners, and production static files, side by side."""
    recreate_database()
    flush_redis()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        data = pool.submit(run_checked, [PYTHON, "-m", "perf.prepare"], env=site_env(), timeout=600)
        static = pool.submit(
            run_checked, [PYTHON, "manage.py", "collectstatic", "--no-input", "-v", "0"], env=site_env(), timeout=600
        )
        static.result()
        print(f"  data: {data.result().strip()}")
    return json.loads(FIXTURES_JSON.read_text())


SEARCH_QUERIES = ("attention", "vanishing+gradient", "softmax+scaling", "kv+cache", "layer+norm", "positional+encoding")


def pages_for(fixtures: dict) -> dict[str, Page]:
    lessons = tuple(Request("GET", url) for url in fixtures["lesson_urls"])
    signed_in = tuple(
        Request("GET", url, cookie=cookie) for cookie in fixtures["reader_cookies"] for url in fixtures["lesson_urls"]
    )
    pages = {
        "minimal": Page("minimal", "Django minimal view (baseline)", (Request("GET", "/bench/minimal/"),),
                        expect_text="ok"),
        "lesson": Page("lesson", "Lesson page, anonymous", lessons, expect_text="<h1>", budget_rps=500,
                       budget_p99_ms=50),
        "lesson_signed_in": Page("lesson_signed_in", "Lesson page, signed in", signed_in, expect_text="Sign out",
                                 budget_rps=500, budget_p99_ms=50),
        "course": Page("course", "Course page, anonymous", (Request("GET", fixtures["course_url"]),),
                       expect_text="module-card"),
        # Site search over the whole course: a query is never cached, so this is the index's real cost.
        "search": Page("search", "Site search (/search/?q=...)",
                       tuple(Request("GET", f"/search/?q={q}") for q in SEARCH_QUERIES),
                       expect_text="search-result", budget_rps=100, budget_p99_ms=50),
    }
    if fixtures.get("verification_urls"):
        pages["verification"] = Page(
            "verification", "Certificate verification page",
            tuple(Request("GET", url) for url in fixtures["verification_urls"]),
            expect_text="Status: valid", budget_rps=500, budget_p99_ms=50,
        )
    if fixtures.get("submissions"):
        pages["quiz_submit"] = Page(
            "quiz_submit", "Quiz submission (grading + progress)",
            tuple(Request("POST", s["path"], cookie=s["cookie"], body=s["body"]) for s in fixtures["submissions"]),
            expect_status=302, expect_text="/attempts/", budget_rps=150, budget_p99_ms=100, once=True,
        )
    return pages


def sealed_attempts() -> int:
    import psycopg

    with psycopg.connect(database_url()) as conn:
        return conn.execute("SELECT count(*) FROM quizzes_attempt WHERE submitted_at IS NOT NULL").fetchone()[0]


def stage_queries() -> dict:
    """The query-count budgets are enforced by tests; the bench runs them so the table shows their state: every
    test about queries (by name) in these files, plus the render-cache test (no Markdown parsing when warm)."""
    files = [
        "tests/test_query_counts.py", "tests/lessons/test_pages.py", "tests/quizzes/test_answer_key_safety.py",
        "tests/quizzes/test_progress.py", "tests/certificates/test_verification_page.py",
    ]
    files = [name for name in files if (REPO / name).exists()]
    started = time.monotonic()
    completed = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "quer or warm_view", *files],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    summary = (completed.stdout.strip().splitlines() or [""])[-1]
    return {"passed": completed.returncode == 0, "summary": summary, "files": files,
            "seconds": round(time.monotonic() - started, 1),
            "output": completed.stdout[-3000:] if completed.returncode else ""}


def stage_pages(web, pages: dict[str, Page]) -> dict:
    from perf.loadgen import CONCURRENCY as page_connections

    results = {}
    for key in ("minimal", "lesson", "lesson_signed_in", "course", "search", "verification", "quiz_submit"):
        if key not in pages:
            continue
        page = pages[key]
        sealed_before = sealed_attempts() if page.once else 0
        results[key] = measure_page(web, page)
        if page.once:
            sealed = sealed_attempts() - sealed_before
            good = results[key]["capacity"]["good"] + (results[key]["at_budget_rate"] or {}).get("good", 0)
            results[key]["sealed_attempts"] = sealed
            # A request still in flight when wrk stops is answered after wrk stopped counting: at most one per
            # connection per run may be sealed without being counted.
            results[key]["sealed_matches_responses"] = 0 <= sealed - good <= 2 * page_connections
        print("  " + report.page_line(results[key]))
    return results


def stage_certificates(web, fixtures: dict) -> dict:
    import http.client

    timing = json.loads(run_checked([PYTHON, "-m", "perf.certificate_timing"], env=site_env(), timeout=300))
    port = web.extra["port"]
    verification = fixtures["verification_urls"][0]
    served = {}
    for kind, suffix in (("pdf", ".pdf"), ("png", ".png")):
        url = verification.rstrip("/") + suffix
        media_before = report.media_files()
        samples = []
        for _ in range(20):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            started = time.perf_counter()
            conn.request("GET", url, headers={"Host": "127.0.0.1"})
            response = conn.getresponse()
            body = response.read()
            samples.append((time.perf_counter() - started) * 1000)
            conn.close()
            if response.status != 200 or not body:
                raise RuntimeError(f"GET {url} answered {response.status}")
        media_after = report.media_files()
        samples.sort()
        served[kind] = {
            "url": url,
            "median_ms": round(samples[len(samples) // 2], 2),
            "new_files_in_storage": sorted(set(media_after) - set(media_before)),
            "stored_copy": report.stored_copy_exists(kind, verification),
        }
    return {**timing, "served": served}


def stage_queue(web, pages: dict[str, Page], fixtures: dict) -> dict:
    from perf import experiment_queue

    worker = start_worker()
    try:
        return experiment_queue.readers_vs_pages(web, pages["lesson"], fixtures["reader_cookies"][0])
    finally:
        stop_all([worker])


def stage_worker(web, fixtures: dict) -> dict:
    from perf import experiment_queue

    worker = start_worker(name="celery-worker-memory")
    try:
        return experiment_queue.worker_memory(web, worker, fixtures["reader_cookies"][1])
    finally:
        stop_all([worker])


def stage_memory(sampler, pages: dict[str, Page]) -> dict:
    from perf import web_memory

    mix = [pages[key] for key in ("lesson", "lesson_signed_in", "course", "verification") if key in pages]
    return {"workers": WEB_WORKERS, **web_memory.finish(sampler, mix)}


def stage_experiments(deadline: float) -> dict:
    """perf/run_experiments.py (the experiments engineer's), one experiment per process so that a slow one cannot
    take the others' figures with it; each gets what is left of the overall deadline."""
    from perf import experiment_report
    from perf.cpu_monitor import CpuMonitor

    log = WORK / "experiments.txt"
    outputs, runs = [], {}
    for name in experiment_report.WALL_BUDGETS_S:
        left = deadline - time.monotonic()
        if left < 30:
            runs[name] = {"skipped": "no time left within the bench's 10-minute budget"}
            continue
        started = time.monotonic()
        with CpuMonitor() as monitor, (WORK / f"experiments-{name}.txt").open("w") as out:
            process = subprocess.Popen([PYTHON, "-m", "perf.run_experiments", "--only", name], cwd=REPO, stdout=out,
                                       stderr=subprocess.STDOUT, text=True)
            try:
                process.wait(timeout=left)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        text = (WORK / f"experiments-{name}.txt").read_text(errors="replace")
        outputs.append(text)
        runs[name] = {"returncode": process.returncode, "seconds": round(time.monotonic() - started, 1),
                      "cpu": monitor.usage.as_dict(), "tail": text[-1500:]}
    log.write_text("\n".join(outputs))
    figures = experiment_report.parse("\n".join(outputs))
    return {"available": True, "runs": runs, "figures": figures}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=STAGES, help="run only these stages")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")
    parser.add_argument("--reuse-data", action="store_true",
                        help="development only: keep the last run's database (quiz submissions are used up)")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: print (and write to the docs) the table of the last results.json")
    return parser.parse_args(argv)


class StageRunner:
    """Runs the selected stages and records each one's figures, or its error without stopping the others."""

    def __init__(self, results: dict, stages: list[str], started: float) -> None:
        self.results, self.stages, self.started = results, stages, started

    def log(self, what: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {what} ...", flush=True)

    def __call__(self, name: str, function: Callable[..., Any], *stage_args: Any) -> Any:
        if name not in self.stages:
            return None
        self.log(name)
        try:
            value = function(*stage_args)
        except Exception as exc:  # noqa: BLE001 - one stage's failure must not hide the others' figures
            self.results["errors"][name] = f"{type(exc).__name__}: {exc}"
            print(f"  FAILED: {self.results['errors'][name]}\n{traceback.format_exc()}", file=sys.stderr)
            return None
        self.results[name] = value
        return value


def _run_site_stages(stage: StageRunner, *, reuse_data: bool) -> None:
    """The stages that need the site running: one web server (and its memory sampler) for all of them."""
    results = stage.results
    web = None
    try:
        stage.log("prepare (database, course, learners)")
        fixtures = json.loads(FIXTURES_JSON.read_text()) if reuse_data else prepare()
        pages = pages_for(fixtures)
        web = start_web()
        sampler = web_memory.RssCheckpoints(web)
        sampler.start()
        results["warm_up_first_answer_s"] = round(warm_up(web, list(pages.values()), workers=WEB_WORKERS), 2)
        stage("pages", stage_pages, web, pages)
        stage("certificates", stage_certificates, web, fixtures)
        stage("queue", stage_queue, web, pages, fixtures)
        stage("worker", stage_worker, web, fixtures)
        stage("memory", stage_memory, sampler, pages)
        sampler.stop()
        stop_all([web])
        web = None
    except Exception as exc:  # noqa: BLE001 - setup failed: the site's stages cannot run, the experiments still can
        results["errors"]["site"] = f"{type(exc).__name__}: {exc}"
        print(f"  FAILED: {results['errors']['site']}\n{traceback.format_exc()}", file=sys.stderr)
    finally:
        if web is not None:
            stop_all([web])


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.report_only:
        results = json.loads(RESULTS_JSON.read_text())
        table = report.budget_table(results)
        print(report.render_text(table, results))
        if not args.no_docs:
            report.update_docs(table, results)
        return 0
    stages = args.only or list(STAGES)
    started = time.monotonic()
    wrk_binary()
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "web_workers": WEB_WORKERS,
        "web_threads": WEB_THREADS,
        "stages": stages,
        "errors": {},
    }
    stage = StageRunner(results, stages, started)
    stage("queries", stage_queries)
    if set(stages) - {"queries", "experiments"}:
        _run_site_stages(stage, reuse_data=args.reuse_data)
    stage("experiments", stage_experiments, started + report.TOTAL_BUDGET_S - 15)

    results["total_seconds"] = round(time.monotonic() - started, 1)
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(results, indent=2, default=str))
    table = report.budget_table(results)
    print()
    print(report.render_text(table, results))
    if not args.no_docs:
        report.update_docs(table, results)
        print(f"\nResults: {RESULTS_JSON}; table written to docs/performance.md")
    return 0 if not results["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
