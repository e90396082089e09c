"""The share image (og:image) is rendered when the certificate changes and stored, like the PDF; requests read it."""
from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from certificates import services
from certificates.content import CertificateContent
from certificates.models import Certificate
from certificates.share_image import render_share_image
from tests.support.certificates import red_share

pytestmark = pytest.mark.django_db


def png_url(certificate: Certificate) -> str:
    return f"/certificates/{certificate.credential_id}.png"


def stored_bytes(certificate: Certificate) -> bytes:
    with default_storage.open(certificate.share_image.name, "rb") as handle:
        return handle.read()


def refuse_rendering(monkeypatch) -> None:
    """From here on, any share image rendering fails the request: what is served must come from storage."""

    def refuse(content):
        raise AssertionError("the share image was rendered again")

    monkeypatch.setattr(services, "render_share_image", refuse)


@pytest.fixture
def no_rendering(monkeypatch):
    refuse_rendering(monkeypatch)


def test_the_share_image_is_rendered_and_stored_when_the_certificate_is_issued(certificate):
    assert certificate.share_image.name == f"certificates/{certificate.credential_id}/share-r1.png"
    data = stored_bytes(certificate)
    assert data == render_share_image(CertificateContent.of(certificate))
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("PNG", (1200, 627))


def test_the_png_url_serves_the_stored_file_with_its_etag_and_cache_headers_without_rendering(certificate,
                                                                                               no_rendering):
    response = Client().get(png_url(certificate))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == stored_bytes(certificate)
    assert response["ETag"] and response["Access-Control-Allow-Origin"] == "*"
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert Client().get(png_url(certificate), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_revoking_stores_the_image_with_the_revoked_band_and_restoring_stores_the_valid_one_again(
    certificate, django_capture_on_commit_callbacks, monkeypatch
):
    valid_name, valid_image = certificate.share_image.name, stored_bytes(certificate)

    with django_capture_on_commit_callbacks(execute=True):
        revoked = services.revoke_certificate(certificate=certificate, reason="Answers shared", actor=None)

    assert revoked.share_image.name == f"certificates/{certificate.credential_id}/share-r1-revoked.png"
    assert Certificate.objects.get().share_image.name == revoked.share_image.name
    assert red_share(stored_bytes(revoked)) > 0.08
    assert not default_storage.exists(valid_name), "the replaced image is deleted"
    refuse_rendering(monkeypatch)
    served_revoked = Client().get(png_url(certificate))
    assert served_revoked.content == stored_bytes(revoked)
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        restored = services.restore_certificate(certificate=revoked, reason="Cleared", actor=None)

    assert restored.share_image.name == valid_name
    assert stored_bytes(restored) == valid_image, "rendering is deterministic: the same state, the same picture"
    assert not default_storage.exists(revoked.share_image.name)
    served_valid = Client().get(png_url(certificate), HTTP_IF_NONE_MATCH=served_revoked["ETag"])
    assert served_valid.status_code == 200, "the ETag follows the state"
    assert served_valid.content == valid_image


def test_a_name_correction_stores_an_image_with_the_new_name(signed_in_client, certificate,
                                                             django_capture_on_commit_callbacks):
    old_name, old_image = certificate.share_image.name, stored_bytes(certificate)

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client.post(f"/certificates/{certificate.credential_id}/name/",
                                         {"holder_name": "Augusta Ada King"})

    assert response.status_code == 302
    updated = Certificate.objects.get()
    assert updated.share_image.name == f"certificates/{certificate.credential_id}/share-r2.png"
    new_image = stored_bytes(updated)
    assert new_image != old_image
    assert new_image == render_share_image(CertificateContent.of(updated))  # drawn with "Augusta Ada King"
    assert not default_storage.exists(old_name)
    assert Client().get(png_url(updated)).content == new_image


@pytest.mark.parametrize("missing", ["never stored", "file lost"])
def test_a_certificate_without_a_stored_image_gets_one_on_its_first_request(certificate, monkeypatch, missing):
    # "never stored": issued before share images were stored (the migration leaves the field empty).
    default_storage.delete(certificate.share_image.name)
    if missing == "never stored":
        Certificate.objects.filter(pk=certificate.pk).update(share_image="")

    first = Client().get(png_url(certificate))

    assert first.status_code == 200
    stored = Certificate.objects.get()
    assert stored.share_image.name == f"certificates/{certificate.credential_id}/share-r1.png"
    assert stored_bytes(stored) == first.content == render_share_image(CertificateContent.of(stored))
    refuse_rendering(monkeypatch)  # the second request reads the stored file
    assert Client().get(png_url(certificate)).content == first.content
