"""Revocation by an admin, with a reason, shows in every view; restoring brings every view back."""
from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from certificates.models import Certificate, CertificateEvent
from tests.support.certificates import admin_change, red_share
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def test_admin_revokes_with_a_reason_and_every_view_shows_it(admin_client, certificate):
    response = admin_change(admin_client, certificate, status_change="revoke",
                            status_reason="Quiz answers were shared publicly")
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.is_revoked

    client, cid = Client(), certificate.credential_id
    page = client.get(f"/certificates/{cid}/").content.decode()
    assert "Status: revoked" in page
    assert f"revoked on {certificate.revoked_at:%-d %B %Y}" in page
    assert "Quiz answers were shared publicly" in page
    assert "Download PDF" not in page and "Add to LinkedIn profile" not in page

    status = client.get(f"/certificates/{cid}.json").json()["credentialStatus"]
    assert status["status"] == "revoked"
    assert status["revocationReason"] == "Quiz answers were shared publicly"
    assert status["revokedAt"] == certificate.revoked_at.isoformat(timespec="seconds")
    revoked_list = client.get("/certificates/revocations.json").json()["revokedCredentials"]
    assert [entry["id"] for entry in revoked_list] == [client.get(f"/certificates/{cid}.json").json()["id"]]

    pdf = client.get(f"/certificates/{cid}.pdf")
    assert pdf.status_code == 410
    assert "This certificate was revoked" in pdf.content.decode()

    assert red_share(client.get(f"/certificates/{cid}.png").content) > 0.08

    event = CertificateEvent.objects.filter(kind="revoked").get()
    assert event.reason == "Quiz answers were shared publicly" and event.actor.username == "admin"


def test_admin_restores_with_a_reason_and_every_view_is_valid_again(admin_client, certificate):
    admin_change(admin_client, certificate, status_change="revoke", status_reason="Suspected cheating")
    response = admin_change(admin_client, certificate, status_change="restore",
                            status_reason="Investigation cleared the learner")
    assert response.status_code == 302

    client, cid = Client(), certificate.credential_id
    assert "Status: valid" in client.get(f"/certificates/{cid}/").content.decode()
    assert client.get(f"/certificates/{cid}.json").json()["credentialStatus"]["status"] == "valid"
    assert client.get("/certificates/revocations.json").json()["revokedCredentials"] == []
    assert client.get(f"/certificates/{cid}.pdf").status_code == 200
    assert red_share(client.get(f"/certificates/{cid}.png").content) < 0.01
    assert [e.kind for e in CertificateEvent.objects.order_by("occurred_at", "id")] == [
        "issued", "revoked", "restored"]


def test_revoking_needs_a_reason(admin_client, certificate):
    response = admin_change(admin_client, certificate, status_change="revoke", status_reason="  ")
    assert response.status_code == 200
    assert "Give a reason for the change." in response.content.decode()
    certificate.refresh_from_db()
    assert not certificate.is_revoked


def test_admin_shows_the_history_and_cannot_add_certificates_by_hand(admin_client, certificate):
    html = admin_client.get(f"/admin/certificates/certificate/{certificate.pk}/change/").content.decode()
    assert certificate.pdf_sha256 in html
    assert "Issued" in html
    assert admin_client.get("/admin/certificates/certificate/add/").status_code == 403
    assert admin_client.get("/admin/certificates/certificate/").status_code == 200


def test_share_image_is_a_1200_by_627_png(certificate):
    response = Client().get(f"/certificates/{certificate.credential_id}.png")
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1200, 627))
    assert Client().get(f"/certificates/{certificate.credential_id}.png",
                        HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_admin_offers_no_delete_for_a_certificate_revoke_is_the_path(admin_client, certificate):
    change_url = reverse("admin:certificates_certificate_change", args=[certificate.pk])
    html = admin_client.get(change_url).content.decode()
    assert "deletelink" not in html
    assert admin_client.post(change_url + "delete/", {"post": "yes"}).status_code == 403
    assert Certificate.objects.filter(pk=certificate.pk).exists()


def test_admin_shows_module_results_as_a_table_and_a_short_history_hash(admin_client, certificate):
    html = admin_client.get(reverse("admin:certificates_certificate_change", args=[certificate.pk])).content.decode()
    assert "<th>Best score</th>" in html
    assert '"score":' not in html and "&quot;score&quot;" not in html
    assert f'title="{certificate.pdf_sha256}">{certificate.pdf_sha256[:12]}…' in html


def test_certificate_list_shows_the_status_right_after_the_id(admin_client, certificate):
    html = admin_client.get(reverse("admin:certificates_certificate_changelist")).content.decode()
    assert html.index("column-human_id") < html.index("column-status") < html.index("column-holder_name")
