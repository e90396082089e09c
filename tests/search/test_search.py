"""Readers search the course: lessons, headings, code and quiz questions, with highlighted matches that lead to
the section. PostgreSQL's full-text search in production (and in CI); a word-matching fallback elsewhere."""
from __future__ import annotations

import re

import pytest
from django.db import connection

from lessons.models import Lesson, Module
from search import selectors
from search.models import SearchEntry
from search.services import fill_vectors, rebuild_all

COURSE = "/courses/transformers-architecture"


@pytest.fixture
def indexed_course(course, django_capture_on_commit_callbacks):
    rebuild_all()  # the loader's saves schedule rebuilds on commit; a test's transaction never commits
    return course


def _results(client, query: str) -> tuple[str, list[tuple[str, str]]]:
    html = client.get("/search/", {"q": query}).content.decode()
    links = re.findall(r'<a class="search-result__link" href="([^"]+)">(.*?)</a>', html, re.S)
    return html, links


def test_a_word_from_a_section_finds_it_with_a_link_to_the_heading(client, indexed_course):
    html, links = _results(client, "vanishing gradients")
    assert links, html[:3000]
    assert any(href.startswith(f"{COURSE}/the-problem-with-rnns/#") for href, _ in links)
    assert "<mark>" in html


def test_code_listings_are_searchable(client, indexed_course):
    html, links = _results(client, "ln_experiment")
    assert any("the-full-transformer" in href for href, _ in links)
    assert "Code" in html


def test_quiz_questions_are_found_but_their_explanations_are_never_shown(client, indexed_course):
    from quizzes.models import Question

    question = Question.objects.filter(quiz__module__order=2).order_by("order").first()
    words = [w for w in re.findall(r"[A-Za-z]{6,}", question.explanation) if w.lower() not in question.prompt.lower()]
    html, _ = _results(client, " ".join(words[:2]))
    assert question.explanation[:60] not in html


def test_matches_are_highlighted_and_the_lesson_text_is_escaped(indexed_course):
    lesson = Lesson.objects.get(slug="attention-the-core-idea")
    SearchEntry.objects.create(lesson=lesson, kind="section", position=999, anchor="", heading="Tricky",
                               text="zyxwv holds when a < b and b > c, <b>not</b> markup")
    fill_vectors(SearchEntry.objects.filter(position=999))  # as search.services does for every entry it writes
    for found in (selectors.search("zyxwv"), selectors._fallback_search("zyxwv", 10)):
        snippet = str(found[0].snippet)
        assert "<mark>zyxwv</mark>" in snippet
        assert "a &lt; b" in snippet and "<b>" not in snippet


def test_unpublished_modules_are_not_searched(indexed_course):
    assert selectors.search("vanishing gradients")
    Module.objects.filter(order=1).update(published=False)
    assert all(r.module_order != 1 for r in selectors.search("vanishing gradients"))
    assert all(r.module_order != 1 for r in selectors._fallback_search("vanishing gradients", 30))


def test_empty_or_symbol_only_queries_show_the_form_without_results(client, indexed_course):
    for query in ("", "   ", "!!!", "-"):
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200
        assert 'class="search-result"' not in response.content.decode()
    assert 'for="search-q"' in client.get("/search/").content.decode()


def test_a_long_query_is_cut_not_refused(client, indexed_course):
    response = client.get("/search/", {"q": "attention " * 200})
    assert response.status_code == 200


def test_nothing_found_says_so(client, indexed_course):
    html, links = _results(client, "qwertyuiopzzz")
    assert not links and "Nothing matches" in html


def test_saving_a_lesson_updates_the_index_after_commit(indexed_course, django_capture_on_commit_callbacks):
    lesson = Lesson.objects.get(slug="multi-head-attention")
    with django_capture_on_commit_callbacks(execute=True):
        lesson.body += "\n\n## Brand new heading\n\nThe word xylophonic appears only here.\n"
        lesson.save()
    found = selectors.search("xylophonic")
    assert [r.url for r in found] == [f"{COURSE}/multi-head-attention/#brand-new-heading"]


def test_postgresql_ranks_with_full_text_search_and_stemming(indexed_course):
    if connection.vendor != "postgresql":
        pytest.skip("full-text search needs PostgreSQL; `make test` and CI run the suite on it")
    # "normalising" and "normalization" share a stem, which plain word matching would miss.
    stemmed = selectors.search("normalizations")
    assert stemmed and any("the-full-transformer" in r.url for r in stemmed)
    assert selectors.search('"scaled dot-product"')
