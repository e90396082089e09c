from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    mismatch = getattr(request, "site_url_mismatch", None)
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        # Only staff can fix the setting; readers would only be confused by the warning.
        "SITE_URL_MISMATCH": mismatch if mismatch and user is not None and user.is_staff else None,
    }
