"""Certificates are tested on a seven-module course built by the quizzes test factories, so they do not
depend on how much of the real course content is written yet."""
from __future__ import annotations

import pytest
from django.utils import timezone

from certificates.models import Certificate
from certificates.services import issue_certificate
from quizzes.models import ModuleProgress
from tests.quizzes.factories import make_course


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    """PDFs and the signing key go to this test's own folder, never the developer's .var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTIFICATE_SIGNING_KEY = ""
    settings.CERTIFICATE_SIGNING_KEY_PATH = tmp_path / "signing-key.json"


@pytest.fixture
def seven_modules(db):
    return make_course(modules=7)


def complete_modules(user, course, orders=None, *, best_score: int = 5, best_total: int = 5) -> None:
    """Record modules as passed, the way the quizzes app records a pass (used to skip the first quizzes)."""
    now = timezone.now()
    for module in course.modules.all():
        if orders is not None and module.order not in orders:
            continue
        ModuleProgress.objects.update_or_create(
            user=user, module=module,
            defaults={"read_at": now, "completed_at": now, "attempts": 1, "best_score": best_score,
                      "best_total": best_total},
        )


@pytest.fixture
def certificate(user, seven_modules) -> Certificate:
    """Ada's certificate, issued the way completion issues it."""
    complete_modules(user, seven_modules)
    return issue_certificate(user=user, course=seven_modules)
