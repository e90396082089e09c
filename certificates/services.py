"""Writes for certificates: issue, re-issue after a name correction, revoke, restore.

Issuing is idempotent: the database holds at most one certificate per (user, course) (a unique constraint),
so two requests that complete the course at the same moment both end up returning the same certificate.

The PDF and the share image are rendered when the certificate changes, never per request: the PDF at issue and
re-issue (old ones are kept: their hashes were published), the share image at issue, re-issue, revocation and
restoration (it shows the name and a REVOKED band; the file it replaces is deleted).
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.forms import clean_person_name
from accounts.models import User
from accounts.signed_in import users_changed
from lessons.models import Course

from .content import CertificateContent
from .models import HOLDER_NAME_MAX_LENGTH, Certificate, CertificateEvent, certificate_pdf_path
from .pdf import render_certificate_pdf
from .progress import module_results, progress_for
from .share_image import render_share_image

logger = logging.getLogger(__name__)


class CourseNotCompleted(Exception):
    """The learner has not completed every module; ``missing`` says what is left, in words."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("; ".join(missing))
        self.missing = missing


class HolderNameMissing(Exception):
    """The profile has no name to print; the dashboard asks for one."""


class EmailNotVerified(Exception):
    """The holder has not confirmed their email address yet; the certificate is issued when they do."""


class CertificateRevoked(Exception):
    """A revoked certificate cannot be re-issued by its holder."""


def normalize_holder_name(raw: str) -> str:
    return clean_person_name(raw)[:HOLDER_NAME_MAX_LENGTH].strip()


def _pdf_filename(revision: int) -> str:
    return f"certificate-r{revision}.pdf"


def _attach_pdf(certificate: Certificate) -> None:
    """Render the PDF for the certificate's current content, store it, and record its SHA-256."""
    data = render_certificate_pdf(CertificateContent.of(certificate))
    certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
    certificate.pdf.save(_pdf_filename(certificate.revision), ContentFile(data), save=False)


def _share_image_path(certificate: Certificate) -> str:
    """The stored share image of the certificate's current state: a re-issue (revision) and a revocation change
    the picture, so each state has a file name of its own and a stored file is known to be current by its name."""
    revoked = "-revoked" if certificate.is_revoked else ""
    return certificate_pdf_path(certificate, f"share-r{certificate.revision}{revoked}.png")


def _save_share_image(certificate: Certificate, data: bytes) -> str:
    """Store ``data`` under the current state's name; returns the name stored."""
    storage = certificate.share_image.storage
    name = _share_image_path(certificate)
    # A file left under this name shows this same state (rendering is deterministic, e.g. a restore brings back
    # the unrevoked picture); replace it so the name stays exact instead of getting a random suffix.
    storage.delete(name)
    return storage.save(name, ContentFile(data))


def _attach_share_image(certificate: Certificate) -> None:
    """Render and store the share image for the certificate's current state; the file it replaces is deleted
    once the change is committed (a share image is derived from the record, not part of its history)."""
    replaced = certificate.share_image.name
    data = render_share_image(CertificateContent.of(certificate))
    certificate.share_image.name = _save_share_image(certificate, data)
    if replaced and replaced != certificate.share_image.name:
        storage = certificate.share_image.storage
        transaction.on_commit(lambda: storage.delete(replaced))


def issue_for_completed_course(*, user: User, course: Course) -> Certificate | None:
    """Called by the quiz submission once a pass leaves ``course`` completed (and on every later pass of it).

    The learner's pass is already committed and must stand whatever happens here: the issuing runs in a
    transaction of its own and any failure is logged, not raised (the next pass of one of the course's quizzes
    tries again). None while the certificate waits for the holder's name or email confirmation.
    """
    try:
        with transaction.atomic():
            return issue_when_ready(user=user, course=course)
    except Exception:  # the result page must still show the learner's pass
        logger.exception("Could not issue the certificate of %s to user %s", course.slug, user.pk)
        return None


def issue_when_ready(*, user: User, course: Course) -> Certificate | None:
    """``issue_certificate`` for a completed course, or None (logged) while it waits for a name or an email."""
    try:
        return issue_certificate(user=user, course=course)
    except HolderNameMissing:
        logger.info("User %s completed %s but has no name to print; the dashboard asks for it", user.pk,
                    course.slug)
    except EmailNotVerified:
        logger.info("User %s completed %s; the certificate waits for their email confirmation", user.pk,
                    course.slug)
    return None


