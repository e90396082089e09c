import pytest

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_every_request_gets_a_request_id(client):
    assert len(client.get("/").headers["X-Request-ID"]) == 32
    assert client.get("/", headers={"X-Request-ID": "abc123"}).headers["X-Request-ID"] == "abc123"


def test_repeated_failed_sign_ins_lock_the_account_out(client, user):
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "ada", "password": "correct horse battery staple"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_a_wrong_password_shows_an_error_not_a_500(client, user):
    response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert "form-errors" in response.content.decode()


def test_force_login_still_works_with_the_lockout_backend(signed_in_client):
    assert signed_in_client.get("/dashboard/").status_code == 200


def test_admin_needs_staff(signed_in_client):
    response = signed_in_client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_state_changing_requests_need_csrf(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/signup/", {"username": "x"})
    assert response.status_code == 403
