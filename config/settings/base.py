"""Settings shared by every environment.

Everything comes from environment variables with safe embedded defaults: with no configuration the site
runs on SQLite and a file-system Celery broker under the git-ignored ``.var/`` folder. Setting
``DATABASE_URL`` / ``CELERY_BROKER_URL`` switches to PostgreSQL / Redis.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("TA_VAR_DIR", BASE_DIR / ".var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Public base URL used for absolute links (certificates, og: tags); never the request's Host header.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# /healthz's detailed report (errors, worker names) for monitors that send "Authorization: Bearer <token>".
HEALTHZ_TOKEN = os.environ.get("HEALTHZ_TOKEN", "")
SITE_NAME = os.environ.get("SITE_NAME", "Transformers Academy")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "accounts",
    "lessons",
    "quizzes",
    "certificates",
    "experiments",
    "search",
    "axes",
]

MIDDLEWARE = [
    "core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.SiteUrlCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every cache generation token a request reads comes in one round trip (core/page_cache.py).
    "core.page_cache.RequestGenerationsMiddleware",
    # Before the session: a progress poll whose copy is current costs one cache read (304), and a cached
    # anonymous page is answered without a session, a user or a query.
    "experiments.polling.RunPollMiddleware",
    "core.page_cache.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware, with the user's row kept per process (accounts/signed_in.py).
    "accounts.signed_in.SignedInUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: locks out repeated failed sign-ins.
    "axes.middleware.AxesMiddleware",
]

# How long a process may reuse a signed-in user's row while no user has been saved (accounts/signed_in.py);
# it bounds only changes made behind Django's back (raw SQL); 0 reads the row on every request, as Django does.
SIGNED_IN_USER_COPY_SECONDS = int(os.environ.get("SIGNED_IN_USER_COPY_SECONDS", "60"))

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute-force protection: 5 failures per username+IP locks that pair out for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind N proxies that append to X-Forwarded-For (a TLS terminator: 1), the client is the N-th address from the
# right; 0 trusts only the socket's address. Lockouts and throttles then count per client, not per proxy.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
# core/throttle.py: "N/period" per client address ("ip"), per signed-in account ("user"), per posted email.
THROTTLE_RATES = {
    "signup": {"ip": os.environ.get("THROTTLE_SIGNUP_PER_IP", "10/h")},
    "password_reset": {"ip": "10/h", "email": "3/h"},
    "rename": {"ip": "20/d", "user": "5/d"},
    "verification_email": {"ip": "20/h", "user": "3/h"},
    "experiment_run": {"ip": "60/h", "user": "30/h"},
    # The lesson script reports at most one position per 10 s and tab: this only stops a runaway client.
    "reading_position": {"user": "720/h"},
}
RATELIMIT_FAIL_OPEN = True
# Name corrections a holder makes alone; later ones wait for staff approval in the admin.
CERTIFICATE_SELF_SERVICE_RENAMES = int(os.environ.get("CERTIFICATE_SELF_SERVICE_RENAMES", "2"))
# Quiz retakes (quizzes.selectors.retake_allowed_at): free after the first failures, then growing pauses.
QUIZ_FREE_FAILURES = int(os.environ.get("QUIZ_FREE_FAILURES", "3"))
QUIZ_FAILURE_WINDOW_HOURS = 24
QUIZ_COOLOFF_STEPS_MINUTES = tuple(
    int(m) for m in os.environ.get("QUIZ_COOLOFF_STEPS_MINUTES", "10,60,360").split(",")
)  # a cache outage must not lock everybody out

# Only our own scripts; styles allow inline because plotly.js injects <style> elements at run time.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes a run's progress.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Course content files (module Markdown, course.yaml, glossary.yaml), one folder per course slug.
CONTENT_DIR = BASE_DIR / "content"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js straight from the installed plotly package (vendor/plotly/plotly.min.js): never a CDN, and no
    # 4.8 MB copy in git.
    "experiments.staticfiles.PlotlyFinder",
    # The OpenType MATH font for MathML (fonts/STIXMath-Regular.otf) from the fonts-stix system package.
    "lessons.staticfiles.MathFontFinder",
]
# Serve from the app folders too, so a checkout works without collectstatic; prod runs collectstatic.
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Development prints mail to the console; production sends through SMTP (EMAIL_HOST ...) from the environment.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Transformers Academy <noreply@localhost>")

# Shared by the web server and the worker (a worker's finished run invalidates cached lesson pages), so not
# per-process memory; production uses Redis (config/settings/prod.py).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
}
# Sessions are read on every signed-in request: from the cache, falling back to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Anonymous lesson, course and verification pages are served from the cache for at most this long
# (core/page_cache.py; changes invalidate them at once). 0 turns the page cache off.
ANONYMOUS_PAGE_CACHE_SECONDS = int(os.environ.get("ANONYMOUS_PAGE_CACHE_SECONDS", "60"))

# --- Certificates -------------------------------------------------------------------------------------
# The Ed25519 key that signs Open Badges credentials: a private JWK (JSON) in CERTIFICATE_SIGNING_KEY, or else
# the file at CERTIFICATE_SIGNING_KEY_PATH, generated on first use. Production should set one and back it up:
# a new key invalidates every signature made with the old one.
CERTIFICATE_SIGNING_KEY = os.environ.get("CERTIFICATE_SIGNING_KEY", "")
CERTIFICATE_SIGNING_KEY_PATH = Path(
    os.environ.get("CERTIFICATE_SIGNING_KEY_PATH", VAR_DIR / "certificate-signing-key.json")
)
# Where the PDF and share-image fonts are found (Debian: fonts-dejavu-core, fonts-wqy-zenhei).
CERTIFICATE_FONT_DIRS = env_list(
    "CERTIFICATE_FONT_DIRS", "/usr/share/fonts/truetype/dejavu,/usr/share/fonts/truetype/wqy"
)
CERTIFICATE_PAGE_SIZE = os.environ.get("CERTIFICATE_PAGE_SIZE", "A4")  # A4 or LETTER, always landscape
# LinkedIn "Add to profile" names the issuer by organization id when set, else by name.
LINKEDIN_ORGANIZATION_ID = os.environ.get("LINKEDIN_ORGANIZATION_ID", "")

# --- Celery -------------------------------------------------------------------------------------------
CELERY_DATA_DIR = VAR_DIR / "celery"
_FS_BROKER_DIRS = {
    "data_folder_in": str(CELERY_DATA_DIR / "queue"),
    "data_folder_out": str(CELERY_DATA_DIR / "queue"),
    "control_folder": str(CELERY_DATA_DIR / "control"),
    "processed_folder": str(CELERY_DATA_DIR / "processed"),
    "store_processed": False,
}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {**_FS_BROKER_DIRS, "polling_interval": 0.05}
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", f"file://{CELERY_DATA_DIR / 'results'}")
else:
    # visibility_timeout: an unacknowledged (acks_late) message is redelivered after this long,
    # so it must exceed the longest experiment's hard time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {
    # Exact names win over patterns: the reaper is light and must not wait behind a benchmark on "gpu".
    "experiments.reap_overdue_runs": {"queue": "celery"},
    "experiments.*": {"queue": "gpu"},
}
CELERY_BEAT_SCHEDULE = {
    "reap-overdue-experiment-runs": {"task": "experiments.reap_overdue_runs", "schedule": 60.0},
}

# --- Live experiments (experiments/) ------------------------------------------------------------------
# A run past its soft limit is stopped and marked failed; the hard limit kills the worker child if the soft
# one could not interrupt it. Both must stay below the broker's visibility_timeout (3600 s).
EXPERIMENTS_SOFT_TIME_LIMIT_S = int(os.environ.get("EXPERIMENTS_SOFT_TIME_LIMIT_S", "600"))
EXPERIMENTS_HARD_TIME_LIMIT_S = int(os.environ.get("EXPERIMENTS_HARD_TIME_LIMIT_S", "660"))
# A queued run that no worker starts within this long is marked failed (no worker, or a long backlog).
EXPERIMENTS_QUEUE_TIMEOUT_S = int(os.environ.get("EXPERIMENTS_QUEUE_TIMEOUT_S", "1800"))
# At most this many runs queued or running at once; beyond it a request gets 429.
EXPERIMENTS_MAX_ACTIVE_RUNS = int(os.environ.get("EXPERIMENTS_MAX_ACTIVE_RUNS", "20"))
# A request with the same params as a successful run on the same device class this recent gets that run.
EXPERIMENTS_REUSE_WINDOW_S = int(os.environ.get("EXPERIMENTS_REUSE_WINDOW_S", str(24 * 3600)))
# "cpu" or "cuda": the worker's device class, for the panel's defaults and bounds. "auto": the class the most
# recent run actually ran on ("cpu" before any run), so the web process never initialises CUDA.
EXPERIMENTS_DEVICE_CLASS = os.environ.get("EXPERIMENTS_DEVICE_CLASS", "auto")


def _memory_bytes() -> int | None:
    """This machine's memory, or the container's limit when that is lower (cgroup v2, then v1)."""
    found = []
    with contextlib.suppress(ValueError, OSError, AttributeError):
        found.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            found.append(int(Path(path).read_text().strip()))  # "max" (no limit) is not a number
    return min(found) if found else None


# Memory one run may need, by the experiments' own estimates: a run whose estimate is larger is refused (400)
# before anything is queued. Set both in production, for the machine the WORKER runs on (the web process judges
# with its own machine's memory otherwise). CPU default: a quarter of this machine's (or container's) memory,
# at most 16 GB, leaving the rest to the web server, the database and the worker's own overhead. GPU default:
# 80 % of a 16 GB card, the smallest common one a GPU worker has; set it to 80 % of yours.
_MEMORY = _memory_bytes()
EXPERIMENTS_CPU_MEMORY_BUDGET_MB = int(
    os.environ.get("EXPERIMENTS_CPU_MEMORY_BUDGET_MB", min(16384, (_MEMORY or 8 * 2**30) // 4 // 2**20))
)
EXPERIMENTS_CUDA_MEMORY_BUDGET_MB = int(os.environ.get("EXPERIMENTS_CUDA_MEMORY_BUDGET_MB", 16384 * 8 // 10))
# Defence in depth, in the worker's pool child: a watchdog ends the child (and fails its run with the reason)
# when its resident memory passes this ceiling, whatever the estimate said. Default: the CPU budget plus 1 GB
# for the process itself (Python, Django, torch's libraries: about 400 MB resident) and the estimate's error.
EXPERIMENTS_WORKER_MEMORY_LIMIT_MB = int(
    os.environ.get("EXPERIMENTS_WORKER_MEMORY_LIMIT_MB", EXPERIMENTS_CPU_MEMORY_BUDGET_MB + 1024)
)
# A pool child still holding more than this after a run (the allocator keeps freed memory) is replaced by a
# fresh one (Celery reads KiB). Half the budget above a torch child's own size.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = (512 + EXPERIMENTS_CPU_MEMORY_BUDGET_MB // 2) * 1024


def ensure_var_dirs() -> None:
    """The file-system broker needs its folders before any process touches it."""
    for key in ("data_folder_in", "control_folder", "processed_folder"):
        Path(_FS_BROKER_DIRS[key]).mkdir(parents=True, exist_ok=True)
    (CELERY_DATA_DIR / "results").mkdir(parents=True, exist_ok=True)
    MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)


ensure_var_dirs()

# --- Error reporting (optional) ------------------------------------------------------------------------
# Sentry only when SENTRY_DSN is set; here in the settings so the web process, workers and beat all get it.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from core.observability import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", ""),
        release=os.environ.get("SENTRY_RELEASE", ""),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "academy.requests": {"level": os.environ.get("REQUEST_LOG_LEVEL", "INFO")},
        # Straight to stderr, not through the root logger: a Celery worker's root handler would prefix the JSON.
        "academy.tasks": {
            "handlers": ["stderr"], "level": os.environ.get("TASK_LOG_LEVEL", "INFO"), "propagate": False,
        },
    },
}
