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
from functools import lru_cache

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

from .figures import SVG_ATTRS, SVG_TAGS, inline_svg, parse_figure_block, svg_attribute_filter

# Bump when the HTML this module produces changes, so cached lesson HTML is rebuilt.
RENDERER_VERSION = "9"  # 9: figures, claim markers, table scroll boxes
WORDS_PER_MINUTE = 200
EXPERIMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# A callout title may end with `{#claim-some-name}`: the callout gets that id, so an inline claim marker such as
# `[wrong: see note](#claim-some-name)` can link to the note that corrects the claim.
CALLOUT_ID = re.compile(r"\s*\{#(claim-[a-z0-9-]{1,64})\}\s*$")
CLAIM_MARKER_HREF = "#claim-"


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
    figures: list[str] = field(default_factory=list)


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


def _render_figure(content: str, env: dict) -> str:
    """A ```figure fence: the course's SVG inlined (it follows the page's colours), with alt text and caption."""
    block = parse_figure_block(content)
    env.setdefault("figures", []).append(block.name)
    caption = _MD.renderInline(block.caption) if block.caption else ""
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    svg = env.get("figure_svgs", {}).get(block.name)
    if svg is None or not block.alt:
        # Shown, not hidden: an author previewing the lesson sees what is missing.
        problem = "has no alt text" if svg is not None else "is not in this course"
        return (
            f'<figure class="lesson-figure lesson-figure--missing"><p>Figure <code>{html.escape(block.name)}'
            f"</code> {problem}. {html.escape(block.alt)}</p>{figcaption}</figure>\n"
        )
    return f'<figure class="lesson-figure">{inline_svg(svg, alt=block.alt)}{figcaption}</figure>\n'


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
    if lang == "figure":
        return _render_figure(token.content, env)
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


def _callout_ids(state) -> None:
    """Move a trailing `{#claim-...}` from a callout's title to the callout itself (runs before inline parsing)."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "admonition_open":
            continue
        if i + 2 < len(tokens) and tokens[i + 1].type == "admonition_title_open" and tokens[i + 2].type == "inline":
            title = tokens[i + 2]
            match = CALLOUT_ID.search(title.content)
            if match:
                title.content = title.content[: match.start()]
                token.attrs["id"] = match.group(1)


def _render_link_open(self, tokens, idx, options, env) -> str:
    # A link to a claim's note is a claim marker: styled small and raised, but still an ordinary, readable link.
    token = tokens[idx]
    if str(token.attrs.get("href", "")).startswith(CLAIM_MARKER_HREF):
        token.attrs["class"] = "claim-marker"
    return self.renderToken(tokens, idx, options, env)


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
    md.core.ruler.before("inline", "callout_ids", _callout_ids)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("link_open", _render_link_open)
    return md


_MD = _build_parser()

_MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "mfrac", "msqrt", "msub", "msup", "mover", "munder", "munderover",
    "mroot", "mspace", "msubsup", "mtable", "mtr", "mtd", "mtext", "mstyle", "mpadded", "semantics",
    "annotation", "menclose",
}
# Inline SVG (figures and hand-written diagrams) gets the figure allow-list, see lessons/figures.py.
ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | _MATHML_TAGS | SVG_TAGS | {
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
    **{tag: set(SVG_ATTRS) for tag in SVG_TAGS},
}


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    return svg_attribute_filter(tag, attribute, value) if tag in SVG_TAGS else value


def sanitize(unsafe_html: str) -> str:
    return nh3.clean(
        unsafe_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_attribute_filter,
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


def render_markdown(text: str, *, figures: dict[str, str] | None = None) -> RenderedMarkdown:
    """Render lesson Markdown (front matter, if any, is ignored) to sanitised HTML plus its TOC.

    ``figures`` maps a figure's file name to its (sanitised) SVG, for ```figure fences to inline.
    """
    env: dict = {"figure_svgs": figures or {}}
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
        figures=env.get("figures", []),
    )


@lru_cache(maxsize=4096)
def render_inline(text: str) -> str:
    """One line of inline Markdown (emphasis, `code`, ``$...$`` math) to sanitised HTML, without a ``<p>``.

    For short texts shown inside other markup, such as quiz prompts, choices and explanations. Cached per
    process: the texts are few and change only when content is reloaded, and a new text is simply a new key.
    """
    return sanitize(_MD.renderInline(text))
