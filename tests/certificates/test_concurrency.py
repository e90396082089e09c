"""Two completions at the same moment issue one certificate (PostgreSQL, real concurrent transactions)."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from certificates import services
from certificates.models import Certificate, CertificateEvent
from tests.support.quizzes import answers, complete_modules, open_quiz, quiz_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: make test runs the suite on it (TEST_DATABASE_URL)")


def run_together(*jobs):
    """Run each job in its own thread (own database connection), all released at once; return their results."""
    start = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index, job):
        try:
            start.wait(timeout=30)
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 (the test asserts on it)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_issues_racing_past_the_existence_check_store_one_certificate(monkeypatch, settings, user, seven_modules):
    complete_modules(user, seven_modules)
    # Hold both requests after they have each found no certificate, so both really try to insert one.
    both_rendering = threading.Barrier(2)
    real_render = services.render_certificate_pdf

    def render_in_step(content):
        both_rendering.wait(timeout=30)
        return real_render(content)

    monkeypatch.setattr(services, "render_certificate_pdf", render_in_step)

    first, second = run_together(
        lambda: services.issue_certificate(user=user, course=seven_modules),
        lambda: services.issue_certificate(user=user, course=seven_modules),
    )

    assert isinstance(first, Certificate) and isinstance(second, Certificate), (first, second)
    assert first.credential_id == second.credential_id
    assert Certificate.objects.count() == 1
    assert CertificateEvent.objects.count() == 1
    stored = sorted((Path(settings.MEDIA_ROOT) / "certificates").rglob("*"))
    assert [path.relative_to(settings.MEDIA_ROOT / "certificates").as_posix() for path in stored if path.is_file()] == [
        f"{first.credential_id}/certificate-r1.pdf", f"{first.credential_id}/share-r1.png"
    ], "the losing request's PDF and share image are removed"


def test_passing_the_last_two_quizzes_at_once_issues_one_certificate(user, seven_modules):
    complete_modules(user, seven_modules, orders=range(1, 6))
    sixth, seventh = seven_modules.modules.get(order=6), seven_modules.modules.get(order=7)
    tab_one, tab_two = Client(), Client()
    tab_one.force_login(user)
    tab_two.force_login(user)
    sixth_answers = answers(open_quiz(tab_one, sixth), sixth)
    seventh_answers = answers(open_quiz(tab_two, seventh), seventh)

    responses = run_together(
        lambda: tab_one.post(quiz_url(sixth), sixth_answers),
        lambda: tab_two.post(quiz_url(seventh), seventh_answers),
    )

    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    assert Certificate.objects.filter(user=user, course=seven_modules).count() == 1
    certificate = Certificate.objects.get()
    assert [r["score"] for r in certificate.module_results] == [100] * 7
