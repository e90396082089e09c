"""Rebuild every lesson's entries once: formulas are now indexed as one line of text each (``h_(t−1)``), so the
snippets of an existing site stop showing MathML's tokens run together (new saves index the new way anyway)."""
from importlib import import_module

from django.db import migrations

# The first indexing and the vector fill, exactly as a new site runs them.
first_index = import_module("search.migrations.0002_index_existing_lessons").index_existing_lessons
fill_vectors = import_module("search.migrations.0003_stored_search_vectors").index_and_fill


def reindex(apps, schema_editor):
    apps.get_model("search", "SearchEntry").objects.all().delete()
    first_index(apps, schema_editor)
    fill_vectors(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_stored_search_vectors")]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]
