"""Render a sample certificate (PDF, and PNG previews) with made-up data, for docs and for checking the layout.

    python manage.py render_sample_certificate docs/images/certificate-sample.png
    python manage.py render_sample_certificate /tmp/sample.pdf --name "李小龍"
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates.content import CertificateContent
from certificates.pdf import render_certificate_pdf
from certificates.share_image import render_share_image

SAMPLE_ID = "k3m9qx2t7v8hj4npw6rc"


class Command(BaseCommand):
    help = "Render a sample certificate to a .pdf, or to a .png page preview (needs poppler's pdftoppm)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("output", help="Where to write: a .pdf, or a .png (the PDF page rendered).")
        parser.add_argument("--name", default="Ada Lovelace", help="The holder's name to print.")
        parser.add_argument("--dpi", type=int, default=110, help="Resolution of the PNG preview.")
        parser.add_argument("--share-image", action="store_true", help="Write the 1200x627 share image instead.")

    def handle(self, *args, output: str, name: str, dpi: int, share_image: bool, **options) -> None:
        content = CertificateContent(
            credential_id=SAMPLE_ID,
            holder_name=name,
            course_title="Transformers Architecture",
            issuer_name=settings.SITE_NAME,
            issued_at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
            verification_url=f"{settings.SITE_URL}/certificates/{SAMPLE_ID}/",
            module_results=[
                {"order": order, "title": f"Module {order}", "score": score, "pass_mark": 80}
                for order, score in enumerate([100, 80, 100, 100, 80, 100, 100], start=1)
            ],
        )
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        if share_image:
            target.write_bytes(render_share_image(content))
        elif target.suffix.lower() == ".pdf":
            target.write_bytes(render_certificate_pdf(content))
        elif target.suffix.lower() == ".png":
            if shutil.which("pdftoppm") is None:
                raise CommandError("pdftoppm (Debian package poppler-utils) is needed to render a PNG preview.")
            with tempfile.TemporaryDirectory() as folder:
                pdf = Path(folder) / "sample.pdf"
                pdf.write_bytes(render_certificate_pdf(content))
                page = Path(folder) / "page"
                subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(pdf), str(page)],
                               check=True, timeout=60)
                shutil.copyfile(Path(folder) / "page.png", target)
        else:
            raise CommandError("The output must end in .pdf or .png.")
        self.stdout.write(f"Wrote {target}")
