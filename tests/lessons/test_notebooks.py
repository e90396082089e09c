"""Every lesson downloads as a valid Jupyter notebook that runs."""
from __future__ import annotations

import json

import nbformat
import pytest

from lessons.codeblocks import extract_blocks
from lessons.models import Lesson

COURSE = "/courses/transformers-architecture"


def _notebook(client, slug: str) -> nbformat.NotebookNode:
    response = client.get(f"{COURSE}/{slug}/notebook.ipynb")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ipynb+json"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return nbformat.reads(response.content.decode(), as_version=4)


def test_every_lesson_is_a_valid_notebook_with_its_code_and_shown_outputs(client, course):
    for lesson in Lesson.objects.select_related("module"):
        notebook = _notebook(client, lesson.slug)
        nbformat.validate(notebook)
        blocks, _ = extract_blocks(lesson.body)
        code_cells = [c for c in notebook.cells if c.cell_type == "code"]
        assert [c.source for c in code_cells] == [b.code.rstrip("\n") for b in blocks], lesson.slug
        shown = [c.outputs[0].text for c in code_cells if c.outputs]
        assert shown == [b.expected_output for b in blocks if b.expected_output is not None], lesson.slug
        text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        assert lesson.module.title in text
        assert "!!! " not in text  # admonitions became block quotes Jupyter can render
        assert "```experiment" not in text


def test_the_lesson_page_links_to_its_notebook(client, course):
    html = client.get(f"{COURSE}/multi-head-attention/").content.decode()
    assert f'href="{COURSE}/multi-head-attention/notebook.ipynb" download' in html


def test_an_unknown_lesson_has_no_notebook(client, course):
    assert client.get(f"{COURSE}/no-such-lesson/notebook.ipynb").status_code == 404


@pytest.mark.slow
def test_a_downloaded_notebook_executes_from_top_to_bottom(client, course):
    from nbclient import NotebookClient

    notebook = _notebook(client, "positional-encoding")
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=False).execute()
    executed = [c for c in notebook.cells if c.cell_type == "code"]
    assert executed and all(c.execution_count for c in executed)
    printed = [o for c in executed for o in c.outputs if o.output_type == "stream"]
    assert printed, "the lesson's code prints results"
    json.dumps(notebook)  # still serialisable after execution
