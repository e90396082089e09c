"""The course glossary: terms defined once in ``content/<course>/glossary.yaml``, listed on one page, and linked
from the first use of each term in every lesson.

The file is the single source (like the lesson files, it is reviewed in git); it is read at render time and
its digest is part of each lesson's render hash, so editing the glossary re-renders every lesson on its next
view. Linking is a post-processing of the sanitised lesson HTML that only ever touches text outside code,
headings, links, math, figures and tables' headers, and adds nothing but plain ``<a>`` elements.
"""
from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import yaml
from django.conf import settings

from .markdown import slugify_heading

GLOSSARY_FILE = "glossary.yaml"
# Text inside these is never linked: code and math are literal, headings and links are already navigation,
# and a link inside a button or summary would nest interactive content.
_SKIPPED = {
    "a", "code", "pre", "kbd", "samp", "h1", "h2", "h3", "h4", "h5", "h6", "math", "svg", "button", "summary",
    "script", "style", "figcaption", "th", "label", "sup", "sub",
}
_VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "source", "track", "mspace"}


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    anchor: str
    definition_html: str
    forms: tuple[str, ...]  # the spellings that count as a use of the term in lesson text


@dataclass(frozen=True)
class Glossary:
    course_slug: str
    terms: tuple[GlossaryTerm, ...]
    digest: str

    @property
    def url(self) -> str:
        from django.urls import reverse

        return reverse("glossary", kwargs={"course_slug": self.course_slug})


def glossary_path(course_slug: str) -> Path:
    return Path(getattr(settings, "CONTENT_DIR", settings.BASE_DIR / "content")) / course_slug / GLOSSARY_FILE


def parse_glossary(text: str, *, course_slug: str) -> Glossary:
    """Parse glossary YAML: a list of ``{term, definition, also?: [other spellings]}``; terms sorted A-Z."""
    from .markdown import render_inline

    entries = yaml.safe_load(text) or []
    if not isinstance(entries, list):
        raise ValueError("the glossary must be a YAML list of {term, definition} entries")
    terms = []
    seen: set[str] = set()
    for entry in entries:
        term = str(entry["term"]).strip()
        anchor = slugify_heading(term)
        if anchor in seen:
            raise ValueError(f"glossary term {term!r} is defined twice")
        seen.add(anchor)
        forms = tuple(dict.fromkeys([term, *[str(form).strip() for form in entry.get("also", [])]]))
        terms.append(GlossaryTerm(term=term, anchor=anchor, definition_html=render_inline(str(entry["definition"])),
                                  forms=forms))
    terms.sort(key=lambda t: t.term.lower())
    return Glossary(course_slug=course_slug, terms=tuple(terms), digest=hashlib.sha256(text.encode()).hexdigest())


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int, course_slug: str) -> Glossary:
    return parse_glossary(Path(path).read_text(encoding="utf-8"), course_slug=course_slug)


def load_glossary(course_slug: str) -> Glossary | None:
    """The course's glossary, or None when it has none. Re-read whenever the file changes."""
    path = glossary_path(course_slug)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    return _cached(str(path), mtime_ns, course_slug)


def _pattern(glossary: Glossary) -> tuple[re.Pattern, dict[str, GlossaryTerm]]:
    by_form = {form.lower(): term for term in glossary.terms for form in term.forms}
    # Longest spellings first, so "multi-head attention" wins over "attention" where both start.
    alternatives = sorted(by_form, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(form) for form in alternatives) + r")(?![\w-])", re.IGNORECASE
    )
    return pattern, by_form


class _Linker(HTMLParser):
    def __init__(self, glossary: Glossary) -> None:
        super().__init__(convert_charrefs=False)
        self.pattern, self.by_form = _pattern(glossary)
        self.base = glossary.url
        self.linked: set[str] = set()
        self.out: list[str] = []
        self.skip_depth = 0
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.out.append(self.get_starttag_text())
        if tag in _VOID:
            return
        self.stack.append(tag)
        if tag in _SKIPPED or self.skip_depth:
            self.skip_depth += 1

    def handle_startendtag(self, tag, attrs) -> None:
        self.out.append(self.get_starttag_text())

    def handle_endtag(self, tag) -> None:
        self.out.append(f"</{tag}>")
        if tag in _VOID or tag not in self.stack:
            return
        while self.stack:
            open_tag = self.stack.pop()
            if self.skip_depth:
                self.skip_depth -= 1
            if open_tag == tag:
                break

    def handle_data(self, data) -> None:
        if self.skip_depth:
            self.out.append(data)
            return
        self.out.append(self.pattern.sub(self._link, data))

    def _link(self, match: re.Match) -> str:
        term = self.by_form[match.group(1).lower()]
        if term.anchor in self.linked:
            return match.group(0)
        self.linked.add(term.anchor)
        return (
            f'<a class="glossary-term" href="{html.escape(self.base)}#{term.anchor}" '
            f'title="Glossary: {html.escape(term.term)}">{match.group(1)}</a>'
        )

    def handle_entityref(self, name) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data) -> None:
        self.out.append(f"<!--{data}-->")


def link_glossary_terms(lesson_html: str, glossary: Glossary | None) -> str:
    """Link the first use of each glossary term in the lesson HTML to its entry on the glossary page."""
    if glossary is None or not glossary.terms:
        return lesson_html
    linker = _Linker(glossary)
    linker.feed(lesson_html)
    linker.close()
    return "".join(linker.out)
