"""Error reporting to Sentry, switched on by SENTRY_DSN alone.

``config/settings/base.py`` calls :func:`init_sentry` when the variable is set, so every process that loads the
settings reports the same way: gunicorn's web workers, the Celery workers (their parent loads the settings
before it forks the pool) and beat. Without a DSN the SDK is not even imported.
"""
from __future__ import annotations

# Structured one-line logs meant for the log pipeline, not for Sentry: failures they describe already reach
# Sentry as exceptions through the Django and Celery integrations, so reporting the lines too would double them.
STRUCTURED_LOGGERS = ("academy.requests", "academy.tasks")


def init_sentry(*, dsn: str, environment: str = "", release: str = "", traces_sample_rate: float = 0.0) -> None:
    """Start the Sentry SDK with the Django and Celery integrations and no personal data."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import ignore_logger

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Learners' names, e-mail addresses, IP addresses and cookies never leave the server.
        send_default_pii=False,
        environment=environment or None,  # None: the SDK's default ("production")
        release=release or None,  # None: the SDK guesses (for example from a git checkout)
        traces_sample_rate=traces_sample_rate,
    )
    for name in STRUCTURED_LOGGERS:
        ignore_logger(name)
