"""The experiment queue under observation: progress readers vs page throughput, and the worker's memory.

Runs are started the way a learner starts them: POST /experiments/runs/ (JSON) with a signed-in session and a
CSRF token, then followed through GET /experiments/runs/<id>/ like the lesson panel's script (ETag/304).
"""
from __future__ import annotations

import http.client
import json
import secrets
import time

from .common import WORK, Service
from .loadgen import Request, read_result, run_wrk_background
from .web_load import Page, measure

READERS = 200
READER_POLL_S = 1.0  # static/js/experiments.js polls a running run every second
# A run long enough to cover three page measurements, yet small (hidden 32): it is what readers watch.
LONG_RUN = {
    "experiment": "long-range-recall",
    "params": {"distances": [5, 20, 50, 100, 150, 200], "steps": 2000, "hidden": 32, "batch": 16, "models": "all"},
}


def _request(port: int, method: str, path: str, *, cookie: str = "", body: dict | None = None,
             headers: dict | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    all_headers = {"Host": "127.0.0.1", **(headers or {})}
    payload = None
    if body is not None:
        csrf = secrets.token_hex(16)  # 32 characters: Django accepts the unmasked secret as the token
        cookie = f"{cookie}; csrftoken={csrf}" if cookie else f"csrftoken={csrf}"
        all_headers.update({"Content-Type": "application/json", "X-CSRFToken": csrf})
        payload = json.dumps(body)
    if cookie:
        all_headers["Cookie"] = cookie
    conn.request(method, path, body=payload, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    result = (response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    conn.close()
    return result


def start_run(port: int, cookie: str, experiment: str, params: dict) -> dict:
    status, _, data = _request(port, "POST", "/experiments/runs/", cookie=cookie,
                               body={"experiment": experiment, "params": params})
    if status not in (200, 202):
        raise RuntimeError(f"starting {experiment} answered {status}: {data[:500]!r}")
    return json.loads(data)


def run_state(port: int, run_url: str) -> dict:
    status, _, data = _request(port, "GET", run_url)
    if status != 200:
        raise RuntimeError(f"GET {run_url} answered {status}")
    return json.loads(data)


def wait_for(port: int, run_url: str, statuses: set[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = run_state(port, run_url)
        if state["status"] in statuses or time.monotonic() > deadline:
            return state
        time.sleep(0.25)


def etag_check(port: int, run_url: str) -> dict:
    """Does the run-detail endpoint answer If-None-Match with 304?"""
    status, headers, _ = _request(port, "GET", run_url)
    etag = headers.get("etag")
    if status != 200 or not etag:
        return {"etag": bool(etag), "not_modified": False}
    again, _, body = _request(port, "GET", run_url, headers={"If-None-Match": etag})
    return {"etag": True, "not_modified": again == 304 and not body, "status_with_etag": again}


def readers_vs_pages(web: Service, page: Page, cookie: str) -> dict:
    """Page throughput (capacity) while a run is running: without readers, with 200 readers, without again."""
    port = web.extra["port"]
    run = start_run(port, cookie, LONG_RUN["experiment"], {**LONG_RUN["params"], "seed": secrets.randbelow(10**6)})
    state = wait_for(port, run["url"], {"running", "succeeded", "failed"}, timeout=120)
    if state["status"] != "running":
        raise RuntimeError(f"the observed run did not start running: {state['status']} {state.get('error')}")
    before = measure(web, page)
    out = WORK / "readers-out.json"
    out.unlink(missing_ok=True)
    duration = before.duration_s + 2
    readers, _ = run_wrk_background(
        port=port, requests=[Request("GET", run["url"])], duration_s=duration, out=out, expect_status="200,304",
        rate=READERS / READER_POLL_S, connections=READERS, etag=True,
    )
    time.sleep(1)  # let the readers settle into their one-per-second rhythm
    during = measure(web, page)
    readers.wait(timeout=duration + 30)
    reader_stats = read_result(name="readers", out=out, rate=READERS / READER_POLL_S, connections=READERS)
    state_after = run_state(port, run["url"])
    after = measure(web, page)
    baseline = (before.rps + after.rps) / 2
    return {
        "run": {"url": run["url"], "status_after": state_after["status"], "progress_after": state_after["progress"]},
        "page": page.key,
        "without_readers_before": before.as_dict(),
        "with_readers": during.as_dict(),
        "without_readers_after": after.as_dict(),
        "readers": reader_stats.as_dict(),
        "slowdown": 1 - during.rps / baseline if baseline else None,
        "run_still_running": state_after["status"] == "running",
        "etag": etag_check(port, run["url"]),
    }


def worker_memory(web: Service, worker: Service, cookie: str, runs: int = 20) -> dict:
    """RSS of the worker (parent + pool child) after 2 and after ``runs`` small runs."""
    port = web.extra["port"]
    samples = []
    durations = []
    for index in range(runs):
        params = {"seq_len": 20, "hidden": 16, "samples": 4, "seeds": 1, "models": "rnn",
                  "seed": 1_000_000 + secrets.randbelow(10**6) * 100 + index}  # distinct: never a reused run
        run = start_run(port, cookie, "gradient-flow", params)
        state = wait_for(port, run["url"], {"succeeded", "failed"}, timeout=180)
        if state["status"] != "succeeded":
            raise RuntimeError(f"small run {index + 1} {state['status']}: {state.get('error')}")
        durations.append(state.get("duration_s"))
        time.sleep(0.3)  # the pool child settles after acknowledging the task
        samples.append(worker.rss_bytes())
    after_2 = sum(samples[1].values())
    after_n = sum(samples[-1].values())
    return {
        "runs": runs,
        "rss_after_2_bytes": after_2,
        "rss_after_n_bytes": after_n,
        "growth": after_n / after_2 - 1,
        "per_run_total_rss_mib": [round(sum(s.values()) / 2**20, 1) for s in samples],
        "run_durations_s": durations,
    }
