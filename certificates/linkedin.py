"""LinkedIn's two public share links: add the certification to a profile, and share the page in a post."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from django.conf import settings
from django.utils import timezone

from .models import Certificate

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"
SHARE = "https://www.linkedin.com/sharing/share-offsite/"


def add_to_profile_url(certificate: Certificate) -> str:
    issued = timezone.localtime(certificate.issued_at)
    params = {"startTask": "CERTIFICATION_NAME", "name": certificate.course_title}
    if settings.LINKEDIN_ORGANIZATION_ID:
        params["organizationId"] = settings.LINKEDIN_ORGANIZATION_ID
    else:
        params["organizationName"] = certificate.issuer_name
    params.update({
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
        "certUrl": certificate.verification_url,
        "certId": certificate.human_id,  # the form printed on the PDF and page
    })
    # quote, not quote_plus: every value percent-encoded, spaces as %20, "/" and ":" too.
    return f"{ADD_TO_PROFILE}?{urlencode(params, quote_via=quote)}"


def share_url(certificate: Certificate) -> str:
    return f"{SHARE}?{urlencode({'url': certificate.verification_url}, quote_via=quote)}"
