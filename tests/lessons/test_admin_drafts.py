"""Drafts: an admin saves a module and its lesson without publishing them, and the edit pages say which is which."""
from __future__ import annotations

import pytest
from django.urls import reverse

from lessons.models import Module
from tests.support.factories import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def module(db):
    return make_course(modules=2).modules.get(order=2)


def _module_form_data(module: Module, **changes) -> dict:
    lesson = module.lesson
    data = {
        "course": module.course_id, "order": module.order, "title": module.title, "summary": module.summary,
        "difficulty": module.difficulty, "published": "on" if module.published else "",
        "lesson-TOTAL_FORMS": 1, "lesson-INITIAL_FORMS": 1, "lesson-MIN_NUM_FORMS": 0, "lesson-MAX_NUM_FORMS": 1,
        "lesson-0-id": lesson.pk, "lesson-0-module": module.pk, "lesson-0-slug": lesson.slug,
        "lesson-0-body": lesson.body,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_save_as_draft_saves_the_text_and_unpublishes_the_module(admin_client, client, module):
    url = reverse("admin:lessons_module_change", args=[module.pk])
    response = admin_client.post(
        url, {**_module_form_data(module, **{"lesson-0-body": "## Rewritten\n\nNew text."}), "_save_as_draft": "1"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    module.refresh_from_db()
    assert module.published is False
    assert module.lesson.body == "## Rewritten\n\nNew text."
    assert "saved as a draft" in admin_client.get(response["Location"]).content.decode()
    # Students (here an anonymous reader) no longer see it.
    assert module.title not in client.get(module.course.get_absolute_url()).content.decode()
    assert client.get(module.lesson.get_absolute_url()).status_code == 404


def test_a_plain_save_keeps_the_module_published(admin_client, module):
    url = reverse("admin:lessons_module_change", args=[module.pk])
    assert admin_client.post(url, _module_form_data(module)).status_code == 302
    module.refresh_from_db()
    assert module.published is True


def test_the_module_form_offers_save_as_draft_and_explains_published(admin_client, module):
    html = admin_client.get(reverse("admin:lessons_module_change", args=[module.pk])).content.decode()
    assert 'name="_save_as_draft"' in html
    assert "Untick to keep the module and its lesson a draft" in html


def test_the_lesson_form_says_whether_saving_publishes(admin_client, module):
    url = reverse("admin:lessons_lesson_change", args=[module.lesson.pk])
    module_url = reverse("admin:lessons_module_change", args=[module.pk])
    html = admin_client.get(url).content.decode()
    assert "Yes: saving publishes the text at once" in html and module_url in html
    Module.objects.filter(pk=module.pk).update(published=False)
    html = admin_client.get(url).content.decode()
    assert "No, draft: the module is unpublished" in html
