"""The certificate PDF: one landscape page drawn with reportlab's canvas.

Every piece of text, the holder's name included, is drawn as plain canvas text, never through a
``Paragraph`` (reportlab's mini-markup): the canvas takes text literally, so a name such as
``<font size=80>`` or ``&amp;`` prints exactly as typed and cannot restyle the page. The output is
deterministic (reportlab's invariant mode, with the PDF's dates set to the issue time), so rendering the same
certificate twice gives the same bytes and SHA-256.
"""
from __future__ import annotations

import io
import itertools
import time
from collections.abc import Iterable

from django.conf import settings
from reportlab.graphics.barcode import qrencoder
from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.pagesizes import A4, LETTER, landscape
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from . import fonts, layout
from .content import CertificateContent, long_date

INK = HexColor("#1c1b29")
SOFT_INK = HexColor("#4a4860")
MUTED = HexColor("#6b6980")
BRAND = HexColor("#3b2fc9")
BRAND_LIGHT = HexColor("#a59ff0")
PAPER = HexColor("#fdfcf8")
PAGE_SIZES = {"A4": A4, "LETTER": LETTER}

Runs = list[tuple[fonts.FontFace, str]]


def _runs(text: str, chain: tuple[fonts.FontFace, ...]) -> Runs:
    return fonts.font_runs(fonts.visual_order(text), chain)


def _width(runs: Runs, size: float) -> float:
    return sum(pdfmetrics.stringWidth(text, fonts.reportlab_font(face), size) for face, text in runs)


def _draw_runs(canvas: Canvas, runs: Runs, x: float, y: float, size: float, *, align: str = "left",
               char_space: float = 0) -> None:
    width = _width(runs, size) + char_space * sum(len(text) for _, text in runs)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    text_object = canvas.beginText(x, y)
    text_object.setCharSpace(char_space)
    for face, text in runs:
        text_object.setFont(fonts.reportlab_font(face), size)
        text_object.textOut(text)
    canvas.drawText(text_object)


def _draw(canvas: Canvas, text: str, x: float, y: float, size: float,
          chain: tuple[fonts.FontFace, ...] = fonts.SANS_CHAIN, **kwargs) -> None:
    _draw_runs(canvas, _runs(text, chain), x, y, size, **kwargs)


def fit_lines(text: str, max_width: float, chain: tuple[fonts.FontFace, ...], *,
              sizes: Iterable[tuple[int, int, int]]) -> tuple[list[str], int]:
    return layout.fit_lines(text, max_width, lambda fragment: _width(_runs(fragment, chain), 1), sizes=sizes)


def _qr_code(canvas: Canvas, url: str, x: float, y: float, size: float, *, border: int = 2) -> None:
    """The QR code of ``url`` (error correction M) in a ``size`` square, with a ``border``-module quiet zone.

    Encoded with reportlab's encoder and drawn straight on the canvas as one filled path of the dark runs of each
    row: the same picture as ``QrCodeWidget`` through a ``Drawing`` and ``renderPDF``, in about half the time
    (encoding is most of what is left, and most of this page's render time).
    """
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(url)
    qr.make()
    module = size / (qr.getModuleCount() + 2 * border)
    canvas.setFillColor(white)
    canvas.roundRect(x - 4, y - 4, size + 8, size + 8, 4, stroke=0, fill=1)
    path = canvas.beginPath()
    for row_index, row in enumerate(qr.modules):
        column = 0
        for dark, run in itertools.groupby(bool(cell) for cell in row):
            length = len(list(run))
            if dark:
                path.rect(x + (column + border) * module, y + size - (row_index + border + 1) * module,
                          length * module, module)
            column += length
    canvas.setFillColor(black)
    canvas.drawPath(path, stroke=0, fill=1)


def _fixed_timestamp(content: CertificateContent) -> TimeStamp:
    """reportlab's invariant-mode stamp, moved to the (re-)issue time so the PDF's dates are true."""
    moment = (content.reissued_at or content.issued_at).timestamp()
    stamp = TimeStamp(invariant=True)
    stamp.t = moment
    stamp.lt = time.gmtime(moment)
    stamp.YMDhms = tuple(stamp.lt)[:6]
    return stamp