def issue_certificate(*, user: User, course: Course) -> Certificate:
    """The user's certificate for ``course``, issued now if they have none yet.

    Raises ``CourseNotCompleted`` before every module is completed, ``EmailNotVerified`` until the holder has
    confirmed their address (a certificate names a person we can reach), and ``HolderNameMissing`` when the
    profile has no name (then ``claim_certificate`` with a name finishes the job).
    """
    existing = Certificate.objects.filter(user=user, course=course).first()
    if existing is not None:
        return existing
    progress = progress_for(user=user, course=course)
    if not progress.is_complete:
        raise CourseNotCompleted(progress.missing)
    if not user.email_verified:
        raise EmailNotVerified
    holder_name = normalize_holder_name(user.full_name)
    if not holder_name:
        raise HolderNameMissing
    certificate = Certificate(
        user=user,
        course=course,
        holder_name=holder_name,
        course_title=course.title,
        issuer_name=course.issuer_name,
        module_results=module_results(progress),
        issued_at=timezone.now(),
    )
    _attach_pdf(certificate)
    _attach_share_image(certificate)
    try:
        with transaction.atomic():
            certificate.save()
            CertificateEvent.objects.create(
                certificate=certificate, kind=CertificateEvent.Kind.ISSUED, occurred_at=certificate.issued_at,
                revision=certificate.revision, holder_name=holder_name, pdf_name=certificate.pdf.name,
                pdf_sha256=certificate.pdf_sha256,
            )
    except IntegrityError:
        # A concurrent completion issued it first; its certificate is the one. Drop our unused files.
        certificate.pdf.storage.delete(certificate.pdf.name)
        certificate.share_image.storage.delete(certificate.share_image.name)
        return Certificate.objects.get(user=user, course=course)
    logger.info("Issued certificate %s to user %s for %s", certificate.credential_id, user.pk, course.slug)
    transaction.on_commit(lambda: _send_issued_email(certificate))
    return certificate


