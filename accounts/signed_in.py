"""Who is signed in, without a database query on most requests.

Django's ``AuthenticationMiddleware`` loads the user's row on every request of a signed-in reader (about a
quarter of a signed-in lesson page's CPU). This module keeps each process's recently seen rows and hands every
request its own fresh instance built from them, under two conditions that keep it exactly as strict as Django:

- A copy is used only while the "users" generation (``core.page_cache``) is the one read before the row was
  loaded, and for at most ``SIGNED_IN_USER_COPY_SECONDS``. Every save or delete of a user renews the generation
  (after commit too), except a save of ``last_login`` alone: signing in changes nothing a page shows, and
  renewing on every sign-in would empty every process's copies many times a minute on a busy site. Code that
  changes users with ``QuerySet.update()`` must call :func:`users_changed` (the seconds bound the rest).
- The session must carry the hash Django checks (``get_session_auth_hash``: a password change signs the other
  sessions out) and name the model backend; anything else (no copy, a stale one, a mismatch, another backend)
  goes through Django's own ``get_user``, which also handles session-hash fallbacks and flushing.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from core import page_cache

NAMESPACE = "users"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _seconds() -> float:
    return float(settings.SIGNED_IN_USER_COPY_SECONDS)


class UserCopies:
    """This process's user rows as plain values, by primary key: (generation, expiry, field values)."""

    def __init__(self, *, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Any, tuple[str, float, tuple]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, pk: Any) -> Any:
        """A new instance of user ``pk`` if this process's copy is current, else None."""
        with self._lock:
            entry = self._entries.get(pk)
        if entry is None:
            return None
        generation, expires, values = entry
        if time.monotonic() >= expires or generation != page_cache.current_generation(NAMESPACE):
            return None
        model = get_user_model()
        return model.from_db(DEFAULT_DB_ALIAS, _field_names(model), values)

    def put(self, user: Any, *, generation: str | None) -> None:
        seconds = _seconds()
        if generation is None or seconds <= 0:
            return
        values = tuple(getattr(user, name) for name in _field_names(type(user)))
        with self._lock:
            self._entries[user.pk] = (generation, time.monotonic() + seconds, values)
            self._entries.move_to_end(user.pk)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _field_names(model: type) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


_copies = UserCopies()


def signed_in_user(request: HttpRequest) -> Any:
    """What ``django.contrib.auth.get_user(request)`` returns, from this process's copy when it is current."""
    session = request.session
    session_hash = session.get(HASH_SESSION_KEY)
    if (
        _seconds() <= 0
        or not session_hash
        or session.get(BACKEND_SESSION_KEY) != MODEL_BACKEND
        or MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS
    ):
        return auth.get_user(request)
    try:
        pk = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
    except (KeyError, ValidationError):
        return auth.get_user(request)
    user = _copies.get(pk)
    if user is not None and user.is_active and constant_time_compare(session_hash, user.get_session_auth_hash()):
        return user
    generation = page_cache.current_generation(NAMESPACE)  # read before the row: a change meanwhile is a miss
    user = auth.get_user(request)
    if user.is_authenticated and user.pk == pk:
        _copies.put(user, generation=generation)
    return user


class SignedInUserMiddleware(AuthenticationMiddleware):
    """``AuthenticationMiddleware`` whose ``request.user`` comes from :func:`signed_in_user`."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user(request))


def _user(request: HttpRequest) -> Any:
    if not hasattr(request, "_cached_user"):  # the attribute Django's own middleware memoises under
        request._cached_user = signed_in_user(request)
    return request._cached_user


def users_changed(*, using: str | None = None) -> None:
    """Every process's copies of user rows are outdated (call it after a ``QuerySet.update()`` of users)."""
    page_cache.invalidate_now_and_on_commit(NAMESPACE, using=using)


def _on_user_saved(sender: type, update_fields: frozenset[str] | None = None, using: str | None = None,
                   **kwargs: object) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    users_changed(using=using)


def _on_user_deleted(sender: type, using: str | None = None, **kwargs: object) -> None:
    users_changed(using=using)


def connect_signals() -> None:
    model = get_user_model()
    post_save.connect(_on_user_saved, sender=model, dispatch_uid="accounts.signed_in.saved")
    post_delete.connect(_on_user_deleted, sender=model, dispatch_uid="accounts.signed_in.deleted")
