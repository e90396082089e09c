"""Reads for the certificate pages, the dashboard partial and the machine-readable endpoints."""
from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from lessons.models import Course

from .models import Certificate


def certificate_by_credential_id(credential_id: str) -> Certificate | None:
    return Certificate.objects.select_related("course").filter(credential_id=credential_id).first()


def certificate_for(*, user: User, course: Course) -> Certificate | None:
    if not user.is_authenticated:
        return None
    return Certificate.objects.filter(user=user, course=course).first()


def revoked_certificates() -> QuerySet[Certificate]:
    return Certificate.objects.filter(revoked_at__isnull=False).order_by("revoked_at", "pk")


def completed_courses_without_certificate(*, user: User) -> list[Course]:
    """Courses whose every published module ``user`` has completed but that have no certificate of theirs yet."""
    from .progress import progress_for

    candidates = Course.objects.exclude(certificates__user=user)
    return [course for course in candidates if progress_for(user=user, course=course).is_complete]


def superseded_versions(certificate: Certificate | None = None) -> list[dict]:
    """Versions replaced by a name correction: each re-issue to revision r supersedes revision r - 1 at that
    moment. With ``certificate``, also the superseded PDF's SHA-256, for the verification page."""
    from .models import CertificateEvent

    events = CertificateEvent.objects.filter(kind__in=[CertificateEvent.Kind.ISSUED, CertificateEvent.Kind.REISSUED])
    if certificate is not None:
        events = events.filter(certificate=certificate)
    events = events.select_related("certificate").order_by("certificate_id", "revision", "occurred_at")
    by_revision: dict[tuple[int, int], object] = {(e.certificate_id, e.revision): e for e in events}
    versions = []
    for (certificate_id, revision), event in sorted(by_revision.items()):
        if event.kind != CertificateEvent.Kind.REISSUED:
            continue
        previous = by_revision.get((certificate_id, revision - 1))
        versions.append({
            "credential_id": event.certificate.credential_id,
            "revision": revision - 1,
            "superseded_at": event.occurred_at,
            "pdf_sha256": previous.pdf_sha256 if previous is not None else "",
        })
    return versions
