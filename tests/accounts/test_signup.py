import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def signup_data(**overrides):
    data = {
        "username": "grace",
        "full_name": "  Grace   Hopper ",
        "email": "grace@example.org",
        "password1": "a-long-and-unusual-pass-77",
        "password2": "a-long-and-unusual-pass-77",
    }
    data.update(overrides)
    return data


def test_signup_asks_for_the_full_name_for_the_certificate(client):
    html = client.get("/accounts/signup/").content.decode()
    assert '<label for="id_full_name">Full name</label>' in html
    assert "appear on your certificate" in html


def test_signup_creates_a_signed_in_user_with_a_normalised_full_name(client):
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 302
    user = User.objects.get(username="grace")
    assert user.full_name == "Grace Hopper"
    assert client.get("/dashboard/").status_code == 200


def test_signup_without_a_full_name_shows_a_field_error_and_keeps_the_input(client):
    response = client.post("/accounts/signup/", signup_data(full_name="   "))
    assert response.status_code == 200
    html = response.content.decode()
    assert "field--error" in html
    assert 'value="grace"' in html
    assert not User.objects.filter(username="grace").exists()


def test_signup_strips_control_characters_from_the_name(client):
    client.post("/accounts/signup/", signup_data(full_name="Ada\u0007 Love\u202elace"))
    assert User.objects.get(username="grace").full_name == "Ada Lovelace"


def test_signup_returns_to_the_page_the_visitor_came_from(client):
    response = client.post("/accounts/signup/?next=/courses/transformers-architecture/", signup_data())
    assert response["Location"] == "/courses/transformers-architecture/"


def test_signup_ignores_an_offsite_next(client):
    response = client.post("/accounts/signup/?next=https://evil.example/", signup_data())
    assert response["Location"] == "/dashboard/"


def test_login_logout_and_password_reset_pages_exist(client, user):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/accounts/password_reset/").status_code == 200
    assert client.post("/accounts/login/", {"username": "ada", "password": "correct horse battery staple"}).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302


def test_password_reset_sends_an_email_with_a_link(client, user, mailoutbox):
    client.post("/accounts/password_reset/", {"email": user.email})
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
