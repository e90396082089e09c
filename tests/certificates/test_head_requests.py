"""Link checkers and preview crawlers send HEAD: every public GET page of a certificate answers it."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("route", ["verify", "pdf", "credential_json", "credential_jwt", "share_image"])
def test_certificate_pages_answer_head_like_get(client, certificate, route):
    url = certificate.absolute(route).removeprefix("https://academy.example.org")
    get = client.get(url)
    head = client.head(url)
    assert get.status_code == 200
    assert head.status_code == 200
    assert head["Content-Type"] == get["Content-Type"]
    assert head.content == b""


@pytest.mark.parametrize("path", ["/certificates/", "/certificates/revocations.json", "/.well-known/jwks.json"])
def test_certificate_lookup_and_key_documents_answer_head(client, db, path):
    assert client.head(path).status_code == 200


def test_post_to_a_verification_page_is_still_refused(client, certificate):
    assert client.post(certificate.absolute("verify").removeprefix("https://academy.example.org")).status_code == 405
