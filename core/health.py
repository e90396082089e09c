"""/healthz: is the database reachable, is the broker reachable, and (for operators) which workers answer.

Anyone may ask whether the site is up: the public answer says only ok / not ok for the database and the broker,
never a host name or an error message, and never waits on a worker ping. Staff, or a monitor that sends
``Authorization: Bearer $HEALTHZ_TOKEN``, get the detailed report with errors and worker names.
"""
from __future__ import annotations

import hmac
import threading
import time

from celery import current_app as celery_app  # the project app: config/__init__.py creates it before any app loads
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


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


_probe_lock = threading.Lock()
_last_public: tuple[dict, int] | None = None


def _public_status() -> tuple[dict, int]:
    """Database and broker as ok / not ok. While one thread of this process probes, the others answer with the
    last result instead of queueing behind it: a dead broker cannot make health checks hold every web thread."""
    global _last_public
    if not _probe_lock.acquire(blocking=_last_public is None):
        return _last_public  # type: ignore[return-value]
    try:
        database_ok, broker_ok = check_database()["ok"], check_broker()["ok"]
        ok = database_ok and broker_ok
        _last_public = (
            {"status": "ok" if ok else "degraded", "database": {"ok": database_ok}, "broker": {"ok": broker_ok}},
            200 if ok else 503,
        )
        return _last_public
    finally:
        _probe_lock.release()


def _may_see_details(request: HttpRequest) -> bool:
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def healthz(request: HttpRequest) -> JsonResponse:
    if not _may_see_details(request):
        body, status = _public_status()
        return JsonResponse(body, status=status, headers={"Cache-Control": "no-store"})
    database = check_database()
    broker = check_broker()
    workers = check_workers() if broker["ok"] and request.GET.get("workers", "1") != "0" else {"count": 0}
    ok = database["ok"] and broker["ok"]
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "database": database, "broker": broker, "workers": workers},
        status=200 if ok else 503, headers={"Cache-Control": "no-store"},
    )
