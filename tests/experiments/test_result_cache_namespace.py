"""A finished experiment renews only what shows experiment results, not every cache of the course's content."""
from __future__ import annotations

import pytest

from core import page_cache
from experiments import services
from tests.support.factories import SMALL_FIGURE, SMALL_RESULT, ExperimentRunFactory

pytestmark = pytest.mark.django_db

LESSON_URL = "/courses/transformers-architecture/the-problem-with-rnns/"
COURSE_URL = "/courses/transformers-architecture/"


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 60


def test_a_finished_run_keeps_the_content_generation_that_quiz_structures_are_kept_under(course):
    content, experiments = page_cache.current_generation("content"), page_cache.current_generation("experiments")
    run = ExperimentRunFactory(running=True)
    assert services.complete_run(run_id=run.pk, result=dict(SMALL_RESULT), figure=dict(SMALL_FIGURE))
    assert page_cache.current_generation("content") == content
    assert page_cache.current_generation("experiments") != experiments


def test_a_finished_run_renews_the_cached_lesson_but_not_the_course_page(client, course):
    for url in (LESSON_URL, COURSE_URL, LESSON_URL, COURSE_URL):
        client.get(url)
    run = ExperimentRunFactory(running=True)
    assert services.complete_run(run_id=run.pk, result=dict(SMALL_RESULT), figure=dict(SMALL_FIGURE))
    assert client.get(LESSON_URL)["X-Page-Cache"] == "miss"
    assert client.get(COURSE_URL)["X-Page-Cache"] == "hit"
