"""Issue the certificates a learner was waiting for once they confirm their email address.

Completing a course issues its certificate explicitly: ``quizzes.views.quiz`` calls
``certificates.services.issue_for_completed_course`` after the submission.
"""
from __future__ import annotations

from django.dispatch import receiver

from accounts.models import User
from accounts.signals import email_verified

from .selectors import completed_courses_without_certificate
from .services import issue_when_ready


@receiver(email_verified, dispatch_uid="certificates.issue_on_email_verified")
def issue_on_email_verified(sender: type, *, user: User, **kwargs: object) -> None:
    for course in completed_courses_without_certificate(user=user):
        issue_when_ready(user=user, course=course)
