"""Correcting the name: the holder re-issues from the dashboard; same credential id, new PDF, history kept."""
from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from certificates.models import Certificate, CertificateEvent
from tests.support.certificates import pdf_text
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def change_url(certificate: Certificate) -> str:
    return f"/certificates/{certificate.credential_id}/name/"


def test_dashboard_offers_the_name_correction_form(signed_in_client, certificate):
    html = signed_in_client.get("/dashboard/").content.decode()
    assert f'action="{change_url(certificate)}"' in html
    assert '<label for="id_holder_name_' in html
    assert 'value="Ada Lovelace"' in html


def test_correcting_the_name_reissues_under_the_same_id_with_a_new_pdf(signed_in_client, user, certificate):
    old_pdf_name, old_sha = certificate.pdf.name, certificate.pdf_sha256

    response = signed_in_client.post(change_url(certificate), {"holder_name": "Augusta Ada King"})

    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    updated = Certificate.objects.get()
    assert updated.credential_id == certificate.credential_id
    assert updated.holder_name == "Augusta Ada King"
    assert (updated.revision, updated.reissued_at is not None) == (2, True)
    assert updated.pdf_sha256 != old_sha
    new_pdf = Client().get(f"/certificates/{updated.credential_id}.pdf").content
    assert hashlib.sha256(new_pdf).hexdigest() == updated.pdf_sha256
    assert "Augusta Ada King" in pdf_text(new_pdf)
    assert "Re-issued" in pdf_text(new_pdf)
    assert default_storage.exists(old_pdf_name), "the earlier PDF is kept for the record"
    user.refresh_from_db()
    assert user.full_name == "Augusta Ada King"


def test_the_page_says_when_it_was_reissued_and_history_is_kept(signed_in_client, certificate):
    signed_in_client.post(change_url(certificate), {"holder_name": "Augusta Ada King"})
    updated = Certificate.objects.get()

    html = Client().get(updated.get_absolute_url()).content.decode()
    assert f"re-issued on <time datetime=\"{updated.reissued_at.isoformat()}\">" in html
    assert "Augusta Ada King" in html and "Ada Lovelace" not in html  # the public page shows the current name only

    events = list(CertificateEvent.objects.order_by("occurred_at", "id"))
    assert [(e.kind, e.revision, e.holder_name) for e in events] == [
        ("issued", 1, "Ada Lovelace"), ("reissued", 2, "Augusta Ada King")]
    assert events[0].pdf_sha256 == certificate.pdf_sha256
    assert events[1].pdf_sha256 == updated.pdf_sha256
    assert "was: Ada Lovelace" in events[1].reason


def test_the_same_name_changes_nothing(signed_in_client, certificate):
    response = signed_in_client.post(change_url(certificate), {"holder_name": " Ada   Lovelace "}, follow=True)
    assert "nothing changed" in response.content.decode()
    assert Certificate.objects.get().revision == 1


def test_names_are_cleaned_and_length_limited(signed_in_client, certificate):
    assert signed_in_client.post(change_url(certificate), {"holder_name": "Ada\u0007\u200b Byron"}).status_code == 302
    assert Certificate.objects.get().holder_name == "Ada Byron"

    null = signed_in_client.post(change_url(certificate), {"holder_name": "Ada\u0000"})
    assert null.status_code == 400
    too_long = signed_in_client.post(change_url(certificate), {"holder_name": "A" * 121})
    assert too_long.status_code == 400
    assert "at most 120 characters" in too_long.content.decode()
    blank = signed_in_client.post(change_url(certificate), {"holder_name": "\t\u0007 "})
    assert blank.status_code == 400
    assert "Please enter the name to print on your certificate." in blank.content.decode()
    assert Certificate.objects.get().holder_name == "Ada Byron"


