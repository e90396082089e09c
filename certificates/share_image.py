"""The 1200x627 share image (``og:image``): who completed what, and a REVOKED band when it no longer holds."""
from __future__ import annotations

import functools
import io
import math
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

from . import fonts, layout
from .content import CertificateContent, long_date

WIDTH, HEIGHT = 1200, 627
DEEP = (42, 32, 150)
BRIGHT = (109, 93, 252)
WHITE = (255, 255, 255)
LILAC = (207, 201, 255)
PALE = (231, 228, 255)
REVOKED_RED = (180, 35, 24)


def _runs(text: str, chain: tuple[fonts.FontFace, ...]) -> list[tuple[fonts.FontFace, str]]:
    return fonts.font_runs(fonts.visual_order(text), chain)


def _unit_width(chain: tuple[fonts.FontFace, ...]):
    def measure(fragment: str) -> float:
        # Measured at 100 px and scaled: Pillow rounds advances, which would distort a 1 px measurement.
        return sum(fonts.pillow_font(face, 100).getlength(text) for face, text in _runs(fragment, chain)) / 100
    return measure


def _draw(draw: ImageDraw.ImageDraw, text: str, x: float, y: float, size: int,
          chain: tuple[fonts.FontFace, ...], fill: tuple[int, int, int], *, align: str = "left") -> float:
    """Draw ``text`` on the baseline ``y``, each run in its own font; returns the width drawn."""
    runs = _runs(text, chain)
    width = sum(fonts.pillow_font(face, size).getlength(part) for face, part in runs)
    if align == "center":
        x -= width / 2
    for face, part in runs:
        font = fonts.pillow_font(face, size)
        draw.text((x, y), part, font=font, fill=fill, anchor="ls")
        x += font.getlength(part)
    return width


@functools.cache
def _background() -> Image.Image:
    """The gradient, deep on the left where the text is; built once per process and copied per image."""
    mask = Image.linear_gradient("L").rotate(90).resize((WIDTH, HEIGHT))
    return Image.composite(Image.new("RGB", (WIDTH, HEIGHT), BRIGHT), Image.new("RGB", (WIDTH, HEIGHT), DEEP), mask)


def _revoked_band(image: Image.Image) -> Image.Image:
    """A red band across the image, tilted, with REVOKED on it."""
    angle = math.radians(14)
    half_length, half_thickness = 760, 64
    center_x, center_y = WIDTH / 2, HEIGHT / 2
    along = (math.cos(angle), -math.sin(angle))
    across = (math.sin(angle), math.cos(angle))
    corners = [
        (center_x + a * half_length * along[0] + b * half_thickness * across[0],
         center_y + a * half_length * along[1] + b * half_thickness * across[1])
        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    overlay = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    ImageDraw.Draw(overlay).polygon(corners, fill=(*REVOKED_RED, 235))
    label = Image.new("RGBA", (520, 110), (0, 0, 0, 0))
    _draw(ImageDraw.Draw(label), "REVOKED", 260, 88, 84, fonts.SANS_BOLD_CHAIN, WHITE, align="center")
    label = label.rotate(14, expand=True, resample=Image.Resampling.BILINEAR)
    overlay.alpha_composite(label, (round(center_x - label.width / 2), round(center_y - label.height / 2)))
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def render_share_image(content: CertificateContent) -> bytes:
    image = _background().copy()
    draw = ImageDraw.Draw(image)
    left = 80
    text_width = 820

    _draw(draw, content.issuer_name.upper(), left, 92, 24, fonts.SANS_BOLD_CHAIN, LILAC)
    _draw(draw, "Certificate of Completion", left, 160, 52, fonts.SERIF_CHAIN, WHITE)

    name_lines, name_size = layout.fit_lines(content.holder_name, text_width, _unit_width(fonts.NAME_CHAIN),
                                             sizes=((1, 76, 40), (2, 46, 24), (3, 26, 14)))
    y = 290 if len(name_lines) == 1 else 250
    for line in name_lines:
        _draw(draw, line, left, y, name_size, fonts.NAME_CHAIN, WHITE)
        y += round(name_size * 1.15)
    y += 16
    _draw(draw, f"completed all {content.module_count_words} modules of", left, y, 28, fonts.SERIF_CHAIN, PALE)
    course_lines, course_size = layout.fit_lines(content.course_title, text_width,
                                                 _unit_width(fonts.SANS_BOLD_CHAIN), sizes=((1, 44, 26), (2, 28, 16)))
    y += 12
    for line in course_lines:
        y += round(course_size * 1.2)
        _draw(draw, line, left, y, course_size, (fonts.SERIF_BOLD, *fonts.SANS_BOLD_CHAIN), WHITE)

    site = urlsplit(content.verification_url).netloc
    footer = f"Issued {long_date(content.issued_at)}  ·  ID {content.human_id}  ·  verify at {site}"
    _draw(draw, footer, left, HEIGHT - 62, 22, fonts.SANS_CHAIN, LILAC)

    # Seal: the module count, in the top right corner.
    seal_x, seal_y, radius = 1040, 150, 84
    draw.ellipse((seal_x - radius, seal_y - radius, seal_x + radius, seal_y + radius), fill=WHITE)
    draw.ellipse((seal_x - radius + 9, seal_y - radius + 9, seal_x + radius - 9, seal_y + radius - 9),
                 outline=BRIGHT, width=3)
    count = len(content.module_results)
    _draw(draw, f"{count}/{count}", seal_x, seal_y + 14, 50, fonts.SANS_BOLD_CHAIN, DEEP, align="center")
    _draw(draw, "MODULES", seal_x, seal_y + 44, 18, fonts.SANS_BOLD_CHAIN, DEEP, align="center")

    if content.revoked:
        image = _revoked_band(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()
