"""Which tests are slow: `make test-fast` (``-m "not slow"``) leaves them out, `make test` and CI run them all.

tests/conftest.py marks a test `slow` when ``slow_reason`` gives a reason, so a new browser test, a new test on a
real worker or on the real course is slow without anyone remembering to say so. Tests slow for a reason of their
own (the course's listings and notebook run, peak-memory measurements of real runs, a fresh interpreter importing
torch, a deliberately hung broker) carry ``@pytest.mark.slow`` by hand.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.support.paths import REPO

TESTS = REPO / "tests"
# Folders whose every test starts something heavy: Chromium against a live server, real Redis and worker processes.
SLOW_FOLDERS = {
    TESTS / "browser": "drives Chromium against a live server",
    TESTS / "integration": "starts real services and worker processes",
}
# Fixtures that cost seconds whichever test asks for them.
SLOW_FIXTURES = {
    "celery_worker_process": "starts a real Celery worker process",
    "live_server": "serves the site from a thread for a real browser",
    "course": "loads the real course from content/, rendering every lesson (about a second per test)",
    "course_copy": "loads a copy of the real course (tests/lessons: the loader and exporter round trips)",
    "redis_server": "starts a redis-server of its own, then hangs or kills it",
}
# A test not marked slow whose body takes longer than this is named at the end of the run, to be marked or made
# quicker: the fast subset stays under a minute only while its tests stay this quick.
FAST_TEST_BUDGET_S = 2.0


def slow_reason(*, path: Path, fixturenames: Iterable[str]) -> str | None:
    """Why the test at ``path`` using ``fixturenames`` is slow, or None when nothing about it is known to be."""
    for folder, reason in SLOW_FOLDERS.items():
        if path.is_relative_to(folder):
            return reason
    for fixture in fixturenames:
        if fixture in SLOW_FIXTURES:
            return f"{fixture}: {SLOW_FIXTURES[fixture]}"
    return None


def is_browser_test(path: Path) -> bool:
    return path.is_relative_to(TESTS / "browser")
