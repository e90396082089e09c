"""A lesson as a Jupyter notebook, so a reader can run its code locally, in Colab or on Kaggle.

The lesson's Markdown is cut at its code fences: prose becomes Markdown cells (admonitions turned into block
quotes, which Jupyter renders), each runnable ```python block a code cell, and the ```output block the lesson
shows after it that cell's printed output. ```python no-run blocks stay visible as Markdown (they are
fragments that do not run on their own), and a live-experiment placeholder becomes a link to the lesson page,
where the experiment runs on the server.
"""
from __future__ import annotations

import re

import nbformat
from markdown_it import MarkdownIt
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from .codeblocks import extract_blocks
from .figures import parse_figure_block

_PARSER = MarkdownIt("commonmark")
_ADMONITION = re.compile(r'^!!!\s+(\w+)(?:\s+"([^"]*)")?\s*$')
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _admonitions_as_quotes(markdown: str) -> str:
    """``!!! note "Title"`` + an indented body -> a block quote with the title in bold."""
    out: list[str] = []
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        match = _ADMONITION.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        kind, title = match.groups()
        out.append(f"> **{title or kind.capitalize()}**")
        out.append(">")
        i += 1
        while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
            if not lines[i].strip() and (i + 1 >= len(lines) or not lines[i + 1].startswith("    ")):
                break
            out.append(f"> {lines[i][4:]}".rstrip())
            i += 1
    return "\n".join(out)


def _markdown_cell(text: str) -> nbformat.NotebookNode | None:
    text = _admonitions_as_quotes(text).strip("\n")
    return new_markdown_cell(text) if text.strip() else None


def lesson_notebook(*, title: str, body: str, lesson_url: str, course_title: str) -> nbformat.NotebookNode:
    """The notebook for one lesson; ``lesson_url`` is absolute (links in the notebook leave the site)."""
    expected = {block.line: block for block in extract_blocks(body)[0]}
    lines = body.split("\n")
    cells: list[nbformat.NotebookNode] = [
        new_markdown_cell(
            f"# {title}\n\n"
            f"*{course_title}* — this notebook is the lesson's text and code; the lesson itself, with its figures "
            f"and live experiments, is at <{lesson_url}>.\n\n"
            "Run the cells in order. They need Python 3.10+ with `torch` and `numpy` "
            "(`pip install torch numpy`); the printed outputs below each cell are the ones the lesson shows."
        )
    ]
    cursor = 0  # first line of body not yet placed in a cell
    fences = [t for t in _PARSER.parse(body) if t.type == "fence" and t.map]
    skip_output_at: set[int] = set()
    for token in fences:
        start, end = token.map
        info = token.info.split()
        lang = info[0] if info else ""
        if start in skip_output_at:  # an output block already attached to the code cell above it
            cursor = end
            continue
        if lang == "python" and "no-run" not in info[1:]:
            prose = _markdown_cell("\n".join(lines[cursor:start]))
            if prose is not None:
                cells.append(prose)
            cell = new_code_cell(token.content.rstrip("\n"))
            block = expected.get(start + 1)
            if block is not None and block.expected_output is not None:
                cell.outputs = [new_output("stream", name="stdout", text=block.expected_output)]
                following = next((f for f in fences if f.map[0] > start), None)
                if following is not None:
                    skip_output_at.add(following.map[0])
            cells.append(cell)
            cursor = end
        elif lang == "experiment":
            prose = _markdown_cell("\n".join(lines[cursor:start]))
            if prose is not None:
                cells.append(prose)
            cells.append(new_markdown_cell(
                f"> **Live experiment** — this measurement runs on the course's server: open the lesson at "
                f"<{lesson_url}> and press *Run*."
            ))
            cursor = end
        elif lang == "figure":
            prose = _markdown_cell("\n".join(lines[cursor:start]))
            if prose is not None:
                cells.append(prose)
            block = parse_figure_block(token.content)
            cells.append(new_markdown_cell(
                f"> **Figure** — {block.caption or block.name} *(The picture is in the lesson at <{lesson_url}>. "
                f"It shows: {block.alt})*"
            ))
            cursor = end
    tail = _markdown_cell("\n".join(lines[cursor:]))
    if tail is not None:
        cells.append(tail)
    notebook = new_notebook(cells=cells, metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    return notebook


def notebook_json(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook, version=4)
