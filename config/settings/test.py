"""Test settings: fast hashing, in-memory broker unless a test starts a real worker.

With ``TEST_DATABASE_URL`` set (``make test`` sets it when PostgreSQL answers, and always in CI), the suite
runs on PostgreSQL, the production database; otherwise on SQLite.
"""
import os

import dj_database_url

from .base import *
from .base import DATABASES, VAR_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SITE_URL = "https://academy.example.org"

if not os.environ.get("TEST_DATABASE_URL"):
    # A file, not memory, so a worker process started by a test can open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"] = dj_database_url.parse(os.environ["TEST_DATABASE_URL"])
    # One test database per process, so two suites on one machine never drop each other's database.
    DATABASES["default"]["TEST"] = {"NAME": f"test_academy_{os.getpid()}"}

# Certificates and uploads written by tests stay out of the development site's media folder.
MEDIA_ROOT = VAR_DIR / f"test-media-{os.getpid()}"
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)

# Per-process memory (tests/conftest.py empties it before each test), never the developer's .var/cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}

CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_RESULT_BACKEND = "cache+memory://"

LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "academy.requests": {"level": "WARNING"}}}
