"""The client's address, the same for sign-in lockouts (django-axes) and throttles.

Behind a TLS proxy every request comes from the proxy's address, so one client's failures would lock out
everybody. With ``TRUSTED_PROXY_COUNT = N`` (the proxies in front of the site that append to
``X-Forwarded-For``), the client is the N-th address from the right of that header: addresses further left
were written by the client itself and can be forged.
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote  # not through the expected proxies: trust only the socket
    return forwarded[-proxies]


def ratelimit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's key function signature."""
    return client_ip(request)
