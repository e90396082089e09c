"""Production: every secret and address must come from the environment; refuses to start otherwise."""
import os

from django.core.exceptions import ImproperlyConfigured

REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "SITE_URL")
_missing = [name for name in REQUIRED if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(f"Production settings need these environment variables: {', '.join(_missing)}")
PLACEHOLDER_SECRET_KEYS = ("change-me-to-a-long-random-string", "dev-only-insecure-key-change-me")
if os.environ["SECRET_KEY"] in PLACEHOLDER_SECRET_KEYS or os.environ["SECRET_KEY"].startswith("django-insecure"):
    # Sessions, CSRF tokens and password-reset links are signed with it: a published example key forges them all.
    raise ImproperlyConfigured(
        "SECRET_KEY is the placeholder from .env.example or another insecure value: set a long random string, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if not (os.environ.get("CERTIFICATE_SIGNING_KEY") or os.environ.get("CERTIFICATE_SIGNING_KEY_PATH")):
    # A key generated into a container's throwaway folder would change on redeploy and void every signature.
    raise ImproperlyConfigured(
        "Production settings need CERTIFICATE_SIGNING_KEY (a private Ed25519 JWK) or CERTIFICATE_SIGNING_KEY_PATH "
        "(a file on a persistent volume; generated there on first use)."
    )

from .base import *
from .base import env_bool

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
CACHES = {
    "default": {
        # A Redis outage empties the cache instead of failing requests (core/cache.py).
        "BACKEND": "core.cache.ResilientRedisCache",
        "LOCATION": os.environ.get("CACHE_URL", os.environ["CELERY_BROKER_URL"]),
    }
}
