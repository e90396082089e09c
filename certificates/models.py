"""A certificate is the public record that one learner completed one course.

It is a snapshot: the holder's name, the course title, the issuer and the per-module best scores are copied in
when it is issued, so later edits to the course or the profile never change what was certified. Only a name
correction (a re-issue, same credential id) or a revocation changes it, and each of those is recorded as a
``CertificateEvent``.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from lessons.models import Course

from .credential_ids import human_credential_id, new_credential_id

HOLDER_NAME_MAX_LENGTH = 120


def certificate_pdf_path(certificate: Certificate, filename: str) -> str:
    """Where a certificate's files (its PDFs and its share image) are stored: one folder per credential id."""
    return f"certificates/{certificate.credential_id}/{filename}"


class Certificate(models.Model):
    credential_id = models.CharField(max_length=20, unique=True, default=new_credential_id, editable=False)
    # SET_NULL: a holder who deletes their account may keep the certificate verifiable (holder's account deleted).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="certificates"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="certificates")

    holder_name = models.CharField(max_length=HOLDER_NAME_MAX_LENGTH)
    course_title = models.CharField(max_length=200)
    issuer_name = models.CharField(max_length=200)
    module_results = models.JSONField(
        default=list, help_text="Per module, in order: order, title, best score (percent) and pass mark."
    )

    issued_at = models.DateTimeField(help_text="When the course was completed and the certificate first issued.")
    reissued_at = models.DateTimeField(null=True, blank=True, help_text="The latest re-issue (name correction).")
    revision = models.PositiveIntegerField(default=1)

    pdf = models.FileField(upload_to=certificate_pdf_path, max_length=200)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64)
    share_image = models.FileField(
        "share image (PNG)", upload_to=certificate_pdf_path, max_length=200, blank=True,
        help_text="The og:image for the certificate's current state (name, revoked or not), rendered when that "
                  "state is set. Empty for certificates issued before share images were stored: the first "
                  "request renders and stores it.",
    )

    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    requested_holder_name = models.CharField(
        max_length=HOLDER_NAME_MAX_LENGTH, blank=True,
        help_text="A name correction the holder asked for after their self-service ones: staff approve it.",
    )

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="one_certificate_per_user_and_course"),
        ]

    def __str__(self) -> str:
        return f"{self.holder_name} · {self.course_title} ({self.human_id})"

    @property
    def human_id(self) -> str:
        return human_credential_id(self.credential_id)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def get_absolute_url(self) -> str:
        return reverse("certificates:verify", kwargs={"credential_id": self.credential_id})

    @property
    def verification_url(self) -> str:
        """Absolute, from settings.SITE_URL: this URL is printed, signed and shared, so never the Host header."""
        return settings.SITE_URL + self.get_absolute_url()

    def absolute(self, route: str) -> str:
        return settings.SITE_URL + reverse(f"certificates:{route}", kwargs={"credential_id": self.credential_id})


class CertificateEvent(models.Model):
    """The certificate's history: issue, re-issues (with the PDF each produced), revocations and restorations."""

    class Kind(models.TextChoices):
        ISSUED = "issued", "Issued"
        REISSUED = "reissued", "Re-issued"
        REVOKED = "revoked", "Revoked"
        RESTORED = "restored", "Restored"
        RENAME_REQUESTED = "rename_req", "Name change requested"

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    revision = models.PositiveIntegerField()
    holder_name = models.CharField(max_length=HOLDER_NAME_MAX_LENGTH)
    pdf_name = models.CharField("stored PDF", max_length=200, blank=True)
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who did it: the holder (name correction), an admin (revocation), or nobody (automatic issue).",
    )

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class SigningKeyRecord(models.Model):
    """The public half of every key that has signed a credential. Kept after the key is rotated out, so a
    credential signed earlier still verifies against the published key set."""

    thumbprint = models.CharField(max_length=64, unique=True, help_text="RFC 7638 thumbprint of the public key.")
    public_jwk = models.JSONField()
    first_used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-first_used_at", "-id")

    def __str__(self) -> str:
        return f"{self.thumbprint} (since {self.first_used_at:%Y-%m-%d})"
