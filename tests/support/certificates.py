"""Reading what the certificate views return (meta tags, PDF text, the QR code of a PDF, the red of a revoked share
image) and changing a certificate the way staff do, through the admin form."""
from __future__ import annotations

import io
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from django.test import Client
from PIL import Image
from pypdf import PdfReader

from certificates.models import Certificate


class _MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.scripts: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "meta" and "content" in attrs:
            key = attrs.get("property") or attrs.get("name")
            if key:
                self.meta[key] = attrs["content"]
        if tag == "script":
            self.scripts.append(attrs)


def meta_tags(html: str) -> dict[str, str]:
    parser = _MetaParser()
    parser.feed(html)
    return parser.meta


def script_tags(html: str) -> list[dict]:
    parser = _MetaParser()
    parser.feed(html)
    return parser.scripts


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_page_image(data: bytes, dpi: int = 150) -> Image.Image:
    """The first page rendered by poppler's pdftoppm, as a viewer would show it."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "certificate.pdf"
        source.write_bytes(data)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(source), str(Path(folder) / "page")],
                       check=True, capture_output=True, timeout=60)
        with Image.open(Path(folder) / "page.png") as image:
            return image.convert("RGB")


def decode_qr_codes(image: Image.Image) -> list[str]:
    from pyzbar.pyzbar import ZBarSymbol, decode

    return [symbol.data.decode() for symbol in decode(image, symbols=[ZBarSymbol.QRCODE])]


def red_share(image_bytes: bytes) -> float:
    """Share of clearly red pixels in the image: the REVOKED band is red, the normal image has none."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGB").resize((120, 63))
    pixels = list(image.get_flattened_data())
    return sum(r > 140 and g < 80 and b < 80 for r, g, b in pixels) / len(pixels)


class _FormFields(HTMLParser):
    """The values a browser would submit from the admin change form (hidden inline management fields too)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") not in {"submit", "checkbox", "file"}:
            self.data[attrs["name"]] = attrs.get("value") or ""


def admin_change(admin_client: Client, certificate: Certificate, **data):
    """Submit the certificate's admin change form as staff would, with ``data`` changed (``status_change``...)."""
    url = f"/admin/certificates/certificate/{certificate.pk}/change/"
    parser = _FormFields()
    parser.feed(admin_client.get(url).content.decode())
    return admin_client.post(url, {**parser.data, **data})
