"""Reads: search the published lessons. PostgreSQL ranks with its full-text search (stemming, weights,
``websearch`` syntax: "quoted phrases", -excluded); other databases fall back to matching every word."""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import SearchEntry

MAX_QUERY_CHARS = 200
MAX_RESULTS = 30
SNIPPET_CHARS = 220
# Highlights travel through the database as characters no lesson contains, and become <mark> only after the
# text around them has been escaped: a lesson's "a < b" can never turn into markup.
_START, _STOP = "\x02", "\x03"
_WORD = re.compile(r"\w[\w'-]*", re.U)
_KIND_WEIGHT = {"section": 1.0, "quiz": 0.8, "code": 0.7}


@dataclass(frozen=True)
class Result:
    lesson_title: str
    module_order: int
    url: str
    heading: str
    kind: str
    kind_label: str
    snippet: SafeString


def clean_query(raw: str) -> str:
    return " ".join(raw.split())[:MAX_QUERY_CHARS]


def _published() -> QuerySet[SearchEntry]:
    return SearchEntry.objects.filter(lesson__module__published=True).select_related(
        "lesson__module__course"
    ).only(
        "kind", "anchor", "heading", "text", "position", "lesson__slug", "lesson__module__order",
        "lesson__module__title", "lesson__module__course__slug",
    )


def search(query: str, *, limit: int = MAX_RESULTS) -> list[Result]:
    query = clean_query(query)
    if not _WORD.search(query):
        return []
    if connection.vendor == "postgresql":
        return [_result(entry, _marks_to_html(entry.headline)) for entry in _postgres_search(query, limit)]
    return _fallback_search(query, limit)


def _postgres_search(query: str, limit: int) -> QuerySet[SearchEntry]:
    ts_query = SearchQuery(query, search_type="websearch", config="english")
    return (
        _published()
        .filter(vector=ts_query)  # the stored, GIN-indexed tsvector (search.services.fill_vectors)
        .annotate(rank=SearchRank(F("vector"), ts_query))
        .annotate(headline=SearchHeadline(
            "text", ts_query, config="english", start_sel=_START, stop_sel=_STOP, max_words=40, min_words=20,
            max_fragments=1,
        ))
        .order_by("-rank", "lesson__module__order", "position")[:limit]
    )


def _fallback_search(query: str, limit: int) -> list[Result]:
    words = [w.lower() for w in _WORD.findall(query)][:8]
    matches = Q()
    for word in words:
        matches &= Q(heading__icontains=word) | Q(text__icontains=word) | Q(hidden_text__icontains=word)
    scored = []
    for entry in _published().filter(matches).annotate(hidden=F("hidden_text")).iterator():
        heading, text = entry.heading.lower(), entry.text.lower()
        # Capped counts: a long listing that repeats a word must not outrank the section that explains it.
        score = sum(3 * min(heading.count(w), 1) + min(text.count(w), 3) + 0.5 * min(entry.hidden.lower().count(w), 1)
                    for w in words) * _KIND_WEIGHT[entry.kind]
        scored.append((-score, entry.lesson.module.order, entry.position, entry))
    scored.sort(key=lambda row: row[:3])
    return [_result(entry, _fallback_snippet(entry.text, words)) for *_, entry in scored[:limit]]


def _fallback_snippet(text: str, words: list[str]) -> SafeString:
    lowered = text.lower()
    first = min((i for i in (lowered.find(w) for w in words) if i >= 0), default=0)
    start = max(0, first - SNIPPET_CHARS // 3)
    window = text[start : start + SNIPPET_CHARS]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.I)
    marked = pattern.sub(lambda m: f"{_START}{m.group(0)}{_STOP}", window)
    return _marks_to_html(("…" if start else "") + marked + ("…" if start + SNIPPET_CHARS < len(text) else ""))


def _marks_to_html(marked: str) -> SafeString:
    return mark_safe(escape(marked).replace(_START, "<mark>").replace(_STOP, "</mark>"))


def _result(entry: SearchEntry, snippet: SafeString) -> Result:
    module = entry.lesson.module
    url = f"/courses/{module.course.slug}/{entry.lesson.slug}/" + (f"#{entry.anchor}" if entry.anchor else "")
    return Result(
        lesson_title=module.title, module_order=module.order, url=url, heading=entry.heading, kind=entry.kind,
        kind_label=SearchEntry.Kind(entry.kind).label, snippet=snippet,
    )


__all__ = ["MAX_QUERY_CHARS", "Result", "clean_query", "search"]
