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
