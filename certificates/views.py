"""Thin views: the public record in four forms (page, PDF, Open Badges JSON/JWS, share image), the key set,
and the holder's two actions (claim, correct the name). Logic lives in services, reads in selectors."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.utils.http import quote_etag
from django.views.decorators.http import require_POST, require_safe

from core.page_cache import cache_anonymous_page
from core.throttle import throttle
from lessons.models import Course

from . import linkedin, openbadges, selectors, services, signing
from .credential_ids import normalize_credential_id
from .forms import HolderNameForm
from .models import Certificate
from .share_image import HEIGHT as SHARE_IMAGE_HEIGHT
from .share_image import WIDTH as SHARE_IMAGE_WIDTH


def _not_found(request: HttpRequest, typed: str, *, malformed: bool) -> HttpResponse:
    return render(request, "certificates/not_found.html", {"typed": typed, "malformed": malformed}, status=404)


def _certificate_or_response(request: HttpRequest, credential_id: str, route: str) -> Certificate | HttpResponse:
    """The certificate the URL names; a redirect for a non-canonical spelling; the friendly 404 otherwise."""
    canonical = normalize_credential_id(credential_id)
    if canonical is None:
        return _not_found(request, credential_id, malformed=True)
    if canonical != credential_id:
        return redirect(f"certificates:{route}", credential_id=canonical, permanent=True)
    certificate = selectors.certificate_by_credential_id(canonical)
    if certificate is None:
        return _not_found(request, credential_id, malformed=False)
    return certificate


def _by_credential_id(route: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Call the view with the certificate its URL's ``credential_id`` names (see ``_certificate_or_response``)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, credential_id: str) -> HttpResponse:
            found = _certificate_or_response(request, credential_id, route)
            if isinstance(found, HttpResponse):
                return found
            return view(request, found)

        return wrapper

    return decorate


def _machine_readable(response: HttpResponse, max_age: int = 60) -> HttpResponse:
    """Public data for verifiers, wallets and crawlers: cacheable briefly (revocation must show soon) and
    readable from any origin."""
    response["Access-Control-Allow-Origin"] = "*"
    patch_cache_control(response, public=True, max_age=max_age)
    return response


def _not_modified(request: HttpRequest, etag: str) -> bool:
    return quote_etag(etag) in request.headers.get("If-None-Match", "")


@require_safe
def lookup(request: HttpRequest) -> HttpResponse:
    """Verify by id: the form an employer uses with the id printed on a PDF."""
    typed = request.GET.get("id", "").strip()
    if not typed:
        return render(request, "certificates/lookup.html")
    canonical = normalize_credential_id(typed)
    if canonical is None or selectors.certificate_by_credential_id(canonical) is None:
        return _not_found(request, typed, malformed=canonical is None)
    return redirect("certificates:verify", credential_id=canonical)


@require_safe
@cache_anonymous_page("certificates")
@_by_credential_id("verify")
def verify(request: HttpRequest, certificate: Certificate) -> HttpResponse:
    context = {
        "certificate": certificate,
        "is_holder": request.user.is_authenticated and request.user.pk == certificate.user_id,
        "linkedin_add_url": linkedin.add_to_profile_url(certificate),
        "linkedin_share_url": linkedin.share_url(certificate),
        "share_image_url": certificate.absolute("share_image"),
        "credential_json_url": certificate.absolute("credential_json"),
        "share_image_width": SHARE_IMAGE_WIDTH,
        "share_image_height": SHARE_IMAGE_HEIGHT,
        "module_count": len(certificate.module_results),
        "earlier_versions": selectors.superseded_versions(certificate),
    }
    return render(request, "certificates/verify.html", context)


@require_safe
@_by_credential_id("pdf")
def certificate_pdf(request: HttpRequest, certificate: Certificate) -> HttpResponse:
    if certificate.is_revoked:
        return render(request, "certificates/revoked_pdf.html", {"certificate": certificate}, status=410)
    if _not_modified(request, certificate.pdf_sha256):
        return HttpResponseNotModified()
    try:
        data = services.stored_pdf(certificate)
    except services.PdfIntegrityError:
        return render(request, "certificates/pdf_unavailable.html", {"certificate": certificate}, status=503)
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "attachment" if "download" in request.GET else "inline"
    response["Content-Disposition"] = (
        f'{disposition}; filename="{certificate.course.slug}-certificate-{certificate.credential_id}.pdf"'
    )
    response["ETag"] = quote_etag(certificate.pdf_sha256)
    patch_cache_control(response, public=True, no_cache=True)  # revalidate: a revocation must take effect
    return response


@require_safe
@_by_credential_id("credential_json")
def credential_json(request: HttpRequest, certificate: Certificate) -> HttpResponse:
    body = json.dumps(openbadges.build_credential(certificate), ensure_ascii=False, indent=2)
    return _machine_readable(HttpResponse(body, content_type="application/ld+json; charset=utf-8"))


@require_safe
@_by_credential_id("credential_jwt")
def credential_jwt(request: HttpRequest, certificate: Certificate) -> HttpResponse:
    token = signing.sign_credential(openbadges.build_credential(certificate))
    return _machine_readable(HttpResponse(token, content_type=f"application/{signing.MEDIA_TYPE}"))


@require_safe
@_by_credential_id("share_image")
def share_image(request: HttpRequest, certificate: Certificate) -> HttpResponse:
    state = f"{certificate.credential_id}:{certificate.revision}:{certificate.revoked_at}"
    etag = hashlib.sha256(state.encode()).hexdigest()[:32]
    if _not_modified(request, etag):
        return HttpResponseNotModified()
    response = HttpResponse(services.stored_share_image(certificate), content_type="image/png")
    response["ETag"] = quote_etag(etag)
    return _machine_readable(response, max_age=300)


@require_safe
def revocations(request: HttpRequest) -> HttpResponse:
    status_list = openbadges.revocation_list(selectors.revoked_certificates(), selectors.superseded_versions())
    body = json.dumps(status_list, ensure_ascii=False, indent=2)
    return _machine_readable(HttpResponse(body, content_type="application/json; charset=utf-8"))


@require_safe
def jwk(request: HttpRequest, thumbprint: str) -> HttpResponse:
    """One public key, where a credential's ``kid`` points."""
    key = signing.public_jwk(thumbprint)
    if key is None:
        raise Http404("No such key")
    return _machine_readable(HttpResponse(json.dumps(key, indent=2), content_type="application/jwk+json"),
                             max_age=3600)


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    """The issuer's public signing key(s), at the well-known location verifiers look for."""
    body = json.dumps(signing.public_jwks(), indent=2)
    return _machine_readable(HttpResponse(body, content_type="application/jwk-set+json"), max_age=3600)


