"""The lesson render cache: Markdown rendered into the ``Lesson`` row, so a page view never parses Markdown.

Rendering happens just before a lesson is saved (``render_before_save``, connected in ``LessonsConfig.ready``)
rather than in ``Lesson.save``, so the models do not import the renderer's service layer back.
"""
from __future__ import annotations

import hashlib
import re

from .glossary import link_glossary_terms, load_glossary
from .markdown import RENDERER_VERSION, render_markdown
from .models import Figure, Lesson

_FIGURE_FENCE = re.compile(r"^[ \t>]*(?:```|~~~)[ \t]*figure\b", re.M)


def sha256_hex(text: str) -> str:
    """The hex SHA-256 of ``text`` as UTF-8: how rendered and loaded text is fingerprinted."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def refresh_render_cache(lesson: Lesson) -> bool:
    """Re-render the lesson's Markdown if its body, the renderer or the course glossary changed.

    Returns True if it rendered.
    """
    glossary = load_glossary(lesson.module.course.slug)
    glossary_digest = glossary.digest if glossary else ""
    wanted = sha256_hex(f"{RENDERER_VERSION}\n{glossary_digest}\n{lesson.body}")
    if lesson.rendered_hash == wanted and lesson.html:
        return False
    rendered = render_markdown(lesson.body, figures=_figures_for(lesson))
    lesson.html = link_glossary_terms(rendered.html, glossary)
    lesson.toc = rendered.toc
    lesson.word_count = rendered.word_count
    lesson.reading_minutes = rendered.reading_minutes
    lesson.rendered_hash = wanted
    return True


def _figures_for(lesson: Lesson) -> dict[str, str]:
    """The course's figures by name, fetched only for a lesson that shows one."""
    if not _FIGURE_FENCE.search(lesson.body) or lesson.module_id is None:
        return {}
    return dict(Figure.objects.filter(course_id=lesson.module.course_id).values_list("name", "svg"))


def ensure_rendered(lesson: Lesson) -> Lesson:
    """Called on a page view: a no-op unless the renderer was upgraded since the lesson was saved."""
    if refresh_render_cache(lesson):
        Lesson.objects.filter(pk=lesson.pk).update(
            html=lesson.html,
            toc=lesson.toc,
            word_count=lesson.word_count,
            reading_minutes=lesson.reading_minutes,
            rendered_hash=lesson.rendered_hash,
        )
    return lesson


def render_before_save(sender: type[Lesson], instance: Lesson, raw: bool = False, **kwargs: object) -> None:
    """pre_save receiver: every saved lesson carries its rendered HTML, TOC and reading time."""
    if not raw:
        refresh_render_cache(instance)
