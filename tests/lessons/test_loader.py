import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from lessons.models import Lesson, Module
from lessons.services import export_course, load_course, parse_module_file

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "course"

pytestmark = pytest.mark.django_db


@pytest.fixture
def course_dir(tmp_path):
    target = tmp_path / "course"
    shutil.copytree(FIXTURE, target)
    return target


def run_loader(directory: Path, *args: str) -> str:
    out = StringIO()
    call_command("load_course", str(directory), *args, stdout=out)
    return out.getvalue()


def test_loader_creates_course_modules_lessons_and_quiz(course_dir):
    report = load_course(directory=course_dir)
    assert sorted(report.created) == ["first-steps", "second-steps"]
    modules = list(Module.objects.order_by("order"))
    assert [m.title for m in modules] == ["First Steps", "Second Steps"]
    assert modules[1].difficulty == "advanced"
    lesson = Lesson.objects.get(slug="first-steps")
    assert "<strong>world</strong>" in lesson.html
    assert lesson.module.quiz.questions.get().choices.get(is_correct=True).text == "Right one"


def test_second_load_changes_nothing(course_dir):
    load_course(directory=course_dir)
    before = {lesson.slug: lesson.updated_at for lesson in Lesson.objects.all()}
    report = load_course(directory=course_dir)
    assert not report.changed
    assert sorted(report.unchanged) == ["first-steps", "second-steps"]
    assert {lesson.slug: lesson.updated_at for lesson in Lesson.objects.all()} == before
    assert "nothing to change" in run_loader(course_dir)


def test_changed_file_updates_its_module(course_dir):
    load_course(directory=course_dir)
    path = course_dir / "02-second-steps.md"
    path.write_text(path.read_text().replace("Bye.", "Goodbye."))
    report = load_course(directory=course_dir)
    assert report.updated == ["second-steps"]
    assert "Goodbye." in Lesson.objects.get(slug="second-steps").body


def test_loader_keeps_admin_edits_unless_forced(course_dir):
    load_course(directory=course_dir)
    lesson = Lesson.objects.get(slug="first-steps")
    lesson.body = "## Edited by an admin\n\nNew text."
    lesson.save()
    path = course_dir / "01-first-steps.md"
    path.write_text(path.read_text().replace("Hello", "Hi"))

    output = run_loader(course_dir)
    assert "kept admin edits" in output and "first-steps" in output
    assert "Edited by an admin" in Lesson.objects.get(slug="first-steps").body

    output = run_loader(course_dir, "--force")
    assert "OVERWROTE admin edits in: first-steps" in output
    assert "Hi **world**" in Lesson.objects.get(slug="first-steps").body


def test_export_round_trips_through_the_loader(course_dir, tmp_path):
    load_course(directory=course_dir)
    module = Module.objects.get(lesson__slug="second-steps")
    module.title = "Second Steps, Revised"
    module.save()
    out_dir = tmp_path / "exported"
    export_course(course=module.course, directory=out_dir)
    exported = parse_module_file(out_dir / "02-second-steps.md")
    assert exported.title == "Second Steps, Revised"
    original_quiz = parse_module_file(course_dir / "01-first-steps.md").quiz
    assert parse_module_file(out_dir / "01-first-steps.md").quiz == original_quiz


def test_a_file_without_front_matter_is_a_clear_error(course_dir):
    (course_dir / "03-broken.md").write_text("no front matter here")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="missing YAML front matter"):
        run_loader(course_dir)
    assert Module.objects.count() == 0
