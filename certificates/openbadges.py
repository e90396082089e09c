"""The certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (a W3C Verifiable Credential, data model 2.0).

Served as JSON and, signed, as a compact JWS (``.jwt``). Built on each request from the stored record, so its
``credentialStatus`` always says whether the certificate is revoked; the status list it points to
(``/certificates/revocations.json``) lets a verifier holding an older signed copy find out too.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.urls import reverse

from .models import Certificate

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
REVOCATION_LIST_TYPE = "1EdTechRevocationList"
# Names each certificate's subject with a stable urn:uuid (the JWT's ``sub``) without exposing the holder's email.
SUBJECT_NAMESPACE = uuid.UUID("3f4e1c8a-7b2d-5e90-a1c6-9d8f7e6b5a41")


def subject_id(certificate: Certificate) -> str:
    return f"urn:uuid:{uuid.uuid5(SUBJECT_NAMESPACE, certificate.credential_id)}"


def credential_version_id(credential_id: str, revision: int) -> str:
    """Each version of a certificate (each name correction) is its own credential: a superseded version's id
    can then be listed in the status list while the current one stays valid."""
    return f"urn:uuid:{uuid.uuid5(SUBJECT_NAMESPACE, f'{credential_id}/revision/{revision}')}"


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def issuer_profile(name: str) -> dict:
    """The issuer is the site: its home page is the profile id, and it publishes its keys under /.well-known/."""
    return {"id": f"{settings.SITE_URL}/", "type": ["Profile"], "name": name, "url": f"{settings.SITE_URL}/"}


def _criteria_narrative(results: list[dict]) -> str:
    marks = sorted({r["pass_mark"] for r in results if r.get("pass_mark") is not None})
    threshold = f"at least {marks[0]}%" if len(marks) == 1 else "the pass mark listed for each module"
    return (
        f"Read each of the {len(results)} modules of the course and pass its quiz with {threshold}. "
        "The certificate is issued when the last module is passed; the best score of each module is recorded."
    )


def build_credential(certificate: Certificate) -> dict:
    course_url = settings.SITE_URL + reverse("course_detail", kwargs={"course_slug": certificate.course.slug})
    achievement_id = f"{course_url}#certificate"
    issuer = issuer_profile(certificate.issuer_name)
    results = certificate.module_results
    result_descriptions, subject_results = [], []
    for result in results:
        description_id = f"{achievement_id}-module-{result['order']}"
        description = {
            "id": description_id,
            "type": ["ResultDescription"],
            "name": f"Module {result['order']}: {result['title']} (quiz)",
            "resultType": "Percent",
            "valueMin": "0",
            "valueMax": "100",
        }
        if result.get("pass_mark") is not None:
            description["requiredValue"] = str(result["pass_mark"])
        result_descriptions.append(description)
        subject_result = {"type": ["Result"], "resultDescription": description_id, "status": "Completed"}
        if result.get("score") is not None:
            subject_result["value"] = str(result["score"])
        subject_results.append(subject_result)

    status: dict = {
        "id": settings.SITE_URL + reverse("certificates:revocations"),
        "type": REVOCATION_LIST_TYPE,
        "status": "revoked" if certificate.is_revoked else "valid",
    }
    if certificate.is_revoked:
        status["revokedAt"] = _timestamp(certificate.revoked_at)
        status["revocationReason"] = certificate.revocation_reason

    credential = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_version_id(certificate.credential_id, certificate.revision),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{certificate.course_title}: certificate of completion",
        "description": (
            f"{certificate.holder_name} completed all {len(results)} modules of {certificate.course_title}, "
            f"a course by {certificate.issuer_name}. Verify at {certificate.verification_url}"
        ),
        "issuer": issuer,
        # validFrom moves with a re-issue (the latest version wins); awardedDate keeps the original award.
        "validFrom": _timestamp(certificate.reissued_at or certificate.issued_at),
        "awardedDate": _timestamp(certificate.issued_at),
        "credentialSubject": {
            "id": subject_id(certificate),
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": certificate.holder_name,
            }],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "CertificateOfCompletion",
                "name": certificate.course_title,
                "description": f"Completion of all {len(results)} modules of the course {certificate.course_title}.",
                "criteria": {"id": course_url, "narrative": _criteria_narrative(results)},
                "creator": issuer,
                "resultDescription": result_descriptions,
            },
            "result": subject_results,
        },
        "credentialStatus": status,
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    return credential


def revocation_list(certificates: Iterable[Certificate], superseded: Iterable[dict] = ()) -> dict:
    """The issuer's status list, which every credential's ``credentialStatus`` points to: the current versions
    of revoked certificates, and every version a name correction superseded (``superseded``: dicts with
    ``credential_id``, ``revision`` and ``superseded_at``)."""
    entries = [
        {
            "id": credential_version_id(certificate.credential_id, certificate.revision),
            "revokedAt": _timestamp(certificate.revoked_at),
            "revocationReason": certificate.revocation_reason,
        }
        for certificate in certificates
    ]
    entries += [
        {
            "id": credential_version_id(version["credential_id"], version["revision"]),
            "revokedAt": _timestamp(version["superseded_at"]),
            "revocationReason": f"Superseded by revision {version['revision'] + 1} (name corrected)",
        }
        for version in superseded
    ]
    return {
        "id": settings.SITE_URL + reverse("certificates:revocations"),
        "type": REVOCATION_LIST_TYPE,
        "issuer": f"{settings.SITE_URL}/",
        "revokedCredentials": entries,
    }
