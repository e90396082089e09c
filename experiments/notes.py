"""A result's notes ("How this was measured") are short Markdown strings: rendered inline and sanitised.

Inline Markdown only (emphasis, code, links): a note is one list item. Raw HTML in a note is escaped by the parser
and whatever the parser emits passes the lessons' nh3 allow-list, so a note can never inject markup.
"""
from __future__ import annotations

from collections.abc import Iterable

from markdown_it import MarkdownIt

from lessons.markdown import sanitize

_INLINE = MarkdownIt("commonmark", {"html": False}).disable(["image"])


def note_html(note: str) -> str:
    """One note as sanitised HTML (inline elements only)."""
    return sanitize(_INLINE.renderInline(str(note)))


def notes_html(notes: Iterable[str]) -> list[str]:
    return [note_html(note) for note in notes]
