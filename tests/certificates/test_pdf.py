"""The PDF: designed once, stored, and readable by people (text, any script) and by phones (the QR code)."""
from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from pypdf import PdfReader

from certificates.content import CertificateContent
from certificates.credential_ids import new_credential_id
from certificates.pdf import render_certificate_pdf
from tests.support.certificates import decode_qr_codes, pdf_page_image, pdf_text

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = [
    "Ada Lovelace",
    "Zoë Ångström-Ñúñez",
    "李小龍",
    "محمد",
    "Dr. Wolfeschlegelsteinhausenbergerdorff " + "Maximilian-Alexander " * 3 + "von Ostfriesland-Nordrhein-Westfalen",
    "<font size=80>Big</font> & <b>Bold</b> &amp; <para>",
]


def content_for(name: str, **overrides) -> CertificateContent:
    credential_id = new_credential_id()
    fields = {
        "credential_id": credential_id,
        "holder_name": name,
        "course_title": "Transformers Architecture",
        "issuer_name": "Transformers Academy",
        "issued_at": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        "verification_url": f"https://academy.example.org/certificates/{credential_id}/",
        "module_results": [{"order": i, "title": f"Topic {i}", "score": 100, "pass_mark": 80} for i in range(1, 8)],
    }
    return CertificateContent(**{**fields, **overrides})


def flat(text: str) -> str:
    return "".join(text.split())


def test_pdf_text_has_name_course_credential_id_and_verification_url(certificate):
    data = Client().get(f"/certificates/{certificate.credential_id}.pdf").content
    text = pdf_text(data)
    assert "Ada Lovelace" in text
    assert certificate.course_title in text
    assert certificate.human_id in text
    assert certificate.verification_url in text  # which holds the canonical credential id
    assert certificate.credential_id in text
    assert "Certificate of Completion" in text and certificate.issuer_name in text
    assert certificate.issued_at.strftime("%-d %B %Y") in text


def test_qr_code_on_the_pdf_decodes_to_the_verification_url(certificate):
    data = Client().get(f"/certificates/{certificate.credential_id}.pdf").content
    assert decode_qr_codes(pdf_page_image(data, dpi=150)) == [certificate.verification_url]


def test_pdf_is_one_landscape_page_with_metadata_and_embedded_fonts(certificate):
    reader = PdfReader(io.BytesIO(Client().get(f"/certificates/{certificate.credential_id}.pdf").content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape
    assert reader.metadata.title == f"{certificate.course_title} — certificate of completion for Ada Lovelace"
    assert reader.metadata.author == certificate.issuer_name
    assert certificate.human_id in reader.metadata.subject
    used_fonts: dict[str, object] = {}

    def record_font(text, cm, tm, font, size):
        if text.strip() and font is not None:
            used_fonts[font["/BaseFont"]] = font

    reader.pages[0].extract_text(visitor_text=record_font)
    assert {name.split("+")[-1] for name in used_fonts} == {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif",
                                                             "DejaVuSerif-Bold"}
    for font in used_fonts.values():
        assert "/FontFile2" in font["/FontDescriptor"].get_object(), f"{font['/BaseFont']} is not embedded"


def test_letter_page_size_is_available(settings):
    settings.CERTIFICATE_PAGE_SIZE = "LETTER"
    box = PdfReader(io.BytesIO(render_certificate_pdf(content_for("Ada")))).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (792, 612)


def test_pdf_is_generated_once_and_served_from_storage(certificate):
    client = Client()
    stored = default_storage.open(certificate.pdf.name).read()
    first = client.get(f"/certificates/{certificate.credential_id}.pdf")
    second = client.get(f"/certificates/{certificate.credential_id}.pdf")
    assert first.content == second.content == stored
    assert hashlib.sha256(stored).hexdigest() == certificate.pdf_sha256
    assert first["Content-Type"] == "application/pdf"
    assert first["ETag"] == f'"{certificate.pdf_sha256}"'
    assert client.get(f"/certificates/{certificate.credential_id}.pdf",
                      HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    download = client.get(f"/certificates/{certificate.credential_id}.pdf?download")
    assert download["Content-Disposition"].startswith("attachment;")


def test_rendering_is_deterministic_so_a_lost_file_comes_back_with_the_same_hash(certificate):
    default_storage.delete(certificate.pdf.name)
    data = Client().get(f"/certificates/{certificate.credential_id}.pdf").content
    assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
    certificate.refresh_from_db()
    assert default_storage.exists(certificate.pdf.name)


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["ascii", "latin", "cjk", "arabic", "long", "markup"])
def test_every_kind_of_name_renders(name):
    data = render_certificate_pdf(content_for(name))
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    if name != "محمد":  # Arabic is drawn in joined presentation forms, right to left: compared visually below
        assert flat(name) in flat(text)


def test_a_120_character_name_fits_and_prints_in_full():
    name = ("Maria Anna Sophia Theresia Walburga Amalia Christina von Habsburg-Lothringen "
            "de Bourbon-Parma y Borbon-Dos Sicilias Wettin Saxe-Coburg")[:120]
    assert len(name) == 120
    data = render_certificate_pdf(content_for(name))
    assert flat(name) in flat(pdf_text(data))


def test_markup_in_a_name_prints_literally_and_cannot_restyle_the_page():
    name = "<font size=80>Big</font> & <b>Bold</b> &amp; <para>"
    reader = PdfReader(io.BytesIO(render_certificate_pdf(content_for(name))))
    assert name in " ".join(pdf_text(render_certificate_pdf(content_for(name))).split())
    sizes: list[float] = []
    reader.pages[0].extract_text(visitor_text=lambda text, cm, tm, font, size: sizes.append(size * tm[0]))
    assert max(sizes) <= 40  # the largest text on the page is the name at its normal size, not 80


def _ink_columns(image, row_range) -> int:
    """How many pixel columns hold dark ink within the given rows (to see that glyphs, not boxes, were drawn)."""
    width, _ = image.size
    pixels = image.load()
    return sum(any(sum(pixels[x, y]) < 300 for y in row_range) for x in range(width))


def test_cjk_and_arabic_names_are_drawn_with_glyphs_not_missing_boxes():
    # A missing glyph is drawn as a hollow box of the same width for every character; real glyphs of
    # different letters differ. Compare two names of the same length in the same script.
    for first, second in [("李小龍", "王大明"), ("محمد", "سلمى")]:
        images = [pdf_page_image(render_certificate_pdf(content_for(name)), dpi=72) for name in (first, second)]
        rows = range(170, 225)  # the band where the name is printed at 72 dpi
        bands = [image.crop((0, rows.start, image.width, rows.stop)).tobytes() for image in images]
        assert bands[0] != bands[1]
        assert all(_ink_columns(image, rows) > 40 for image in images)
