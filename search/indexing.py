"""Turns a lesson's rendered HTML and its quiz into index rows. Plain functions (no ORM), so the migration that
fills the index for an existing site can call them too."""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

_HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.S)
_ANCHOR_LINK = re.compile(r'<a class="header-anchor"[^>]*>.*?</a>', re.S)
_MATH = re.compile(r"<math\b.*?</math>", re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_EXPERIMENT = re.compile(r'<div class="experiment-embed"[^>]*></div>')
# A figure's labels are drawing, not prose; its caption (outside the <svg>) is indexed.
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


@dataclass(frozen=True)
class Entry:
    kind: str
    position: int
    anchor: str
    heading: str
    text: str
    hidden_text: str = ""


def plain_text(fragment: str, *, keep_lines: bool = False) -> str:
    """Visible text of an HTML fragment; MathML keeps its tokens' text (x, d_k ...)."""
    text = html.unescape(_TAG.sub(" " if not keep_lines else "", fragment))
    if keep_lines:
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
    return _SPACE.sub(" ", text).strip()


def lesson_entries(*, lesson_html: str, lesson_title: str, questions: Iterable[tuple[str, str, str]]) -> list[Entry]:
    """Sections (text under each h2/h3), code listings (with their section) and quiz questions
    (``(prompt, explanation, section anchor)``: the prompt is shown, the explanation only matched)."""
    body = _SVG.sub(" ", _EXPERIMENT.sub(" ", _ANCHOR_LINK.sub("", lesson_html)))
    headings = list(_HEADING.finditer(body))
    spans = [("", lesson_title, 0, headings[0].start() if headings else len(body))]
    for i, match in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(body)
        spans.append((match.group(2), plain_text(match.group(3)), match.end(), end))
    entries: list[Entry] = []
    titles = {}
    for anchor, heading, start, end in spans:
        titles[anchor] = heading
        chunk = body[start:end]
        for code in _PRE.findall(chunk):
            entries.append(Entry("code", len(entries), anchor, heading, plain_text(code, keep_lines=True)))
        prose = plain_text(_PRE.sub(" ", chunk))
        if prose or anchor:
            entries.append(Entry("section", len(entries), anchor, heading, prose))
    for prompt, explanation, section in questions:
        anchor = section if section in titles else ""
        entries.append(Entry("quiz", len(entries), anchor, titles.get(anchor, lesson_title), prompt, explanation))
    return entries
