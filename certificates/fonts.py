"""Fonts for the PDF and the share image, and the text shaping that lets one name mix scripts.

No single free font covers every script a name may be written in, so each piece of text is split into runs and
every run is drawn with the first font of a fallback chain that has glyphs for it (DejaVu for Latin, Greek,
Cyrillic, Arabic and Hebrew; WenQuanYi Zen Hei for Chinese, Japanese and Korean). Neither reportlab nor Pillow's
basic layout does bidi or Arabic joining, so right-to-left text is reshaped and put into visual order first.

The font files come from the Debian packages ``fonts-dejavu-core`` and ``fonts-wqy-zenhei`` (the Makefile
installs both); ``settings.CERTIFICATE_FONT_DIRS`` lists where to look. When a file is missing the PDF falls back
to reportlab's built-in fonts (Latin-1 only) and, for CJK, to the Adobe ``STSong-Light`` CID font, which PDF
viewers supply themselves rather than it being embedded; such names still print, but other scripts may not.
"""
from __future__ import annotations

import functools
import logging
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import arabic_reshaper
from bidi import get_display
from django.conf import settings
from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FontFace:
    name: str  # the name registered with reportlab
    filename: str
    subfont_index: int = 0
    builtin_fallback: str = "Helvetica"  # reportlab standard font used when the file is missing


SERIF = FontFace("TA-Serif", "DejaVuSerif.ttf", builtin_fallback="Times-Roman")
SERIF_BOLD = FontFace("TA-Serif-Bold", "DejaVuSerif-Bold.ttf", builtin_fallback="Times-Bold")
SANS = FontFace("TA-Sans", "DejaVuSans.ttf", builtin_fallback="Helvetica")
SANS_BOLD = FontFace("TA-Sans-Bold", "DejaVuSans-Bold.ttf", builtin_fallback="Helvetica-Bold")
CJK = FontFace("TA-CJK", "wqy-zenhei.ttc", subfont_index=0, builtin_fallback="STSong-Light")

# Fallback chains: the first font is the look; the others catch scripts it lacks.
NAME_CHAIN = (SERIF_BOLD, SANS_BOLD, CJK)
SERIF_CHAIN = (SERIF, SANS, CJK)
SANS_CHAIN = (SANS, CJK)
SANS_BOLD_CHAIN = (SANS_BOLD, SANS, CJK)

_RTL_BIDI_CLASSES = {"R", "AL", "AN"}
_LATIN1 = frozenset(range(0x20, 0x100))
_CJK_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x30FF), (0x3130, 0x318F), (0x31F0, 0x31FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF),
)
_register_lock = threading.Lock()


def find_font_file(face: FontFace) -> Path | None:
    for folder in settings.CERTIFICATE_FONT_DIRS:
        candidate = Path(folder) / face.filename
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _loaded(face: FontFace) -> tuple[str, frozenset[int]]:
    """Register the face with reportlab once per process; returns (reportlab font name, code points covered)."""
    path = find_font_file(face)
    with _register_lock:
        if path is not None:
            font = TTFont(face.name, str(path), subfontIndex=face.subfont_index)
            pdfmetrics.registerFont(font)
            return face.name, frozenset(font.face.charToGlyph)
        logger.warning("Font file %s not found in CERTIFICATE_FONT_DIRS; using %s", face.filename,
                       face.builtin_fallback)
        if face.builtin_fallback == "STSong-Light":
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
            covered = frozenset(cp for lo, hi in _CJK_RANGES for cp in range(lo, hi + 1))
            return "STSong-Light", covered
        return face.builtin_fallback, _LATIN1


def reportlab_font(face: FontFace) -> str:
    return _loaded(face)[0]


def covers(face: FontFace, char: str) -> bool:
    return ord(char) in _loaded(face)[1]


def visual_order(text: str) -> str:
    """Arabic letters joined into their contextual forms and right-to-left runs reversed, ready to draw."""
    if not any(unicodedata.bidirectional(ch) in _RTL_BIDI_CLASSES for ch in text):
        return text
    return get_display(arabic_reshaper.reshape(text))


def font_runs(text: str, chain: tuple[FontFace, ...]) -> list[tuple[FontFace, str]]:
    """Split already-ordered text into (face, text) runs, each face the first in the chain with the glyphs.

    Spaces and combining marks stay with the run before them, so a space between two CJK words does not switch
    fonts and an accent is drawn by the font that drew its letter.
    """
    runs: list[tuple[FontFace, str]] = []
    for char in text:
        follows_previous = runs and (char.isspace() or unicodedata.category(char).startswith("M"))
        face = runs[-1][0] if follows_previous else next((f for f in chain if covers(f, char)), chain[0])
        if runs and runs[-1][0] == face:
            runs[-1] = (face, runs[-1][1] + char)
        else:
            runs.append((face, char))
    return runs


_pillow_fonts = threading.local()


def pillow_font(face: FontFace, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A Pillow font, cached per thread: a FreeType face must not be used by two threads at once."""
    cache = _pillow_fonts.__dict__.setdefault("fonts", {})
    if (face, size) not in cache:
        path = find_font_file(face)
        if path is None:
            cache[face, size] = ImageFont.load_default(size=size)
        else:
            # BASIC layout: the text is already shaped and in visual order; raqm would reorder it again.
            cache[face, size] = ImageFont.truetype(str(path), size=size, index=face.subfont_index,
                                                   layout_engine=ImageFont.Layout.BASIC)
    return cache[face, size]