def test_only_staff_can_approve_a_waiting_name_change(certificate):
    from certificates import services

    Certificate.objects.filter(pk=certificate.pk).update(requested_holder_name="Mallory")
    certificate.refresh_from_db()
    with pytest.raises(PermissionError):
        services.approve_requested_name(certificate=certificate, staff=UserFactory(username="mallory"))
    certificate.refresh_from_db()
    assert certificate.holder_name == "Ada Lovelace" and certificate.requested_holder_name == "Mallory"


def test_only_the_holder_can_correct_the_name(client, certificate):
    assert client.post(change_url(certificate), {"holder_name": "X"}).status_code == 302  # to sign in
    client.force_login(UserFactory(username="mallory"))
    assert client.post(change_url(certificate), {"holder_name": "Mallory"}).status_code == 404
    assert client.get(change_url(certificate)).status_code == 405
    assert Certificate.objects.get().holder_name == "Ada Lovelace"


def test_a_revoked_certificate_cannot_be_reissued_by_its_holder(signed_in_client, certificate):
    from certificates.services import revoke_certificate

    revoke_certificate(certificate=certificate, reason="Plagiarised quiz answers", actor=None)
    response = signed_in_client.post(change_url(certificate), {"holder_name": "Someone Else"})
    assert response.status_code == 409
    assert Certificate.objects.get().holder_name == "Ada Lovelace"


def _rename(client: Client, certificate: Certificate, name: str):
    return client.post(change_url(certificate), {"holder_name": name})


def test_a_rename_supersedes_the_previous_version_in_the_status_list(signed_in_client, certificate):
    client = Client()
    old_jti = client.get(f"/certificates/{certificate.credential_id}.json").json()["id"]
    _rename(signed_in_client, certificate, "Augusta Ada King")
    new = client.get(f"/certificates/{certificate.credential_id}.json").json()
    assert new["id"] != old_jti and new["credentialStatus"]["status"] == "valid"
    entries = {e["id"]: e for e in client.get("/certificates/revocations.json").json()["revokedCredentials"]}
    assert old_jti in entries and "Superseded" in entries[old_jti]["revocationReason"]
    assert new["id"] not in entries


def test_an_older_pdf_is_recognised_as_superseded_not_as_no_match(signed_in_client, certificate):
    original_sha = certificate.pdf_sha256
    _rename(signed_in_client, certificate, "Augusta Ada King")
    page = Client().get(f"/certificates/{certificate.credential_id}/").content.decode()
    assert "Earlier versions" in page
    assert f'data-sha256="{original_sha}"' in page and "data-superseded=" in page
    assert "Ada Lovelace" not in page  # a corrected name is not shown publicly again


def test_version_timestamps_are_distinct_and_ordered_even_for_quick_renames(signed_in_client, certificate):
    stamps = [Client().get(f"/certificates/{certificate.credential_id}.json").json()["validFrom"]]
    for name in ("Augusta Ada King", "Ada King"):
        _rename(signed_in_client, certificate, name)
        stamps.append(Client().get(f"/certificates/{certificate.credential_id}.json").json()["validFrom"])
    assert stamps == sorted(stamps) and len(set(stamps)) == 3


def test_after_two_self_service_renames_staff_approve_the_next(signed_in_client, certificate, admin_client):
    _rename(signed_in_client, certificate, "Augusta Ada King")
    _rename(signed_in_client, certificate, "Ada King")
    response = _rename(signed_in_client, certificate, "Ada, Countess of Lovelace")
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.holder_name == "Ada King" and certificate.revision == 3
    assert certificate.requested_holder_name == "Ada, Countess of Lovelace"

    from tests.support.certificates import admin_change

    assert admin_change(admin_client, certificate, status_change="approve_name", status_reason="").status_code == 302
    certificate.refresh_from_db()
    assert certificate.holder_name == "Ada, Countess of Lovelace" and certificate.revision == 4
    assert certificate.requested_holder_name == ""


def test_a_superseded_pdf_file_is_not_kept_for_ever(signed_in_client, certificate, django_capture_on_commit_callbacks):
    old_name = certificate.pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        _rename(signed_in_client, certificate, "Augusta Ada King")
    assert not default_storage.exists(old_name)
