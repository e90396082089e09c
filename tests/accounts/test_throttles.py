"""What a script could repeat is throttled: 429 with Retry-After, counted per client and per account; behind a
TLS proxy the client is read from X-Forwarded-For, so one client's failures never lock out another."""
from __future__ import annotations

import pytest
from django.test import Client

from core.client_ip import client_ip
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def _signup(client: Client, n: int, **extra):
    return client.post("/accounts/signup/", {
        "username": f"script{n}", "full_name": "A Script", "email": f"s{n}@example.org",
        "password1": "a-long-and-unusual-pass-77", "password2": "a-long-and-unusual-pass-77",
    }, **extra)


def test_sign_ups_from_one_address_are_throttled_with_retry_after(client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "signup": {"ip": "3/h"}}
    assert [_signup(Client(), n).status_code for n in range(3)] == [302, 302, 302]
    refused = _signup(Client(), 3)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many attempts" in refused.content.decode()
    assert Client(REMOTE_ADDR="203.0.113.9").get("/accounts/signup/").status_code == 200  # reading is never limited
    assert _signup(Client(REMOTE_ADDR="203.0.113.9"), 4).status_code == 302  # another address is not affected


def test_password_reset_mails_to_one_address_are_limited(client, settings, mailoutbox):
    UserFactory(email="ada@example.org")
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "password_reset": {"ip": "100/h", "email": "2/h"}}
    codes = [Client(REMOTE_ADDR=f"198.51.100.{i}").post("/accounts/password_reset/", {"email": "ada@example.org"})
             .status_code for i in range(3)]
    assert codes == [302, 302, 429]
    assert len(mailoutbox) == 2


def test_name_corrections_are_limited_per_account(settings):
    from certificates.services import issue_certificate
    from tests.support.factories import make_course
    from tests.support.quizzes import complete_modules

    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "rename": {"ip": "100/d", "user": "2/d"}}
    user = UserFactory(full_name="Ada Lovelace")
    course = make_course(modules=2)
    complete_modules(user, course)
    certificate = issue_certificate(user=user, course=course)
    client = Client()
    client.force_login(user)
    url = f"/certificates/{certificate.credential_id}/name/"
    codes = [client.post(url, {"holder_name": f"Ada Lovelace {c}"}).status_code for c in "ABC"]
    assert 429 not in codes[:2] and codes[2] == 429


def test_without_trusted_proxies_the_socket_address_is_the_client(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.2"  # a forged header changes nothing


def test_behind_one_proxy_the_client_is_the_address_it_appended(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    forged_then_real = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert client_ip(forged_then_real) == "198.51.100.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_behind_a_proxy_one_clients_failed_sign_ins_do_not_lock_out_another(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="ada", password="the-right-password-123")
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        attacker.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    locked = attacker.post("/accounts/login/", {"username": "ada", "password": "the-right-password-123"})
    assert locked.status_code == 429 or "locked" in locked.content.decode().lower()

    ada = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = ada.post("/accounts/login/", {"username": "ada", "password": "the-right-password-123"})
    assert response.status_code == 302
