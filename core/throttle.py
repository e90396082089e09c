"""Throttles for what a script could repeat: sign-ups, password resets, name corrections, experiment runs.

Counted with django-ratelimit in the shared cache (Redis in production), per client address (``core.client_ip``)
and, where there is one, per account. Over the limit, HTML pages answer 429 with a page that says when to try
again and JSON endpoints a 429 with a message; both send ``Retry-After``. Limits live in
``settings.THROTTLE_RATES`` ("N/s|m|h|d"); a cache outage lets requests through (``RATELIMIT_FAIL_OPEN``).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from .client_ip import ratelimit_key

_KEYS = {"ip": ratelimit_key, "user": "user", "email": "post:email"}


def exceeded(request: HttpRequest, group: str) -> int | None:
    """Count this request against ``group``'s limits; the seconds to wait if any is exceeded, else None."""
    wait = None
    for key_name, rate in settings.THROTTLE_RATES.get(group, {}).items():
        if key_name == "user" and not request.user.is_authenticated:
            continue
        usage = get_usage(request, group=f"throttle:{group}:{key_name}", key=_KEYS[key_name], rate=rate,
                          method=get_usage.ALL, increment=True)
        if usage and usage["should_limit"]:
            wait = max(wait or 0, max(usage["time_left"], 1))
    return wait


def too_many_requests(request: HttpRequest, retry_after_s: int, *, json: bool = False) -> HttpResponse:
    minutes = max(1, round(retry_after_s / 60))
    message = f"Too many attempts from here. Please try again in about {minutes} minute{'s' if minutes > 1 else ''}."
    if json:
        response = JsonResponse({"error": message, "retry_after_s": retry_after_s}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after_s)
    return response


def throttle(group: str, *, methods: tuple[str, ...] = ("POST",), json: bool = False) -> Callable:
    """Limit a view's ``methods`` by ``settings.THROTTLE_RATES[group]``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods:
                wait = exceeded(request, group)
                if wait is not None:
                    return too_many_requests(request, wait, json=json)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
