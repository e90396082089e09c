"""Admins edit course text in the browser: what they save is what the files hold, and they can look first."""
from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from django.urls import reverse

from lessons.models import Lesson, Module
from lessons.services import export_course, load_course

COURSE = Path(__file__).resolve().parents[2] / "content" / "transformers-architecture"
LESSON = "attention-the-core-idea"


@pytest.fixture
def course_copy(tmp_path, db):
    target = tmp_path / "course"
    shutil.copytree(COURSE, target)
    load_course(directory=target)
    return target


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _admin_form_data(lesson: Lesson, body: str) -> dict:
    return {"module": lesson.module_id, "slug": lesson.slug, "body": body}


def test_load_then_export_of_an_unchanged_course_reproduces_the_files_byte_for_byte(course_copy):
    before = _snapshot(course_copy)
    from lessons.models import Course

    written = export_course(course=Course.objects.get(), directory=course_copy)
    assert written == []
    assert _snapshot(course_copy) == before


def test_an_admin_edit_changes_only_the_edited_lines_of_the_exported_file(admin_client, course_copy):
    lesson = Lesson.objects.get(slug=LESSON)
    path = next(course_copy.glob(f"*-{LESSON}.md"))
    before = path.read_text(encoding="utf-8")
    # What a browser sends: CRLF line breaks, with one sentence added to one paragraph.
    lines = lesson.body.split("\n")
    target = next(i for i, line in enumerate(lines) if line.startswith("Bahdanau, Cho and Bengio"))
    lines[target] += " An admin added this sentence."
    response = admin_client.post(
        reverse("admin:lessons_lesson_change", args=[lesson.pk]), _admin_form_data(lesson, "\r\n".join(lines))
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson.refresh_from_db()
    assert "\r" not in lesson.body

    from lessons.models import Course

    export_course(course=Course.objects.get(), directory=course_copy)
    after = path.read_bytes()
    assert b"\r" not in after
    diff = [
        line for line in difflib.unified_diff(before.splitlines(), after.decode().splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert len(diff) == 2 and diff[1].endswith("An admin added this sentence."), diff
    # Modules nobody touched keep their hand-written front matter untouched.
    for other in course_copy.glob("*.md"):
        if other != path:
            assert other.read_bytes() == (COURSE / other.name).read_bytes()


def test_preview_of_a_saved_module_counts_the_course_modules(admin_client, course):
    lesson = Lesson.objects.get(slug=LESSON)
    html = admin_client.get(reverse("admin:lessons_lesson_preview", args=[lesson.pk])).content.decode()
    total = Module.objects.filter(course=course).count()
    assert f"Module 2 of {total}" in html
    assert f"Complete all {total} modules" in html
    assert "of 1<" not in html


def test_preview_of_unsaved_text_renders_it_without_saving(admin_client, course):
    lesson = Lesson.objects.get(slug=LESSON)
    saved_body = lesson.body
    response = admin_client.post(
        reverse("admin:lessons_lesson_preview_unsaved"),
        _admin_form_data(lesson, "## A brand new section\r\n\r\nDraft text with $x^2$ math.\r\n"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "A brand new section" in html and "Draft text with" in html and "<math" in html
    assert "Admin preview" in html
    lesson.refresh_from_db()
    assert lesson.body == saved_body


def test_the_edit_form_offers_the_unsaved_preview_and_a_roomy_text_box(admin_client, course):
    lesson = Lesson.objects.get(slug=LESSON)
    html = admin_client.get(reverse("admin:lessons_lesson_change", args=[lesson.pk])).content.decode()
    assert f'formaction="{reverse("admin:lessons_lesson_preview_unsaved")}"' in html
    assert 'rows="40"' in html and "academy-lesson-body" in html


def test_only_staff_can_preview_unsaved_text(client, course):
    lesson = Lesson.objects.get(slug=LESSON)
    response = client.post(reverse("admin:lessons_lesson_preview_unsaved"), _admin_form_data(lesson, "x"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
