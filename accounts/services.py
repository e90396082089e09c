"""Writes for accounts: email verification and the notices sent when sign-in details change."""
from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import User
from .signals import email_verified

VERIFY_SALT = "accounts.verify-email"
VERIFY_MAX_AGE_S = 3 * 24 * 3600


class InvalidVerificationLink(Exception):
    """The link is forged, expired, or for an address the account no longer has."""


def verification_link(*, user: User) -> str:
    # The address is part of the token: a link stops working when the account's email changes.
    token = signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=VERIFY_SALT, compress=True)
    return settings.SITE_URL + reverse("verify_email", kwargs={"token": token})


def send_verification_email(*, user: User) -> None:
    send_mail(
        subject=f"Confirm your email for {settings.SITE_NAME}",
        message=(
            f"Hello {user.display_name},\n\n"
            f"please confirm that {user.email} is your address by opening this link (valid for 3 days):\n\n"
            f"{verification_link(user=user)}\n\n"
            "Reading and quizzes work without it; your certificate is issued once your address is confirmed.\n"
            "If you did not create this account, ignore this message.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def verify_email(*, token: str) -> User:
    """Mark the account's email verified (idempotent) and announce it. Raises InvalidVerificationLink."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE_S)
        user = User.objects.get(pk=data["u"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError) as exc:
        raise InvalidVerificationLink from exc
    if user.email.lower() != data.get("e"):
        raise InvalidVerificationLink
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    email_verified.send(sender=User, user=user)
    return user


def notify_sign_in_details_changed(*, user: User, what: str) -> None:
    """Tell the owner, so a change they did not make does not go unnoticed."""
    if not user.email:
        return
    send_mail(
        subject=f"Your {settings.SITE_NAME} {what} was changed",
        message=(
            f"Hello {user.display_name},\n\nthe {what} of your account ({user.username}) was just changed.\n"
            "If that was you, there is nothing to do. If not, reset your password at once:\n\n"
            f"{settings.SITE_URL}{reverse('password_reset')}\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def export_account_data(*, user: User) -> dict:
    """Everything stored about ``user``, as JSON-ready data: profile, quiz attempts with answers, progress,
    experiment runs and certificates with their history.

    A failed attempt's answers are listed without right/wrong marks: the site never shows those after a fail (it
    would let a script find the answer key), and an export must not either. Passed attempts show them.
    """
    from certificates.models import Certificate
    from experiments.models import ExperimentRun
    from quizzes.models import Attempt, ModuleProgress

    def when(moment):
        return moment.isoformat() if moment else None

    attempts = []
    for attempt in (Attempt.objects.filter(user=user).select_related("quiz__module")
                    .prefetch_related("answers__question", "answers__choice").order_by("created_at")):
        attempts.append({
            "module": attempt.quiz.module.title, "started_at": when(attempt.created_at),
            "submitted_at": when(attempt.submitted_at), "score": attempt.score, "total": attempt.total,
            "passed": attempt.passed,
            "answers": [
                {"question": a.question.prompt, "answer": a.choice.text,
                 **({"right": a.is_correct} if attempt.passed else {})}
                for a in attempt.answers.all()
            ],
        })
    return {
        "exported_at": when(timezone.now()),
        "site": settings.SITE_URL,
        "profile": {
            "username": user.username, "full_name": user.full_name, "email": user.email,
            "email_verified_at": when(user.email_verified_at), "date_joined": when(user.date_joined),
            "last_login": when(user.last_login),
        },
        "progress": [
            {"module": p.module.title, "read_at": when(p.read_at), "completed_at": when(p.completed_at),
             "attempts": p.attempts, "best_score": p.best_score, "best_total": p.best_total,
             "last_section": p.last_section, "last_seen_at": when(p.last_seen_at)}
            for p in ModuleProgress.objects.filter(user=user).select_related("module").order_by("module__order")
        ],
        "quiz_attempts": attempts,
        "experiment_runs": [
            {"experiment": r.experiment, "params": r.params, "status": r.status, "created_at": when(r.created_at),
             "url": settings.SITE_URL + r.get_absolute_url()}
            for r in ExperimentRun.objects.filter(started_by=user).order_by("created_at")
        ],
        "certificates": [
            {"credential_id": c.human_id, "course": c.course_title, "holder_name": c.holder_name,
             "issued_at": when(c.issued_at), "revoked_at": when(c.revoked_at), "url": c.verification_url,
             "history": [
                 {"event": e.kind, "at": when(e.occurred_at), "holder_name": e.holder_name, "reason": e.reason,
                  "pdf_sha256": e.pdf_sha256}
                 for e in c.events.order_by("occurred_at", "id")
             ]}
            for c in Certificate.objects.filter(user=user).prefetch_related("events")
        ],
    }


def delete_account(*, user: User, revoke_certificates: bool) -> None:
    """Delete ``user``: attempts and progress go with the account, experiment runs stay as anonymous
    measurements. Certificates stay verifiable ("holder's account deleted") unless ``revoke_certificates``."""
    from certificates.models import Certificate
    from certificates.services import revoke_certificate
    from core import page_cache

    with transaction.atomic():
        if revoke_certificates:
            for certificate in Certificate.objects.filter(user=user, revoked_at__isnull=True):
                revoke_certificate(certificate=certificate, reason="Revoked at the holder's request.", actor=None)
        user.delete()
        # The holder link is cleared by an UPDATE (no signals): cached verification pages must notice.
        page_cache.invalidate_now_and_on_commit("certificates")