def render_certificate_pdf(content: CertificateContent) -> bytes:
    page_width, page_height = landscape(PAGE_SIZES.get(settings.CERTIFICATE_PAGE_SIZE.upper(), A4))
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, content, page_width, page_height)
    center = page_width / 2
    top = page_height - 78
    _draw_paper(canvas, page_width, page_height)
    _draw_heading(canvas, content, center, top)
    _draw_holder_and_course(canvas, content, page_width, center, top)
    base = 66
    _draw_footer(canvas, content, page_width, center, base)
    # The seal sits in the space between the course and the footer.
    _draw_seal(canvas, content, center, base + 118)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _new_canvas(buffer: io.BytesIO, content: CertificateContent, page_width: float, page_height: float) -> Canvas:
    """A deterministic canvas carrying the certificate's document properties."""
    # initialFontName: otherwise reportlab lists an unembedded Helvetica in the page's resources.
    canvas = Canvas(buffer, pagesize=(page_width, page_height), invariant=1, pageCompression=1,
                    initialFontName=fonts.reportlab_font(fonts.SANS))
    canvas._doc._timeStamp = _fixed_timestamp(content)  # no public API for the document date
    canvas.setTitle(f"{content.course_title} — certificate of completion for {content.holder_name}")
    canvas.setAuthor(content.issuer_name)
    canvas.setSubject(
        f"{content.holder_name} completed {content.course_title}. Credential ID {content.human_id}. "
        f"Verify at {content.verification_url}"
    )
    canvas.setCreator(settings.SITE_NAME)
    canvas.setKeywords(["certificate", "credential", content.credential_id])
    return canvas


def _draw_paper(canvas: Canvas, page_width: float, page_height: float) -> None:
    """Paper and a double border with diamond corners."""
    canvas.setFillColor(PAPER)
    canvas.rect(0, 0, page_width, page_height, stroke=0, fill=1)
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(3)
    canvas.rect(22, 22, page_width - 44, page_height - 44, stroke=1, fill=0)
    canvas.setStrokeColor(BRAND_LIGHT)
    canvas.setLineWidth(0.8)
    canvas.rect(31, 31, page_width - 62, page_height - 62, stroke=1, fill=0)
    canvas.setFillColor(BRAND)
    for corner_x, corner_y in ((31, 31), (page_width - 31, 31), (31, page_height - 31),
                               (page_width - 31, page_height - 31)):
        path = canvas.beginPath()
        path.moveTo(corner_x, corner_y + 7)
        path.lineTo(corner_x + 7, corner_y)
        path.lineTo(corner_x, corner_y - 7)
        path.lineTo(corner_x - 7, corner_y)
        path.close()
        canvas.drawPath(path, stroke=0, fill=1)


def _draw_heading(canvas: Canvas, content: CertificateContent, center: float, top: float) -> None:
    canvas.setFillColor(BRAND)
    _draw(canvas, content.issuer_name.upper(), center, top, 11, fonts.SANS_BOLD_CHAIN, align="center",
          char_space=2.2)
    canvas.setFillColor(INK)
    _draw(canvas, "Certificate of Completion", center, top - 50, 34, fonts.SERIF_CHAIN, align="center")
    canvas.setStrokeColor(BRAND_LIGHT)
    canvas.setLineWidth(1)
    canvas.line(center - 60, top - 66, center + 60, top - 66)
    canvas.setFillColor(SOFT_INK)
    _draw(canvas, "This certifies that", center, top - 98, 14, fonts.SERIF_CHAIN, align="center")


