"""Issue the certificate the moment the quizzes app reports a completed course (same request)."""
from __future__ import annotations

import logging

from django.dispatch import receiver

from accounts.models import User
from lessons.models import Course
from quizzes.signals import course_completed

from .services import HolderNameMissing, issue_certificate

logger = logging.getLogger(__name__)


@receiver(course_completed, dispatch_uid="certificates.issue_on_course_completion")
def issue_on_course_completion(sender: type, *, user: User, course: Course, **kwargs: object) -> None:
    # Sent again on every later pass of a completed course: issue_certificate returns the existing one then.
    try:
        issue_certificate(user=user, course=course)
    except HolderNameMissing:
        logger.info("User %s completed %s but has no name to print; the dashboard asks for it", user.pk,
                    course.slug)
