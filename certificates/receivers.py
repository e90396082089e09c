"""Issue the certificate the moment the quizzes app reports a completed course (same request)."""
from __future__ import annotations

import logging

from django.dispatch import receiver

from accounts.models import User
from accounts.signals import email_verified
from lessons.models import Course
from quizzes.signals import course_completed

from .selectors import completed_courses_without_certificate
from .services import EmailNotVerified, HolderNameMissing, issue_certificate

logger = logging.getLogger(__name__)


@receiver(course_completed, dispatch_uid="certificates.issue_on_course_completion")
def issue_on_course_completion(sender: type, *, user: User, course: Course, **kwargs: object) -> None:
    # Sent again on every later pass of a completed course: issue_certificate returns the existing one then.
    try:
        issue_certificate(user=user, course=course)
    except HolderNameMissing:
        logger.info("User %s completed %s but has no name to print; the dashboard asks for it", user.pk,
                    course.slug)
    except EmailNotVerified:
        logger.info("User %s completed %s; the certificate waits for their email confirmation", user.pk,
                    course.slug)


@receiver(email_verified, dispatch_uid="certificates.issue_on_email_verified")
def issue_on_email_verified(sender: type, *, user: User, **kwargs: object) -> None:
    for course in completed_courses_without_certificate(user=user):
        issue_on_course_completion(sender, user=user, course=course)
