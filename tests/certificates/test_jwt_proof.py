"""The signed credential in Open Badges 3.0's JWT proof format, checked with PyJWT, an independent JOSE library
(the site signs with joserfc)."""
from __future__ import annotations

import json
from datetime import datetime

import jwt
import pytest
from django.test import Client
from joserfc.jwk import OKPKey

SITE = "https://academy.example.org"
pytestmark = pytest.mark.django_db


def _resolve_kid(client: Client, kid: str) -> jwt.PyJWK:
    assert kid.startswith(f"{SITE}/.well-known/jwks/")
    response = client.get(kid.removeprefix(SITE))
    assert response.status_code == 200 and response["Content-Type"] == "application/jwk+json"
    return jwt.PyJWK(response.json())


def _verify_independently(client: Client, token: str) -> tuple[dict, dict]:
    header = jwt.get_unverified_header(token)
    key = _resolve_kid(client, header["kid"])
    claims = jwt.decode(
        token, key=key, algorithms=["EdDSA"], issuer=f"{SITE}/",
        options={"require": ["iss", "jti", "nbf", "sub"], "verify_aud": False},
    )
    return header, claims


def test_the_jwt_header_has_only_the_fields_ob3_allows_and_a_resolvable_kid(certificate):
    client = Client()
    token = client.get(f"/certificates/{certificate.credential_id}.jwt").content.decode()
    header, _ = _verify_independently(client, token)
    assert set(header) == {"alg", "kid", "typ"} and header["typ"] == "JWT" and header["alg"] == "EdDSA"


def test_the_registered_claims_match_the_credential(certificate):
    client = Client()
    token = client.get(f"/certificates/{certificate.credential_id}.jwt").content.decode()
    _, claims = _verify_independently(client, token)
    credential = client.get(f"/certificates/{certificate.credential_id}.json").json()
    assert claims["vc"] == credential
    assert claims["iss"] == credential["issuer"]["id"]
    assert claims["jti"] == credential["id"]
    assert claims["sub"] == credential["credentialSubject"]["id"]
    assert claims["sub"].startswith("urn:uuid:")
    assert claims["nbf"] == int(datetime.fromisoformat(credential["validFrom"]).timestamp())


def test_a_rotated_key_stays_published_so_old_and_new_credentials_both_verify(certificate, settings):
    client = Client()
    old_token = client.get(f"/certificates/{certificate.credential_id}.jwt").content.decode()
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    settings.CERTIFICATE_SIGNING_KEY = json.dumps(OKPKey.generate_key("Ed25519", private=True).as_dict(private=True))
    new_token = client.get(f"/certificates/{certificate.credential_id}.jwt").content.decode()
    new_kid = jwt.get_unverified_header(new_token)["kid"]
    assert new_kid != old_kid

    published = [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]]
    assert published[0] == new_kid and old_kid in published
    for token in (old_token, new_token):
        _verify_independently(client, token)
    assert all("d" not in key for key in client.get("/.well-known/jwks.json").json()["keys"])


def test_a_token_signed_by_an_unpublished_key_is_rejected(certificate):
    client = Client()
    token = client.get(f"/certificates/{certificate.credential_id}.jwt").content.decode()
    _, claims = _verify_independently(client, token)
    impostor = OKPKey.generate_key("Ed25519", private=True)
    forged = jwt.encode(claims, jwt.PyJWK(impostor.as_dict(private=True)).key, algorithm="EdDSA",
                        headers={"kid": jwt.get_unverified_header(token)["kid"]})
    with pytest.raises(jwt.InvalidSignatureError):
        _verify_independently(client, forged)


def test_an_unknown_key_url_is_404(client, db):
    assert client.get("/.well-known/jwks/not-a-key.json").status_code == 404
