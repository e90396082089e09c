"""The PDF served is always the one whose SHA-256 the verification page publishes."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from certificates import services
from certificates.models import Certificate


def _pdf_url(certificate) -> str:
    return f"/certificates/{certificate.credential_id}.pdf"


def test_the_served_pdf_matches_the_published_hash(client, certificate):
    response = client.get(_pdf_url(certificate))
    assert hashlib.sha256(response.content).hexdigest() == certificate.pdf_sha256


def test_an_altered_stored_file_is_replaced_by_a_fresh_rendering_with_the_same_hash(client, certificate):
    path = certificate.pdf.path
    with open(path, "r+b") as handle:
        handle.seek(200)
        handle.write(b"tampered")
    response = client.get(_pdf_url(certificate))
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == certificate.pdf_sha256
    certificate.refresh_from_db()
    assert hashlib.sha256(Path(certificate.pdf.path).read_bytes()).hexdigest() == certificate.pdf_sha256


def test_a_missing_file_is_rendered_again_when_the_rendering_reproduces_the_hash(client, certificate):
    certificate.pdf.storage.delete(certificate.pdf.name)
    response = client.get(_pdf_url(certificate))
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == certificate.pdf_sha256


def test_a_rendering_that_differs_is_never_served_nor_published(client, certificate, monkeypatch):
    published = certificate.pdf_sha256
    certificate.pdf.storage.delete(certificate.pdf.name)
    monkeypatch.setattr(services, "render_certificate_pdf", lambda content: b"%PDF-1.4 other fonts")
    response = client.get(_pdf_url(certificate))
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()
    assert Certificate.objects.get(pk=certificate.pk).pdf_sha256 == published
    with pytest.raises(services.PdfIntegrityError):
        services.stored_pdf(Certificate.objects.get(pk=certificate.pk))
