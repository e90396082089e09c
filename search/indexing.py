"""Turns a lesson's rendered HTML and its quiz into index rows. Plain functions (no ORM), so the migration that
fills the index for an existing site can call them too."""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree import ElementTree

_HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.S)
_ANCHOR_LINK = re.compile(r'<a class="header-anchor"[^>]*>.*?</a>', re.S)
_MATH = re.compile(r"<math\b.*?</math>", re.S)
_TAG = re.compile(r"<[^>]+>")
_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|cite|code|dfn|em|i|kbd|mark|q|s|samp|small|span|strong|sub|sup|u|var)\b[^>]*>"
)
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


# Accents over a letter (\tilde, \bar, \vec ...) as the combining characters that put them there in plain text.
_COMBINING_ACCENTS = {"~": "\u0303", "˜": "\u0303", "¯": "\u0304", "‾": "\u0304", "^": "\u0302", "ˆ": "\u0302",
                      "→": "\u20d7", "←": "\u20d6", "·": "\u0307", "˙": "\u0307"}
# Operators that read better with a space either side, outside sub- and superscripts.
_SPACED_OPERATORS = set("=≈≠≤≥<>∝+−×⊙∈→")
# Named entities in the rendered MathML (&nbsp; in \text{}) that an XML parser does not know.
_HTML_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|apos);)[A-Za-z][A-Za-z0-9]*;")

# A sign that opens an expression is unary: "exp(−1/N ...)", "{0, −∞}", not "exp( − 1/N".
_UNARY_SIGN = re.compile(r"(^|[(\[{,;]|[=≈≤≥<>∈] )\s*([−+]) ")
# Elements after which a letter starts a new factor.
_SCRIPTED = {"msub", "msup", "msubsup", "munder", "munderover", "mfrac"}
_INNERMOST_GROUP = re.compile(r"\([^()]*\)")
_NEEDS_BRACKETS = re.compile(r"[\s+−=,;/·×⊙<>≤≥≈]")


def math_text(fragment: str) -> str:
    """A MathML formula as one line of text, the way people type it: ``h_t``, ``h_(t−1)``, ``QK^⊤/√d_k``,
    ``h̄_s``. Search results quote it in their snippets, where the tokens run together (``h ¯ s``) otherwise."""
    try:
        # our own renderer's output (lessons are admin-edited Markdown), parsed without DTDs or external entities
        root = ElementTree.fromstring(_HTML_ENTITY.sub(lambda m: html.unescape(m.group(0)), fragment))  # noqa: S314
    except ElementTree.ParseError:
        return _tokens(fragment)
    text = _SPACE.sub(" ", _linear(root, scripted=False)).strip()
    return _UNARY_SIGN.sub(r"\1\2", text)


def _linear(node: ElementTree.Element, *, scripted: bool) -> str:
    tag = node.tag.rsplit("}", 1)[-1]
    children = list(node)

    def part(i: int, *, script: bool = True) -> str:
        return _linear(children[i], scripted=scripted or script) if i < len(children) else ""

    if tag in ("mi", "mn", "mtext", "ms"):
        return (node.text or "").replace("\u00a0", " ")
    if tag == "mo":
        text = (node.text or "").strip()
        return f" {text} " if text in _SPACED_OPERATORS and not scripted else text
    if tag == "mspace":
        return " "
    if tag in ("msub", "munder"):  # a limit under ∑ reads like a subscript
        return part(0, script=False) + "_" + _grouped(part(1))
    if tag == "msup":
        return part(0, script=False) + "^" + _grouped(part(1))
    if tag in ("msubsup", "munderover"):
        return part(0, script=False) + "_" + _grouped(part(1)) + "^" + _grouped(part(2))
    if tag == "mover":
        base, accent = part(0, script=False), part(1).strip()
        if accent in _COMBINING_ACCENTS and base:
            return base + _COMBINING_ACCENTS[accent]
        return base + "^" + _grouped(accent)
    if tag == "mfrac":
        return _grouped(part(0)) + "/" + _grouped(part(1))
    if tag == "msqrt":
        return "√" + _grouped("".join(_linear(c, scripted=True) for c in children))
    if tag == "mroot":
        return "√" + _grouped(part(0))
    if tag == "mtr":
        return " ".join(_linear(c, scripted=scripted) for c in children)
    if tag == "mtable":
        return "; ".join(_linear(c, scripted=scripted) for c in children)
    out, previous, previous_text = "", "", ""
    for child in children:
        text = _linear(child, scripted=scripted)
        # a new factor after a script, a fraction or a function name: "α_ij h_j", "1/d ∑", "log p", not "α_ijh_j"
        starts_factor = text[:1].isalnum() or text[:1] in "∑∏∫"
        after_name = previous == "mi" and len(previous_text) > 1
        if out and starts_factor and (previous in _SCRIPTED or after_name):
            out += " "
        out += text
        previous, previous_text = child.tag.rsplit("}", 1)[-1], text
    return out


def _grouped(text: str) -> str:
    """``text`` as one script or operand: bracketed when it holds more than one term (``h_(t−1)``, ``(x−μ)/σ``),
    not for a single token such as ``d_k`` or ``QK^⊤``."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        return text
    outer = text
    while (inner := _INNERMOST_GROUP.sub("", outer)) != outer:  # only what is outside brackets decides
        outer = inner
    return f"({text})" if _NEEDS_BRACKETS.search(outer) else text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def plain_text(fragment: str, *, keep_lines: bool = False) -> str:
    """Visible text of an HTML fragment; formulas as one line of text each (see :func:`math_text`)."""
    fragment = _MATH.sub(lambda m: math_text(m.group(0)), fragment)
    if keep_lines:
        text = html.unescape(_TAG.sub("", fragment))
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
    # inline markup joins its words to what follows ("h_t, then", "<em>dog</em>."); other tags part them
    return _tokens(_INLINE_TAG.sub("", fragment))


def _tokens(fragment: str) -> str:
    """The text of ``fragment`` with every tag as a space, on one line."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment))).strip()


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
