"""Course figures: SVG sanitising and the ```figure fence.

A figure is SVG text stored in the database (``lessons.Figure``) and inlined into the lesson page, so its
``currentColor`` strokes and text follow the page's text colour (an ``<img>`` could not). Because it becomes
part of every student's page, an SVG is cleaned with an allow-list before it is stored, whoever wrote it:
no scripts, no event handlers, no ``<foreignObject>``, no links, and no ``url(...)`` except to a ``#fragment``
inside the same figure.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nh3

FIGURE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}\.svg$")
MAX_SVG_CHARS = 400_000  # a hand-drawn diagram is a few kB; a megabyte of SVG is a mistake or an attack

SVG_TAGS = {
    "svg", "g", "rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text", "tspan", "title",
    "desc", "defs", "marker", "linearGradient", "radialGradient", "stop", "pattern",
    "clipPath", "mask",
}
SVG_ATTRS = {
    "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "dx", "dy",
    "d", "points", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "font-size", "font-weight", "font-style",
    "font-family", "text-anchor", "dominant-baseline", "letter-spacing", "transform", "opacity", "role",
    "aria-label", "aria-hidden", "marker-end", "marker-start", "markerWidth", "markerHeight", "refX", "refY",
    "orient", "xmlns", "preserveAspectRatio", "offset", "stop-color", "stop-opacity", "gradientUnits",
    "patternUnits", "clip-path", "mask", "class", "id", "focusable",
}
_URL = re.compile(r"url\s*\(", re.I)
_LOCAL_URL = re.compile(r"url\(\s*#[A-Za-z][\w.-]*\s*\)")
_DANGEROUS_VALUE = re.compile(r"javascript:|data:|expression\s*\(", re.I)


class SvgError(ValueError):
    """The text is not an SVG figure (after cleaning, nothing with an ``<svg>`` root is left)."""


def svg_attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Drop attribute values that could fetch or run something: ``url()`` to anything but ``#id``."""
    if _DANGEROUS_VALUE.search(value):
        return None
    if _URL.search(_LOCAL_URL.sub("", value)):
        return None
    return value


def sanitize_svg(text: str) -> str:
    """Clean an SVG document down to the allow-list; raises :class:`SvgError` if no ``<svg>`` is left."""
    if len(text) > MAX_SVG_CHARS:
        raise SvgError(f"the SVG is {len(text)} characters; figures are limited to {MAX_SVG_CHARS}")
    cleaned = nh3.clean(
        text,
        tags=SVG_TAGS,
        attributes=dict.fromkeys(SVG_TAGS, SVG_ATTRS),
        attribute_filter=svg_attribute_filter,
        url_schemes=set(),
        strip_comments=True,
        link_rel=None,
        clean_content_tags={"script", "style"},
    ).strip()
    if not cleaned.startswith("<svg") or not cleaned.endswith("</svg>"):
        raise SvgError("not an SVG figure: the text must be one <svg> element")
    return cleaned


def figure_name(src: str) -> str:
    """``figures/01-unrolled-rnn.svg`` -> ``01-unrolled-rnn.svg`` (figures live flat in the course)."""
    return src.strip().rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FigureBlock:
    src: str
    alt: str
    caption: str

    @property
    def name(self) -> str:
        return figure_name(self.src)


def parse_figure_block(content: str) -> FigureBlock:
    """The ``key: value`` lines of a ```figure fence (``src``, ``alt``, ``caption``)."""
    fields: dict[str, str] = {}
    for line in content.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("src", "alt", "caption"):
            fields[key.strip()] = value.strip()
    return FigureBlock(src=fields.get("src", ""), alt=fields.get("alt", ""), caption=fields.get("caption", ""))


_SVG_OPEN = re.compile(r"^<svg\b([^>]*)>", re.S)
_A11Y_ATTR = re.compile(r'\s(?:role|aria-label|aria-hidden|focusable)="[^"]*"')


def inline_svg(svg: str, *, alt: str) -> str:
    """The stored SVG with the fence's alt text as its accessible name (role="img", aria-label)."""
    match = _SVG_OPEN.match(svg)
    if match is None:
        return ""
    attrs = _A11Y_ATTR.sub("", match.group(1))
    return f'<svg{attrs} role="img" aria-label="{html.escape(alt, quote=True)}">{svg[match.end():]}'
