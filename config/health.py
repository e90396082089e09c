"""/healthz: is the database reachable, is the broker reachable, and how many workers answer a ping."""
from __future__ import annotations

import time

from django.db import connection
from django.http import HttpRequest, JsonResponse

from .celery import app as celery_app


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; say why
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_broker(timeout: float = 1.0) -> dict:
    """One connection attempt with ``timeout`` socket timeouts: a dead or hung broker costs about that long,
    never kombu's 2 s retry interval or the broker's longer publishing timeouts."""
    started = time.perf_counter()
    probe_options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    try:
        with celery_app.connection_for_write(transport_options=probe_options) as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
            transport = conn.transport_cls
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True, "transport": str(transport), "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_workers(timeout: float = 0.5) -> dict:
    try:
        replies = celery_app.control.ping(timeout=timeout) or []
    except Exception as exc:  # noqa: BLE001
        return {"count": 0, "error": str(exc)[:200]}
    return {"count": len(replies), "names": sorted(name for reply in replies for name in reply)}


def healthz(request: HttpRequest) -> JsonResponse:
    database = check_database()
    broker = check_broker()
    workers = check_workers() if broker["ok"] and request.GET.get("workers", "1") != "0" else {"count": 0}
    ok = database["ok"] and broker["ok"]
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "database": database, "broker": broker, "workers": workers},
        status=200 if ok else 503,
    )
