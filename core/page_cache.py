"""Whole-page cache for anonymous readers of public pages (lessons, course, home, certificate verification).

Most readers of a course are not signed in, and their pages are the same for everyone: the cache serves them
without a session, a user, a query or a template (the lesson page's budget: 500 pages/s on 2 cores).
How it stays correct:

- Only views decorated with :func:`cache_anonymous_page` are stored, only their 200 answers to a GET without a
  query string from a request that carried no session or messages cookie, and never a response that sets a
  cookie or used a CSRF token (that token belongs to one visitor).
- Every stored page belongs to one or more namespaces ("content", "certificates", "experiments"), each with a
  *generation*: a token in the cache. A change bumps the generation (:func:`invalidate`: model signals for
  admin edits and the loader, the experiment service when a run succeeds), and a page stored under an older
  generation of any of its namespaces is a miss. Experiment results have a namespace of their own so that a
  finished run renews the lesson pages that show it without dropping every process's quiz structures. A page is
  stored under the generation read *before* it was rendered, so a change during the render is never hidden.
- ``ANONYMOUS_PAGE_CACHE_SECONDS`` bounds what cannot be invalidated (the "3 minutes ago" of a chart);
  0 turns the cache off.

Hits and misses are visible in the ``X-Page-Cache`` response header.

Within a request, :class:`RequestGenerationsMiddleware` makes the first generation read fetch every namespace's
token in one round trip and answers the request's later reads from that snapshot (the page shell, the quiz
structures and the signed-in user's copy each need one; a request that renews a generation sees its new token).
Reading early is safe: a copy tagged with an older generation is only ever a miss.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse

# No page is stored under the last two: "users" tags per-process copies of user rows (accounts.signed_in),
# "runs" the per-process answers to "has this reader a run in progress?" (experiments.selectors).
NAMESPACES = ("content", "certificates", "experiments", "users", "runs")
T = TypeVar("T")
_MARK = "_anonymous_page_cache_namespace"
# Headers that describe one response only, or that the outer middleware sets again on every response.
_NOT_STORED = {"set-cookie", "x-request-id", "x-page-cache", "date"}


def _check_namespace(namespace: str) -> None:
    if namespace not in NAMESPACES:
        raise ValueError(f"Unknown page cache namespace {namespace!r}; known: {', '.join(NAMESPACES)}")


def _generation_key(namespace: str) -> str:
    return f"page-cache:generation:{namespace}"


def _page_key(path: str) -> str:
    return f"page-cache:page:{path}"


def _seconds() -> int:
    return int(getattr(settings, "ANONYMOUS_PAGE_CACHE_SECONDS", 0))


# The generations this request has read, by namespace; None outside a request (tasks, commands, the shell).
_request_generations: ContextVar[dict[str, str | None] | None] = ContextVar("request_generations", default=None)


class RequestGenerationsMiddleware:
    """One cache round trip for all the generation tokens a request reads (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_generations.set({})
        try:
            return self.get_response(request)
        finally:
            _request_generations.reset(token)


def invalidate(namespace: str) -> None:
    """Every stored page of ``namespace`` becomes a miss (a new generation token)."""
    _check_namespace(namespace)
    generation = secrets.token_hex(8)
    cache.set(_generation_key(namespace), generation, timeout=None)
    snapshot = _request_generations.get()
    if snapshot is not None:
        snapshot[namespace] = generation


def invalidate_now_and_on_commit(namespace: str, *, using: str | None = None) -> None:
    """For a change made in a transaction: a reader between the first renewal and the commit still saw the old
    rows and may have stored them under the new generation, so the generation is renewed again on commit
    (outside a transaction, at once)."""
    invalidate(namespace)
    transaction.on_commit(lambda: invalidate(namespace), using=using)


def current_generation(namespace: str) -> str | None:
    """The namespace's generation token (started if missing); None while the cache cannot be reached.

    Other caches of published content (e.g. the quiz structure in ``quizzes.selectors``) key on it too, so one
    invalidation reaches them all.
    """
    return _generations((namespace,))[namespace]


def current_generations(namespaces: tuple[str, ...]) -> str | None:
    """One token for several namespaces: it changes when any of theirs does; None while the cache is away."""
    found = _generations(namespaces)
    generations = [found[namespace] for namespace in namespaces]
    return None if None in generations else ".".join(generations)


def _generations(namespaces: tuple[str, ...]) -> dict[str, str | None]:
    snapshot = _request_generations.get()
    if snapshot is not None and all(namespace in snapshot for namespace in namespaces):
        return snapshot
    # In a request, read them all: the request's other readers then need no round trip.
    wanted = NAMESPACES if snapshot is not None else namespaces
    found = cache.get_many([_generation_key(namespace) for namespace in wanted])
    generations = {namespace: found.get(_generation_key(namespace)) for namespace in wanted}
    for namespace in [namespace for namespace in wanted if generations[namespace] is None]:
        key = _generation_key(namespace)
        cache.add(key, secrets.token_hex(8), timeout=None)  # the first reader starts it (or the cache is away)
        generations[namespace] = cache.get(key)
    if snapshot is not None:
        snapshot.update(generations)
    return generations


class ProcessCopies:
    """This process's copies of values read from published content (a quiz's questions, a lesson's rows), kept
    while ``namespace``'s generation is unchanged: one cache read instead of the queries that build them.
    Callers must treat the values as read-only, since every request of the process shares them."""

    def __init__(self, namespace: str) -> None:
        _check_namespace(namespace)
        self.namespace = namespace
        self._copies: dict[Hashable, tuple[str, Any]] = {}

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        # The generation is read before loading, so a change during the load leaves an outdated tag behind.
        generation = current_generation(self.namespace)
        copy = self._copies.get(key)
        if generation is not None and copy is not None and copy[0] == generation:
            return copy[1]
        value = load()
        if generation is not None:
            self._copies[key] = (generation, value)
        return value


def cache_anonymous_page(*namespaces: str) -> Callable:
    """Mark a view's anonymous answers as the same for every anonymous reader (see the module docstring); the
    page is stored under the generations of ``namespaces``, the kinds of change that alter it."""
    for namespace in namespaces:
        _check_namespace(namespace)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if not request.user.is_authenticated:
                setattr(response, _MARK, namespaces)
            return response

        return wrapper

    return decorate


def _eligible(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


class AnonymousPageCacheMiddleware:
    """Placed before the session middleware: a hit costs one cache round trip and no session, user or query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = _seconds()
        if seconds <= 0 or not _eligible(request):
            return self.get_response(request)
        page_key = _page_key(request.path)
        found = cache.get_many([page_key, *(_generation_key(ns) for ns in NAMESPACES)])
        generations = {ns: found.get(_generation_key(ns)) for ns in NAMESPACES}
        snapshot = _request_generations.get()
        if snapshot is not None:  # the view's own reads, on a miss, need no second round trip
            snapshot.update({ns: value for ns, value in generations.items() if value is not None})
        stored = found.get(page_key)
        if stored is not None:
            namespaces, generation, headers, content = stored
            wanted = tuple(generations.get(namespace) for namespace in namespaces)
            if None not in wanted and generation == wanted:
                response = HttpResponse(content)
                for name, value in headers:
                    response.headers[name] = value
                response.headers["X-Page-Cache"] = "hit"
                return response

        response = self.get_response(request)
        namespaces = getattr(response, _MARK, None)
        if namespaces is None:
            return response
        response.headers["X-Page-Cache"] = "miss"
        if self._storable(request, response):
            generation = tuple(generations[namespace] for namespace in namespaces)
            if None in generation:
                # No generation yet (first request, or the cache was emptied): start one; this page is stored
                # from the next request on, so a change that raced this first render cannot be hidden.
                for namespace in namespaces:
                    cache.add(_generation_key(namespace), secrets.token_hex(8), timeout=None)
            else:
                headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _NOT_STORED]
                cache.set(page_key, (namespaces, generation, headers, response.content), timeout=seconds)
        return response

    @staticmethod
    def _storable(request: HttpRequest, response: HttpResponse) -> bool:
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        )


def invalidate_on_change(namespace: str, *models: type) -> None:
    """Any save or delete of these models (admin, loader, services) invalidates ``namespace``'s pages."""
    from django.db.models.signals import post_delete, post_save

    def receiver(sender: type, using: str | None = None, **kwargs: object) -> None:
        invalidate_now_and_on_commit(namespace, using=using)

    for model in models:
        uid = f"page_cache.{namespace}.{model._meta.label}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}.save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}.delete")
