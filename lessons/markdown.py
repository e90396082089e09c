"""Markdown -> safe HTML for lesson pages.

Rendering happens on the server only (no JavaScript, no CDN): Pygments highlights code, latex2mathml turns
``$...$`` / ``$$...$$`` into MathML, admonitions become callouts, ``##``/``###`` headings get anchors and build
the table of contents. The result is sanitised with nh3 even though admins write the text, because a
compromised or careless admin account must not be able to put script on every lesson page.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

import nh3
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

# Bump when the HTML this module produces changes, so cached lesson HTML is rebuilt.
RENDERER_VERSION = "7"
WORDS_PER_MINUTE = 200
EXPERIMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def slugify_heading(text: str) -> str:
    """`Problem 1: Vanishing Gradients` -> `problem-1-vanishing-gradients` (documented in content-format.md)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


@dataclass
class RenderedMarkdown:
    html: str
    toc: list[dict] = field(default_factory=list)
    word_count: int = 0
    reading_minutes: int = 1
    experiments: list[str] = field(default_factory=list)


def _render_math(content: str, options: dict) -> str:
    display = "block" if options.get("display_mode") else "inline"
    try:
        return latex_to_mathml(content, display=display)
    except Exception:  # noqa: BLE001 - any parse failure falls back to the source, visibly
        return f'<code class="math-error">{html.escape(content)}</code>'


_FORMATTER = HtmlFormatter(nowrap=True)


def _highlight(code: str, lang: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    return highlight(code, lexer, _FORMATTER)


def _parse_experiment_block(content: str) -> str | None:
    for line in content.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "name":
            name = value.strip()
            return name if EXPERIMENT_NAME.match(name) else None
    return None


def _render_fence(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    info = token.info.strip().split()
    lang = info[0].lower() if info else ""
    flags = info[1:]
    if lang == "experiment":
        name = _parse_experiment_block(token.content)
        if name is None:
            return '<p class="experiment-error">Experiment block without a valid <code>name:</code>.</p>'
        env.setdefault("experiments", []).append(name)
        return f'<div class="experiment-embed" data-experiment="{name}"></div>\n'
    if lang == "output":
        label = "Output (numbers vary by run)" if "approx" in flags else "Output"
        return (
            f'<figure class="code-output"><figcaption>{label}</figcaption>'
            f'<pre tabindex="0"><code>{html.escape(token.content)}</code></pre></figure>\n'
        )
    css_lang = re.sub(r"[^a-z0-9+-]", "", lang) or "text"
    note = ""
    if "no-run" in flags:
        note = '<span class="code-note">fragment, not run</span>'
    return (
        f'<div class="code-block" data-lang="{css_lang}"><div class="code-toolbar">'
        f'<span class="code-lang">{css_lang}</span>{note}</div>'
        f'<pre class="highlight" tabindex="0"><code class="language-{css_lang}">'
        f"{_highlight(token.content, lang)}</code></pre>"
        "</div>\n"
    )


def _build_parser() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"html": True, "typographer": False})
        .enable(["table", "strikethrough"])
        .use(front_matter_plugin)
        .use(admon_plugin)
        .use(dollarmath_plugin, renderer=_render_math, allow_digits=False, double_inline=True)
        .use(anchors_plugin, min_level=2, max_level=3, permalink=True, permalinkSymbol="#",
             slug_func=slugify_heading)
    )
    md.add_render_rule("fence", _render_fence)
    return md


_MD = _build_parser()

_MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "mfrac", "msqrt", "msub", "msup", "mover", "munder", "munderover",
    "mroot", "mspace", "msubsup", "mtable", "mtr", "mtd", "mtext", "mstyle", "mpadded", "semantics",
    "annotation", "menclose",
}
_SVG_TAGS = {
    "svg", "g", "rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text", "tspan", "title",
    "desc", "defs", "marker",
}
_SVG_ATTRS = {
    "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "d", "points",
    "fill", "stroke", "stroke-width", "stroke-dasharray", "font-size", "font-weight", "text-anchor",
    "transform", "opacity", "role", "aria-label", "marker-end", "markerWidth", "markerHeight", "refX", "refY",
    "orient", "dominant-baseline", "xmlns",
}
ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | _MATHML_TAGS | _SVG_TAGS | {
    "figure", "figcaption", "span", "div", "pre", "code", "details", "summary", "table", "thead", "tbody", "tr",
    "th", "td", "caption", "sup", "sub",
}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "aria-hidden"},
    "img": {"src", "alt", "width", "height", "loading"},
    # Scrollable listings and wide equations must be reachable by keyboard (axe: scrollable-region-focusable).
    "div": {"data-experiment", "data-lang", "role", "aria-label", "tabindex"},
    "pre": {"tabindex"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "td": {"style", "colspan", "rowspan"},
    "math": {"xmlns", "display"},
    "mo": {"stretchy", "accent", "fence", "form", "separator", "lspace", "rspace", "largeop", "movablelimits"},
    "mover": {"accent"},
    "munder": {"accentunder"},
    "mspace": {"width"},
    "mstyle": {"displaystyle", "scriptlevel"},
    "mtable": {"columnalign", "rowspacing", "columnspacing"},
    "mtd": {"columnalign"},
    "menclose": {"notation"},
    "mi": {"mathvariant"},
    "annotation": {"encoding"},
    **{tag: set(_SVG_ATTRS) for tag in _SVG_TAGS},
}


def sanitize(unsafe_html: str) -> str:
    return nh3.clean(
        unsafe_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _toc(tokens) -> list[dict]:
    toc = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3") and token.attrs.get("id"):
            inline = tokens[i + 1]
            text = "".join(
                child.content for child in (inline.children or []) if child.type in ("text", "code_inline")
            ).strip()
            toc.append({"level": int(token.tag[1]), "id": token.attrs["id"], "text": text})
    return toc


def _count_words(tokens) -> int:
    words = 0
    for token in tokens:
        if token.type == "inline":
            words += len(token.content.split())
        elif token.type == "fence":
            # Code is read more slowly than prose: count a line of code as three words.
            words += 3 * len(token.content.splitlines())
    return words


TABLE_WRAP_OPEN = '<div class="table-wrap" role="region" aria-label="Table, scrolls sideways" tabindex="0"><table>'


def render_inline(text: str) -> str:
    """One line of Markdown (emphasis, code, links, math) to sanitised inline HTML, e.g. a glossary definition."""
    return sanitize(_MD.renderInline(text))


def render_markdown(text: str) -> RenderedMarkdown:
    """Render lesson Markdown (front matter, if any, is ignored) to sanitised HTML plus its TOC."""
    env: dict = {}
    tokens = _MD.parse(text, env)
    raw_html = _MD.renderer.render(tokens, _MD.options, env)
    # A wide display equation scrolls inside its wrapper; make that wrapper keyboard-focusable.
    raw_html = raw_html.replace('<div class="math block">', '<div class="math block" tabindex="0">')
    # A wide table scrolls inside its own box (with an edge shadow as the cue) instead of widening the page.
    raw_html = raw_html.replace("<table>", TABLE_WRAP_OPEN).replace("</table>", "</table></div>")
    words = _count_words(tokens)
    return RenderedMarkdown(
        html=sanitize(raw_html),
        toc=_toc(tokens),
        word_count=words,
        reading_minutes=max(1, math.ceil(words / WORDS_PER_MINUTE)),
        experiments=env.get("experiments", []),
    )