def _draw_holder_and_course(
    canvas: Canvas, content: CertificateContent, page_width: float, center: float, top: float
) -> None:
    """The holder's name as large as fits (up to three lines for very long names), the course, the scores."""
    max_name_width = page_width - 2 * 100
    lines, size = fit_lines(content.holder_name, max_name_width, fonts.NAME_CHAIN,
                            sizes=((1, 40, 22), (2, 26, 14), (3, 16, 9)))
    canvas.setFillColor(INK)
    leading = size * 1.18
    name_baseline = top - 148 + (len(lines) - 1) * leading / 2
    for index, line in enumerate(lines):
        _draw(canvas, line, center, name_baseline - index * leading, size, fonts.NAME_CHAIN, align="center")
    underline_y = name_baseline - (len(lines) - 1) * leading - 14
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(0.8)
    canvas.line(center - 190, underline_y, center + 190, underline_y)

    canvas.setFillColor(SOFT_INK)
    _draw(canvas, f"has completed all {content.module_count_words} modules of the course", center,
          underline_y - 32, 14, fonts.SERIF_CHAIN, align="center")
    course_lines, course_size = fit_lines(content.course_title, page_width - 2 * 120, fonts.SERIF_CHAIN,
                                          sizes=((1, 26, 14), (2, 16, 10)))
    canvas.setFillColor(BRAND)
    for index, line in enumerate(course_lines):
        _draw(canvas, line, center, underline_y - 66 - index * course_size * 1.2, course_size,
              (fonts.SERIF_BOLD, *fonts.SANS_BOLD_CHAIN), align="center")
    below_course = underline_y - 66 - (len(course_lines) - 1) * course_size * 1.2
    if content.module_results:
        scores = "   ".join(f"{r['order']} · {r['score']}%" for r in content.module_results)
        canvas.setFillColor(MUTED)
        _draw(canvas, f"Best quiz score per module:   {scores}", center, below_course - 26, 9, align="center")


def _draw_footer(canvas: Canvas, content: CertificateContent, page_width: float, center: float, base: float) -> None:
    """Dates and issuer (left), credential id and verification URL (centre), QR code (right)."""
    left = 72
    canvas.setFillColor(MUTED)
    _draw(canvas, "ISSUED", left, base + 62, 7.5, fonts.SANS_BOLD_CHAIN, char_space=1)
    canvas.setFillColor(INK)
    _draw(canvas, long_date(content.issued_at), left, base + 47, 12, fonts.SERIF_CHAIN)
    if content.reissued_at:
        canvas.setFillColor(MUTED)
        _draw(canvas, f"Re-issued {long_date(content.reissued_at)}", left, base + 34, 8)
    canvas.setFillColor(MUTED)
    _draw(canvas, "ISSUER", left, base + 14, 7.5, fonts.SANS_BOLD_CHAIN, char_space=1)
    canvas.setFillColor(INK)
    _draw(canvas, content.issuer_name, left, base - 1, 12, fonts.SERIF_CHAIN)

    canvas.setFillColor(MUTED)
    _draw(canvas, "CREDENTIAL ID", center, base + 62, 7.5, fonts.SANS_BOLD_CHAIN, align="center", char_space=1)
    canvas.setFillColor(INK)
    _draw(canvas, content.human_id, center, base + 47, 12, fonts.SANS_BOLD_CHAIN, align="center")
    canvas.setFillColor(MUTED)
    _draw(canvas, "VERIFY AT", center, base + 14, 7.5, fonts.SANS_BOLD_CHAIN, align="center", char_space=1)
    canvas.setFillColor(BRAND)
    url_runs = _runs(content.verification_url, fonts.SANS_CHAIN)
    url_size = min(8.5, 8.5 * 300 / max(_width(url_runs, 8.5), 1))
    _draw_runs(canvas, url_runs, center, base - 1, url_size, align="center")
    url_half = _width(url_runs, url_size) / 2
    canvas.linkURL(content.verification_url, (center - url_half, base - 4, center + url_half, base + 8), relative=0)

    qr_size = 86
    _qr_code(canvas, content.verification_url, page_width - 72 - qr_size, base - 6, qr_size)


def _draw_seal(canvas: Canvas, content: CertificateContent, center: float, seal_y: float) -> None:
    canvas.setFillColor(BRAND)
    canvas.circle(center, seal_y, 32, stroke=0, fill=1)
    canvas.setStrokeColor(white)
    canvas.setLineWidth(0.8)
    canvas.circle(center, seal_y, 27.5, stroke=1, fill=0)
    canvas.setFillColor(white)
    count = len(content.module_results)
    _draw(canvas, f"{count}/{count}", center, seal_y + 1, 15, fonts.SANS_BOLD_CHAIN, align="center")
    _draw(canvas, "MODULES", center, seal_y - 11, 6, fonts.SANS_BOLD_CHAIN, align="center", char_space=0.8)
