"""Fill the index for a site that already has lessons (new saves keep it current from then on)."""
from django.db import migrations


def index_existing_lessons(apps, schema_editor):
    from search.indexing import lesson_entries

    Lesson = apps.get_model("lessons", "Lesson")
    Question = apps.get_model("quizzes", "Question")
    SearchEntry = apps.get_model("search", "SearchEntry")
    for lesson in Lesson.objects.select_related("module"):
        questions = [
            (q.prompt, q.explanation, q.section)
            for q in Question.objects.filter(quiz__module_id=lesson.module_id).order_by("order", "id")
        ]
        entries = lesson_entries(lesson_html=lesson.html, lesson_title=lesson.module.title, questions=questions)
        SearchEntry.objects.bulk_create(
            SearchEntry(lesson_id=lesson.pk, kind=e.kind, position=e.position, anchor=e.anchor,
                        heading=e.heading[:300], text=e.text, hidden_text=e.hidden_text)
            for e in entries
        )


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_search_entries"),
        ("quizzes", "0002_attempts_and_progress"),
    ]
    operations = [migrations.RunPython(index_existing_lessons, migrations.RunPython.noop)]
