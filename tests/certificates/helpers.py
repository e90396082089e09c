"""Reading what the certificate views return: meta tags, PDF text, the QR code of a PDF."""
from __future__ import annotations

import io
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image
from pypdf import PdfReader


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
