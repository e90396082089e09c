"""The glossary: defined once in a file, listed on one page, linked from the first use of each term in a lesson."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.test import Client

from lessons.glossary import link_glossary_terms, load_glossary, parse_glossary
from lessons.markdown import render_markdown
from lessons.models import Lesson
from lessons.services import load_course

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "course"
REAL_COURSE = Path(__file__).resolve().parent.parent.parent / "content" / "transformers-architecture"

GLOSSARY = """
- term: attention
  definition: Weighted averaging of *values*.
- term: residual connection
  also: [residual connections]
  definition: $x + f(x)$.
- term: multi-head attention
  definition: Several heads.
"""


def linked(markdown: str, glossary_text: str = GLOSSARY) -> str:
    glossary = parse_glossary(glossary_text, course_slug="transformers-architecture")
    return link_glossary_terms(render_markdown(markdown).html, glossary)


@pytest.mark.django_db
def test_only_the_first_use_of_a_term_is_linked():
    html = linked("Attention is simple. Later, attention again.")
    assert html.count('class="glossary-term"') == 1
    assert '<a class="glossary-term" href="/courses/transformers-architecture/glossary/#attention"' in html
    assert ">Attention</a> is simple" in html


@pytest.mark.django_db
def test_terms_in_code_headings_links_and_math_are_not_linked():
    html = linked(
        "## Attention\n\n`attention` and [attention](https://example.org) and $\\text{attention}$\n\n"
        "```python\nattention = 1\n```\n"
    )
    assert 'class="glossary-term"' not in html


@pytest.mark.django_db
def test_the_longest_spelling_wins_and_other_spellings_count():
    html = linked("Multi-head attention uses residual connections.")
    assert 'href="/courses/transformers-architecture/glossary/#multi-head-attention"' in html
    assert "#attention\"" not in html  # "attention" inside "multi-head attention" is not a use of its own
    assert ">residual connections</a>" in html


@pytest.mark.django_db
def test_linking_keeps_entities_and_markup_intact():
    html = linked("A &lt;tag&gt; then **attention** &amp; more.")
    assert "&lt;tag&gt;" in html and "&amp; more" in html
    assert '<strong><a class="glossary-term"' in html


def test_a_term_defined_twice_is_refused():
    with pytest.raises(ValueError, match="defined twice"):
        parse_glossary("- {term: Head, definition: a}\n- {term: head, definition: b}\n", course_slug="c")


@pytest.mark.django_db
def test_the_real_glossary_defines_the_terms_readers_asked_for_and_each_lesson_links_some():
    glossary = load_glossary("transformers-architecture")
    anchors = {term.anchor for term in glossary.terms}
    assert {"attention", "head", "residual-connection", "perplexity", "bleu"} <= anchors
    for path in sorted(REAL_COURSE.glob("[0-9][0-9]-*.md")):
        html = link_glossary_terms(render_markdown(path.read_text(encoding="utf-8")).html, glossary)
        assert html.count('class="glossary-term"') >= 3, path.name


def test_glossary_page_lists_every_term_with_an_anchor(course):
    response = Client().get("/courses/transformers-architecture/glossary/")
    assert response.status_code == 200
    glossary = load_glossary("transformers-architecture")
    for term in glossary.terms:
        assert f'<dt id="{term.anchor}">' in response.content.decode()


@pytest.mark.django_db
def test_a_course_without_a_glossary_has_no_glossary_page(settings, tmp_path):
    settings.CONTENT_DIR = tmp_path  # no glossary files at all
    course_dir = tmp_path / "fixture-course"
    shutil.copytree(FIXTURE, course_dir)
    load_course(directory=course_dir)
    slug = Lesson.objects.first().module.course.slug
    assert Client().get(f"/courses/{slug}/glossary/").status_code == 404


@pytest.mark.django_db
def test_changing_the_glossary_re_renders_the_lessons_on_the_next_load(settings, tmp_path):
    course_dir = tmp_path / "fixture-course"
    shutil.copytree(FIXTURE, course_dir)
    load_course(directory=course_dir)
    lesson = Lesson.objects.get(slug="first-steps")
    slug = lesson.module.course.slug
    settings.CONTENT_DIR = tmp_path
    assert "glossary-term" not in lesson.html
    (tmp_path / slug).mkdir(exist_ok=True)
    (tmp_path / slug / "glossary.yaml").write_text("- term: world\n  definition: Everything there is.\n")

    report = load_course(directory=course_dir)

    assert "first-steps" in report.rerendered
    lesson.refresh_from_db()
    assert f'<strong><a class="glossary-term" href="/courses/{slug}/glossary/#world"' in lesson.html
