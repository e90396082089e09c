"""The Open Badges 3.0 credential: valid against the schema, signed, and verifiable offline with the JWKS."""
from __future__ import annotations

import base64
import json
import warnings
from pathlib import Path

import jsonschema
import pytest
from django.test import Client
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, OKPKey

from certificates import signing

pytestmark = pytest.mark.django_db
SCHEMA = json.loads((Path(__file__).parent / "ob_v3p0_achievementcredential_schema.json").read_text())
SITE = "https://academy.example.org"


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft201909Validator(SCHEMA, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def credential_of(client: Client, certificate) -> dict:
    response = client.get(f"/certificates/{certificate.credential_id}.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    return response.json()


def verify(token: str, jwks: dict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc prefers the new "Ed25519" name for the same algorithm
        return jws.deserialize_compact(token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])


def test_credential_is_an_open_badge_credential_that_validates_against_the_ob3_schema(certificate):
    credential = credential_of(Client(), certificate)

    assert schema_errors(credential) == []
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {"id": f"{SITE}/", "type": ["Profile"], "name": certificate.issuer_name,
                                    "url": f"{SITE}/"}
    assert credential["validFrom"] == certificate.issued_at.isoformat(timespec="seconds")
    subject = credential["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == "Ada Lovelace"
    achievement = subject["achievement"]
    assert achievement["name"] == certificate.course_title
    assert "pass its quiz with at least 80%" in achievement["criteria"]["narrative"]
    assert len(achievement["resultDescription"]) == 7
    assert [r["value"] for r in subject["result"]] == ["100"] * 7
    assert {r["resultDescription"] for r in subject["result"]} == {d["id"] for d in achievement["resultDescription"]}
    assert credential["credentialStatus"]["type"] == "1EdTechRevocationList"
    assert credential["credentialStatus"]["status"] == "valid"
    assert credential["credentialStatus"]["id"] == f"{SITE}/certificates/revocations.json"


def test_schema_rejects_what_the_spec_forbids(certificate):
    """The shipped schema is not a rubber stamp: each broken variant of a valid credential fails it."""
    valid = credential_of(Client(), certificate)
    broken = {
        "missing validFrom": {k: v for k, v in valid.items() if k != "validFrom"},
        "VC 1.1 context": {**valid, "@context": ["https://www.w3.org/2018/credentials/v1", valid["@context"][1]]},
        "no OpenBadgeCredential type": {**valid, "type": ["VerifiableCredential"]},
        "issuer without id": {**valid, "issuer": {"type": ["Profile"], "name": "X"}},
        "subject without id or identifier": {
            **valid, "credentialSubject": {k: v for k, v in valid["credentialSubject"].items()
                                          if k not in ("identifier", "id")}},
        "unknown subject property": {**valid, "credentialSubject": {**valid["credentialSubject"], "name": "Ada"}},
        "date without time zone": {**valid, "validFrom": "2026-11-25T12:00:00"},
    }
    for label, document in broken.items():
        assert schema_errors(document), f"schema accepted a credential with {label}"


def test_signed_credential_verifies_with_the_published_key_and_matches_the_json(certificate):
    client = Client()
    token = client.get(f"/certificates/{certificate.credential_id}.jwt")
    jwks = client.get("/.well-known/jwks.json")
    assert token["Content-Type"] == "application/jwt"
    assert jwks["Content-Type"] == "application/jwk-set+json"

    result = verify(token.content.decode(), jwks.json())

    assert result.headers()["alg"] == "EdDSA"
    assert result.headers()["typ"] == "JWT"
    assert result.headers()["kid"] == jwks.json()["keys"][0]["kid"]
    assert json.loads(result.payload)["vc"] == credential_of(client, certificate)
    assert "d" not in jwks.json()["keys"][0], "the JWKS must never publish the private key"


def test_a_tampered_payload_fails_verification(certificate):
    client = Client()
    header, payload, signature = client.get(f"/certificates/{certificate.credential_id}.jwt").content.decode().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["vc"]["credentialSubject"]["identifier"][0]["identityHash"] = "Mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(BadSignatureError):
        verify(f"{header}.{forged}.{signature}", client.get("/.well-known/jwks.json").json())


def test_a_signature_by_another_key_fails_verification(certificate):
    client = Client()
    credential = credential_of(client, certificate)
    impostor = OKPKey.generate_key("Ed25519", private=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jws.serialize_compact({"alg": "EdDSA", "kid": signing.key_url(signing.key_id())}, json.dumps(credential), impostor,
                                      algorithms=["EdDSA"])
    with pytest.raises(BadSignatureError):
        verify(token, client.get("/.well-known/jwks.json").json())


def test_the_default_key_is_generated_once_into_the_configured_file(settings, tmp_path):
    settings.CERTIFICATE_SIGNING_KEY_PATH = tmp_path / "var" / "key.json"
    assert not settings.CERTIFICATE_SIGNING_KEY_PATH.exists()
    first = signing.public_jwks()
    assert settings.CERTIFICATE_SIGNING_KEY_PATH.exists()
    assert settings.CERTIFICATE_SIGNING_KEY_PATH.stat().st_mode & 0o077 == 0  # private to its owner
    assert signing.public_jwks() == first


def test_a_key_from_settings_is_used_as_given(settings):
    key = OKPKey.generate_key("Ed25519", private=True)
    settings.CERTIFICATE_SIGNING_KEY = json.dumps(key.as_dict(private=True))
    assert signing.key_id() == key.thumbprint()
    assert signing.public_jwks()["keys"][0]["kid"] == f"{SITE}/.well-known/jwks/{key.thumbprint()}.json"
    assert not settings.CERTIFICATE_SIGNING_KEY_PATH.exists()


def test_machine_readable_views_can_be_fetched_from_any_origin(certificate):
    client = Client()
    for path in (f"/certificates/{certificate.credential_id}.json", f"/certificates/{certificate.credential_id}.jwt",
                 "/.well-known/jwks.json", "/certificates/revocations.json"):
        assert client.get(path)["Access-Control-Allow-Origin"] == "*"
