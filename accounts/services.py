"""Writes for accounts: email verification and the notices sent when sign-in details change."""
from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
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
