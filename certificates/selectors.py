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
