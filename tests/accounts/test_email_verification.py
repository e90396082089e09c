"""A certificate names a person we can reach: one account per email, confirmed by a link before it is issued."""
from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User
from certificates.models import Certificate
from tests.support.factories import UserFactory, make_course
from tests.support.quizzes import complete_modules, take_quiz

pytestmark = pytest.mark.django_db
SITE = "https://academy.example.org"


def _sign_up(client: Client, email: str = "grace@example.org", username: str = "grace"):
    return client.post("/accounts/signup/", {
        "username": username, "full_name": "Grace Hopper", "email": email,
        "password1": "a-long-and-unusual-pass-77", "password2": "a-long-and-unusual-pass-77",
    })


def _link_in(message) -> str:
    return re.search(rf"{re.escape(SITE)}(/accounts/verify-email/\S+/)", message.body).group(1)


def test_sign_up_sends_a_link_that_confirms_the_address(client, mailoutbox):
    assert _sign_up(client).status_code == 302
    user = User.objects.get(username="grace")
    assert not user.email_verified
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["grace@example.org"]
    response = client.get(_link_in(mailoutbox[0]))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_verified


def test_an_email_is_one_account_whatever_its_letter_case(client):
    UserFactory(email="Grace@Example.org")
    response = _sign_up(client, email="grace@EXAMPLE.org")
    assert response.status_code == 200
    assert "An account with this email already exists" in response.content.decode()
    assert not User.objects.filter(username="grace").exists()


def test_a_forged_or_outdated_link_is_refused(client, mailoutbox):
    _sign_up(client)
    link = _link_in(mailoutbox[0])
    assert client.get(link[:-5] + "XXXX/").status_code == 400
    User.objects.filter(username="grace").update(email="other@example.org")  # the address changed since
    assert client.get(link).status_code == 400
    assert not User.objects.get(username="grace").email_verified


def test_quizzes_work_before_verification_and_the_certificate_waits_for_it(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    course = make_course(modules=2)
    _sign_up(client)
    user = User.objects.get(username="grace")
    complete_modules(user, course, orders=[1])
    take_quiz(client, course.modules.get(order=2))
    assert not Certificate.objects.exists()
    dashboard = client.get("/dashboard/").content.decode()
    assert "Verify your email to receive your certificate" in dashboard

    with django_capture_on_commit_callbacks(execute=True):
        client.get(_link_in(mailoutbox[0]))
    certificate = Certificate.objects.get(user=user, course=course)
    issued_mail = [m for m in mailoutbox if certificate.verification_url in m.body]
    assert issued_mail and issued_mail[0].to == ["grace@example.org"]


def test_the_link_can_be_sent_again_from_the_dashboard(client, mailoutbox):
    _sign_up(client)
    response = client.post("/accounts/verify-email/resend/")
    assert response.status_code == 302
    assert len(mailoutbox) == 2
    assert _link_in(mailoutbox[1])


def test_a_changed_password_is_reported_by_email(client, mailoutbox):
    user = UserFactory(email="ada@example.org")
    client.force_login(user)
    response = client.post("/accounts/password_change/", {
        "old_password": "correct horse battery staple",
        "new_password1": "another-long-pass-4242", "new_password2": "another-long-pass-4242",
    })
    assert response.status_code == 302
    assert any("password" in m.subject and m.to == ["ada@example.org"] for m in mailoutbox)
