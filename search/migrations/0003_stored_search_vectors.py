"""Store each entry's tsvector (PostgreSQL: with a GIN index), so a search no longer computes every entry's
vector per query."""
import django.contrib.postgres.search
from django.db import migrations


def index_and_fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # other databases search by word matching and leave the column empty
    from django.contrib.postgres.search import SearchVector

    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS search_searchentry_vector_gin ON search_searchentry USING gin (vector)"
    )
    SearchEntry = apps.get_model("search", "SearchEntry")
    SearchEntry.objects.update(vector=(
        SearchVector("heading", weight="A", config="english")
        + SearchVector("text", weight="B", config="english")
        + SearchVector("hidden_text", weight="C", config="english")
    ))


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_searchentry_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_index_existing_lessons")]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(index_and_fill, drop_index),
    ]
