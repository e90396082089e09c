"""Cross-cutting HTTP concerns: security headers and one structured log line per request."""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

request_log = logging.getLogger("academy.requests")
logger = logging.getLogger(__name__)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (our own scripts only, no inline script) and related headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = "; ".join(f"{k} {v}" for k, v in settings.CONTENT_SECURITY_POLICY.items())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class RequestLogMiddleware:
    """Logs each request as one JSON line with an id (also returned as X-Request-ID) and its duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        request.request_id = request_id
        started = time.perf_counter()
        response = self.get_response(request)
        response.headers["X-Request-ID"] = request_id
        if request_log.isEnabledFor(logging.INFO):
            user = getattr(request, "user", None)
            request_log.info(json.dumps({
                "event": "request",
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            }))
        return response


class SiteUrlCheckMiddleware:
    """Notices requests that arrive on a host other than ``SITE_URL``'s.

    Every absolute link the site hands out (LinkedIn's certUrl, og:url and og:image, the canonical link, the
    PDF's QR code and "Verify at" line) is built from ``SITE_URL``, so a mismatch means those links point to an
    address readers may not reach, and a PDF keeps it for ever. Logged once per host and process; staff also
    see a banner (``core.context_processors.site``).
    """

    MAX_HOSTS_REMEMBERED = 32  # any client can send any Host header: never grow without bound

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.expected_host = urlsplit(settings.SITE_URL).netloc
        self.warned: set[str] = set()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = request.META.get("HTTP_HOST", "")
        if host and host != self.expected_host:
            request.site_url_mismatch = host
            if host not in self.warned and len(self.warned) < self.MAX_HOSTS_REMEMBERED:
                self.warned.add(host)
                logger.warning(
                    "Request for host %r, but SITE_URL is %r: certificate links, QR codes and share previews "
                    "point to SITE_URL. Set SITE_URL to the address readers use.", host, settings.SITE_URL,
                )
        return self.get_response(request)
