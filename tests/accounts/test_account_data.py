"""A person controls their account: download everything stored about them, delete it, and choose what happens to
their certificates."""
from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import User
from certificates.models import Certificate
from certificates.services import issue_certificate
from experiments.models import ExperimentRun
from quizzes.models import Attempt, ModuleProgress
from tests.support.factories import ExperimentRunFactory, UserFactory, make_course
from tests.support.quizzes import complete_modules, take_quiz

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def holder():
    user = UserFactory(username="ada", full_name="Ada Lovelace", email="ada@example.org")
    course = make_course(modules=2)
    client = Client()
    client.force_login(user)
    take_quiz(client, course.modules.get(order=1), right=1)  # a failed attempt
    take_quiz(client, course.modules.get(order=1), right=5)
    complete_modules(user, course, orders=[2])
    issue_certificate(user=user, course=course)
    ExperimentRunFactory(started_by=user)
    return user, client


def test_the_dashboard_links_to_export_and_deletion(holder):
    _, client = holder
    html = client.get("/dashboard/").content.decode()
    assert 'href="/accounts/data.json"' in html and 'href="/accounts/delete/"' in html


def test_the_export_holds_profile_attempts_runs_and_certificates_with_their_history(holder):
    _, client = holder
    response = client.get("/accounts/data.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profile"]["email"] == "ada@example.org" and data["profile"]["full_name"] == "Ada Lovelace"
    assert len(data["quiz_attempts"]) == 2
    failed, passed = data["quiz_attempts"]
    assert failed["passed"] is False and all("right" not in a for a in failed["answers"])  # no answer key leak
    assert passed["passed"] is True and all(a["right"] for a in passed["answers"])
    assert len(data["experiment_runs"]) == 1
    assert data["certificates"][0]["history"][0]["event"] == "issued"


def test_the_export_is_only_for_the_signed_in_owner(client, holder):
    assert client.get("/accounts/data.json").status_code == 302


def test_deleting_keeps_certificates_verifiable_as_holders_account_deleted(holder):
    user, client = holder
    certificate = Certificate.objects.get(user=user)
    wrong = client.post("/accounts/delete/", {"password": "nope", "certificates": "keep"})
    assert wrong.status_code == 400 and User.objects.filter(pk=user.pk).exists()

    response = client.post("/accounts/delete/", {"password": PASSWORD, "certificates": "keep"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Attempt.objects.exists() and not ModuleProgress.objects.exists()
    assert ExperimentRun.objects.get().started_by is None  # the measurement stays, anonymous
    certificate.refresh_from_db()
    assert certificate.user is None and not certificate.is_revoked
    page = Client().get(certificate.get_absolute_url()).content.decode()
    assert "Status: valid" in page and "deleted their account" in page
    assert client.get("/dashboard/").status_code == 302  # signed out


def test_deleting_can_revoke_the_certificates_instead(holder):
    user, client = holder
    certificate = Certificate.objects.get(user=user)
    client.post("/accounts/delete/", {"password": PASSWORD, "certificates": "revoke"})
    certificate.refresh_from_db()
    assert certificate.is_revoked and "holder's request" in certificate.revocation_reason
    assert "Status: revoked" in Client().get(certificate.get_absolute_url()).content.decode()


def test_the_privacy_page_says_what_is_stored_and_links_the_controls(client, db):
    html = client.get("/privacy/").content.decode()
    assert "What we store, and why" in html and 'href="/accounts/data.json"' in html
    assert 'href="/privacy/"' in client.get("/about/").content.decode()