def _send_issued_email(certificate: Certificate) -> None:
    user = certificate.user
    if not user.email:
        return
    send_mail(
        subject=f"Your certificate for {certificate.course_title}",
        message=(
            f"Congratulations, {certificate.holder_name}!\n\n"
            f"You completed {certificate.course_title}. Your certificate ({certificate.human_id}) is verifiable at\n\n"
            f"{certificate.verification_url}\n\n"
            "From that page you can download the PDF and add the certificate to your LinkedIn profile.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
        fail_silently=True,  # the certificate exists either way; the dashboard links to it
    )


def claim_certificate(*, user: User, course: Course, holder_name: str = "") -> Certificate:
    """Issue from the dashboard: saves ``holder_name`` to the profile first when the profile has none."""
    name = normalize_holder_name(holder_name)
    if name and not normalize_holder_name(user.full_name):
        user.full_name = name
        User.objects.filter(pk=user.pk).update(full_name=name)
        users_changed()
    return issue_certificate(user=user, course=course)


class NameChangeNeedsApproval(Exception):
    """The holder has used their self-service corrections; the request waits for staff."""


def self_service_renames(certificate: Certificate) -> int:
    return certificate.events.filter(kind=CertificateEvent.Kind.REISSUED, actor_id=certificate.user_id).count()


def _next_version_time(locked: Certificate) -> datetime:
    """Whole seconds (the credential's validFrom has second precision), strictly after the current version."""
    now = timezone.now().replace(microsecond=0)
    current = (locked.reissued_at or locked.issued_at).replace(microsecond=0)
    return max(now, current + timedelta(seconds=1))


def correct_holder_name(
    *, certificate: Certificate, user: User, holder_name: str, approved_by: User | None = None
) -> Certificate:
    """Re-issue under the same credential id with the corrected name; the earlier version is superseded.

    The holder may do this ``CERTIFICATE_SELF_SERVICE_RENAMES`` times; after that the request is stored and
    :class:`NameChangeNeedsApproval` raised, until staff approve it (``approved_by``). Each version gets a later
    whole-second timestamp, its own credential id and PDF; the superseded PDF file is removed (its SHA-256 stays
    in the history, so the verification page still recognises it as an earlier version). Also updates the
    profile. Returns the certificate unchanged when the name is the same.
    """
    name = normalize_holder_name(holder_name)
    if not name:
        raise ValueError("A certificate needs a name.")
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if approved_by is None and locked.user_id != user.pk:
            raise PermissionError("Only the holder can correct the name on a certificate.")
        if approved_by is not None and not approved_by.is_staff:
            raise PermissionError("Only staff can approve a name change.")
        if locked.is_revoked:
            raise CertificateRevoked
        if locked.holder_name == name:
            return locked
        if approved_by is None and self_service_renames(locked) >= settings.CERTIFICATE_SELF_SERVICE_RENAMES:
            locked.requested_holder_name = name
            locked.save(update_fields=["requested_holder_name"])
            CertificateEvent.objects.create(
                certificate=locked, kind=CertificateEvent.Kind.RENAME_REQUESTED, occurred_at=timezone.now(),
                revision=locked.revision, holder_name=name, reason="Waiting for staff approval", actor=user,
            )
            needs_approval = True
        else:
            needs_approval = False
            _reissue(locked, name=name, user=user, approved_by=approved_by)
    if needs_approval:  # raised after the commit: the request itself is kept
        raise NameChangeNeedsApproval
    return locked


def _reissue(locked: Certificate, *, name: str, user: User, approved_by: User | None) -> None:
    """The next version of a locked certificate: new name, revision, timestamp, PDF and share image."""
    superseded_pdf, previous = locked.pdf.name, locked.holder_name
    locked.holder_name = name
    locked.requested_holder_name = ""
    locked.revision += 1
    locked.reissued_at = _next_version_time(locked)
    _attach_pdf(locked)
    _attach_share_image(locked)
    locked.save(update_fields=["holder_name", "requested_holder_name", "revision", "reissued_at", "pdf",
                               "pdf_sha256", "share_image"])
    how = "approved by staff" if approved_by is not None else "by the holder"
    CertificateEvent.objects.create(
        certificate=locked, kind=CertificateEvent.Kind.REISSUED, occurred_at=locked.reissued_at,
        revision=locked.revision, holder_name=name, pdf_name=locked.pdf.name, pdf_sha256=locked.pdf_sha256,
        reason=f"Name corrected {how} (was: {previous})", actor=approved_by or user,
    )
    if locked.user_id:
        User.objects.filter(pk=locked.user_id).update(full_name=name)
        users_changed()
    storage = locked.pdf.storage
    if superseded_pdf and superseded_pdf != locked.pdf.name:
        transaction.on_commit(lambda: storage.delete(superseded_pdf))


def approve_requested_name(*, certificate: Certificate, staff: User) -> Certificate:
    if not certificate.requested_holder_name:
        raise ValueError("No name change is waiting for approval.")
    return correct_holder_name(
        certificate=certificate, user=staff, holder_name=certificate.requested_holder_name, approved_by=staff
    )


def revoke_certificate(*, certificate: Certificate, reason: str, actor: User | None) -> Certificate:
    return _set_revoked(certificate=certificate, revoked=True, reason=reason, actor=actor)


def restore_certificate(*, certificate: Certificate, reason: str, actor: User | None) -> Certificate:
    return _set_revoked(certificate=certificate, revoked=False, reason=reason, actor=actor)


def _set_revoked(*, certificate: Certificate, revoked: bool, reason: str, actor: User | None) -> Certificate:
    """Revoke or restore with a reason: a no-op when already so, else the status, the share image (with or
    without its REVOKED band) and a ``CertificateEvent``, all in one transaction."""
    reason = reason.strip()
    if not reason:
        raise ValueError(f"Say why the certificate is {'revoked' if revoked else 'restored'}.")
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.is_revoked == revoked:
            return locked
        now = timezone.now()
        locked.revoked_at = now if revoked else None
        locked.revocation_reason = reason if revoked else ""
        _attach_share_image(locked)
        locked.save(update_fields=["revoked_at", "revocation_reason", "share_image"])
        CertificateEvent.objects.create(
            certificate=locked, kind=CertificateEvent.Kind.REVOKED if revoked else CertificateEvent.Kind.RESTORED,
            occurred_at=now, revision=locked.revision, holder_name=locked.holder_name, reason=reason, actor=actor,
        )
    return locked


class PdfIntegrityError(Exception):
    """Neither the stored PDF nor a fresh rendering matches the SHA-256 the certificate publishes."""


def stored_pdf(certificate: Certificate) -> bytes:
    """The stored PDF, after checking it against the published SHA-256.

    A missing or altered file is rendered again: rendering is deterministic, so with the same fonts the bytes come
    out the same, and the good copy is stored back. If the new rendering differs too (other fonts since), nothing
    is served and the published hash is never changed: a holder's PDF must keep matching its verification page.
    Raises :class:`PdfIntegrityError` then.
    """
    storage = certificate.pdf.storage
    if certificate.pdf.name and storage.exists(certificate.pdf.name):
        with storage.open(certificate.pdf.name, "rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() == certificate.pdf_sha256:
            return data
        logger.error("Certificate %s: the stored PDF does not match its published SHA-256", certificate.credential_id)
    data = render_certificate_pdf(CertificateContent.of(certificate))
    digest = hashlib.sha256(data).hexdigest()
    if digest != certificate.pdf_sha256:
        logger.error("Certificate %s: the re-rendered PDF differs from the published one (sha256 %s, published %s); "
                     "not serving it", certificate.credential_id, digest, certificate.pdf_sha256)
        raise PdfIntegrityError(certificate.credential_id)
    name = certificate_pdf_path(certificate, _pdf_filename(certificate.revision))
    if storage.exists(name):
        storage.delete(name)  # the altered copy: replaced by the good one under the same name
    name = storage.save(name, ContentFile(data))
    Certificate.objects.filter(pk=certificate.pk).update(pdf=name)
    certificate.pdf.name = name
    return data


def stored_share_image(certificate: Certificate) -> bytes:
    """The share image of the certificate's current state, read from storage.

    Rendered and stored here, once, when there is none for that state: certificates issued before share images
    were stored, or a lost file. The row is pointed at it only if it still has the state the image shows (a
    revocation or name correction in between stores its own image).
    """
    storage = certificate.share_image.storage
    name = _share_image_path(certificate)
    if certificate.share_image.name == name and storage.exists(name):
        with storage.open(name, "rb") as handle:
            return handle.read()
    data = render_share_image(CertificateContent.of(certificate))
    stored = _save_share_image(certificate, data)
    Certificate.objects.filter(
        pk=certificate.pk, revision=certificate.revision, revoked_at=certificate.revoked_at
    ).update(share_image=stored)
    certificate.share_image.name = stored
    return data