@require_POST
@login_required
@throttle("rename")
def change_name(request: HttpRequest, credential_id: str) -> HttpResponse:
    certificate = selectors.certificate_by_credential_id(normalize_credential_id(credential_id) or "")
    if certificate is None or certificate.user_id != request.user.pk:
        raise Http404("No certificate of yours has this id")
    form = HolderNameForm(request.POST)
    if not form.is_valid():
        return render(request, "certificates/change_name.html", {"certificate": certificate, "form": form},
                      status=400)
    try:
        updated = services.correct_holder_name(
            certificate=certificate, user=request.user, holder_name=form.cleaned_data["holder_name"]
        )
    except services.NameChangeNeedsApproval:
        messages.info(request, "You have already corrected this name twice, so this change goes to the site's staff "
                               "for approval. Your certificate is re-issued once they approve it.")
        return redirect("dashboard")
    except services.CertificateRevoked:
        form.add_error(None, "This certificate is revoked, so it cannot be re-issued. Please contact us.")
        return render(request, "certificates/change_name.html", {"certificate": certificate, "form": form},
                      status=409)
    if updated.revision == certificate.revision:
        messages.info(request, "That is already the name on your certificate; nothing changed.")
    else:
        messages.success(request, f"Your certificate was re-issued with the name “{updated.holder_name}”.")
    return redirect("dashboard")


@require_POST
@login_required
def claim(request: HttpRequest, course_slug: str) -> HttpResponse:
    """Issue from the dashboard: when the profile had no name at completion, or issuing failed then."""
    course = get_object_or_404(Course, slug=course_slug)
    form = HolderNameForm(request.POST, required=not services.normalize_holder_name(request.user.full_name))
    context = {"course": course, "form": form}
    if not form.is_valid():
        return render(request, "certificates/claim.html", context, status=400)
    try:
        certificate = services.claim_certificate(
            user=request.user, course=course, holder_name=form.cleaned_data["holder_name"]
        )
    except services.CourseNotCompleted as exc:
        return render(request, "certificates/claim.html", {**context, "missing": exc.missing}, status=403)
    except services.HolderNameMissing:
        form.add_error("holder_name", "Please enter the name to print on your certificate.")
        return render(request, "certificates/claim.html", context, status=400)
    except services.EmailNotVerified:
        messages.warning(request, "Confirm your email address first: your certificate is issued as soon as you do.")
        return redirect("dashboard")
    messages.success(request, "Your certificate is ready.")
    return redirect(certificate.get_absolute_url())
