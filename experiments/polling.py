"""Cheap progress polling: a reader whose copy of a run is current gets 304 before sessions, auth and routing.

A lesson panel polls ``GET /experiments/runs/<id>/`` about once a second with ``If-None-Match``; with hundreds
of readers following one run, those polls must cost next to nothing (the budget: 200 readers may slow page
throughput by at most 20 %). The run-detail view records each run's current ETag in the cache; this middleware
answers a matching poll from that record with one cache read. Every change that alters the ETag (progress,
start, end, reaping) forgets the record (:func:`forget`), and the record expires after ``RECORD_SECONDS`` in any
case, which bounds how late a queue position or an overdue run is noticed.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils.http import parse_etags

RECORD_SECONDS = 5


def _key(run_id: int) -> str:
    return f"experiments:run-etag:{run_id}"


def remember(run_id: int, etag: str) -> None:
    cache.set(_key(run_id), etag, timeout=RECORD_SECONDS)


def forget(*run_ids: int) -> None:
    if run_ids:
        cache.delete_many([_key(run_id) for run_id in run_ids])


def not_modified(etag: str) -> HttpResponse:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    # Always revalidate: a run changes every second while it runs.
    response["Cache-Control"] = "no-cache"
    return response


class RunPollMiddleware:
    """Placed before the session middleware (config/settings/base.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        prefix = reverse("experiments:run_detail", kwargs={"run_id": 0})[: -len("0/")]
        self.pattern = re.compile(rf"^{re.escape(prefix)}(\d+)/$")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
        if if_none_match and request.method == "GET":
            match = self.pattern.match(request.path_info)
            if match:
                etag = cache.get(_key(int(match.group(1))))
                if etag and etag in parse_etags(if_none_match):
                    return not_modified(etag)
        return self.get_response(request)
