"""Signed-in pages from a shared shell: the page rendered once, with holes where each reader's own parts go.

A lesson looks the same to every signed-in reader except for a few small parts (the CSRF token of the forms,
the reader's progress marks). Rendering the whole page per request cost ~8 ms of CPU; filling the holes of a
kept copy costs a few string joins. How it stays correct:

- Personal parts are rendered in place of :class:`Holes` markers (random per render, so lesson text can never
  contain one) and filled per request; every ``csrfmiddlewaretoken`` input becomes a hole too, so no reader's
  token is kept.
- The caller decides when a render may be shared at all (e.g. not while the reader has messages to show) and
  fills a private render the same way without keeping it.
- A shell is kept under the generations of its namespaces ("content" and "experiments" for a lesson) read
  *before* it was rendered (the ones that :mod:`core.page_cache` uses for anonymous pages), so edits and new
  experiment results show at once, and for at most ``ANONYMOUS_PAGE_CACHE_SECONDS`` (what cannot be
  invalidated, such as "measured 3 minutes ago"); 0 turns shells off.
- Copies are per process (no network transfer of the page; one small cache read for the generation) and
  bounded in number.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.safestring import SafeString, mark_safe

from core import page_cache

CSRF_HOLE = "csrf_token"
_CSRF_INPUT = re.compile(r'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(">)')


class _SignedInReader(AnonymousUser):
    """Who a shared shell is rendered for: signed in, but nobody in particular (no id, name, runs or rights)."""

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def is_authenticated(self) -> bool:
        return True


SIGNED_IN_READER = _SignedInReader()


class Holes(Mapping[str, SafeString]):
    """``{{ holes.status }}`` in a template renders a marker that :meth:`Shell.fill` replaces per request."""

    def __init__(self) -> None:
        self.prefix = f"page-shell-hole-{secrets.token_hex(8)}-"
        self._names: set[str] = set()

    def __getitem__(self, name: str) -> SafeString:
        if not name.isidentifier():
            raise KeyError(name)
        self._names.add(name)
        return mark_safe(f"{self.prefix}{name}-")

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __bool__(self) -> bool:  # ``{% if holes %}`` before the first hole is asked for
        return True


@dataclass(frozen=True)
class Shell:
    """A rendered page cut at its holes: literal text (UTF-8, encoded once) at even positions, hole names at odd
    ones."""

    pieces: tuple[bytes | str, ...]
    facts: Any = None  # what the caller needs to know about the render (e.g. the state it depended on)

    @classmethod
    def cut(cls, html: str, holes: Holes, *, facts: Any = None) -> Shell:
        html = _CSRF_INPUT.sub(lambda m: f"{m.group(1)}{holes[CSRF_HOLE]}{m.group(2)}", html)
        parts = re.split(re.escape(holes.prefix) + r"(\w+)-", html)
        # The page is ~150 KB: encoding it per request was a tenth of a filled request's cost.
        pieces = tuple(part if index % 2 else part.encode() for index, part in enumerate(parts))
        return cls(pieces=pieces, facts=facts)

    @property
    def hole_names(self) -> frozenset[str]:
        return frozenset(self.pieces[1::2])

    def fill(self, values: Mapping[str, str]) -> bytes:
        """The page for one reader, as UTF-8; ``values`` must name every hole (a missing one is a KeyError, never
        a marker left in the page)."""
        pieces = list(self.pieces)
        for index in range(1, len(pieces), 2):
            pieces[index] = values[pieces[index]].encode()
        return b"".join(pieces)


def _seconds() -> int:
    return int(getattr(settings, "ANONYMOUS_PAGE_CACHE_SECONDS", 0))


class ShellCopies:
    """This process's shells, each valid while the content generation it was rendered under is current and for
    at most ``ANONYMOUS_PAGE_CACHE_SECONDS``; the least recently used goes beyond ``max_entries``."""

    def __init__(self, *, namespaces: tuple[str, ...] = ("content",), max_entries: int = 64) -> None:
        self.namespaces = namespaces
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[str, float, Shell]] = OrderedDict()
        self._lock = threading.Lock()

    def generation(self) -> str | None:
        """Read before rendering and passed to :meth:`put`: a change during the render then leaves a stale tag."""
        return page_cache.current_generations(self.namespaces) if _seconds() > 0 else None

    def get(self, key: Hashable) -> Shell | None:
        if _seconds() <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        generation, expires, shell = entry
        if time.monotonic() >= expires or generation != page_cache.current_generations(self.namespaces):
            return None
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
        return shell

    def put(self, key: Hashable, shell: Shell, *, generation: str | None) -> None:
        seconds = _seconds()
        if generation is None or seconds <= 0:
            return
        with self._lock:
            self._entries[key] = (generation, time.monotonic() + seconds, shell)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
