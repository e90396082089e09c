"""A signed-in reader's row is kept per process, and is exactly as fresh and as strict as Django's own lookup."""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.signed_in import _copies, users_changed
from core import page_cache
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/dashboard/"


@pytest.fixture(autouse=True)
def _no_copies_from_other_tests():
    _copies.clear()
    yield
    _copies.clear()


def _user_queries(client: Client, path: str = DASHBOARD) -> tuple[int, str]:
    table = User._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return sum(f'FROM "{table}"' in q["sql"] for q in queries.captured_queries), response.content.decode()


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_signed_in_reader_costs_no_user_query_after_the_first_request():
    client = _signed_in(UserFactory(username="ada", full_name="Ada Lovelace"))

    first, _ = _user_queries(client)
    second, page = _user_queries(client)

    assert first == 1
    assert second == 0
    assert "Welcome, Ada Lovelace" in page


def test_two_readers_each_get_their_own_row():
    ada = _signed_in(UserFactory(username="ada", full_name="Ada Lovelace"))
    grace = _signed_in(UserFactory(username="grace", full_name="Grace Hopper"))

    for _ in range(2):
        assert "Welcome, Ada Lovelace" in ada.get(DASHBOARD).content.decode()
        assert "Welcome, Grace Hopper" in grace.get(DASHBOARD).content.decode()


def test_a_saved_change_shows_on_the_next_request():
    user = UserFactory(username="ada", full_name="Ada Lovelace")
    client = _signed_in(user)
    client.get(DASHBOARD)

    user.full_name = "Ada King"
    user.save()

    assert "Welcome, Ada King" in client.get(DASHBOARD).content.decode()


def test_a_queryset_update_shows_once_users_changed_is_called():
    user = UserFactory(username="ada", full_name="Ada Lovelace")
    client = _signed_in(user)
    client.get(DASHBOARD)

    User.objects.filter(pk=user.pk).update(full_name="Ada King")
    users_changed()

    assert "Welcome, Ada King" in client.get(DASHBOARD).content.decode()


def test_a_deactivated_account_is_signed_out_on_its_next_request():
    user = UserFactory(username="ada")
    client = _signed_in(user)
    assert client.get(DASHBOARD).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_new_password_signs_out_the_other_sessions_even_with_a_current_copy():
    user = UserFactory(username="ada")
    laptop, phone = _signed_in(user), _signed_in(user)
    laptop.get(DASHBOARD)
    phone.get(DASHBOARD)

    response = laptop.post(
        "/accounts/password_change/",
        {"old_password": "correct horse battery staple", "new_password1": "a much longer new secret 42",
         "new_password2": "a much longer new secret 42"},
    )
    assert response.status_code == 302

    assert laptop.get(DASHBOARD).status_code == 200  # the session that changed it stays signed in
    assert phone.get(DASHBOARD).status_code == 302


def test_a_session_whose_hash_does_not_match_the_copy_is_checked_by_django():
    user = UserFactory(username="ada")
    client = _signed_in(user)
    client.get(DASHBOARD)
    session = client.session
    session["_auth_user_hash"] = "0" * 64  # e.g. a session from before a password change elsewhere
    session.save()

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session  # Django flushed it, as it would without copies


def test_signing_in_does_not_empty_every_process_copies():
    ada = UserFactory(username="ada")
    client = _signed_in(ada)
    client.get(DASHBOARD)
    before = page_cache.current_generation("users")

    assert Client().post("/accounts/login/", {"username": "ada", "password": "correct horse battery staple"})

    assert User.objects.get(pk=ada.pk).last_login is not None
    assert page_cache.current_generation("users") == before
    assert _user_queries(client)[0] == 0


def test_every_request_gets_its_own_instance(rf):
    from django.contrib.sessions.middleware import SessionMiddleware

    from accounts.signed_in import signed_in_user

    client = _signed_in(UserFactory(username="ada", full_name="Ada Lovelace"))
    client.get(DASHBOARD)
    requests = []
    for _ in range(2):
        request = rf.get(DASHBOARD)
        request.COOKIES.update({name: morsel.value for name, morsel in client.cookies.items()})
        SessionMiddleware(lambda r: None).process_request(request)
        requests.append(request)

    first, second = (signed_in_user(request) for request in requests)
    first.full_name = "changed in one request only"

    assert first.pk == second.pk and first is not second
    assert second.full_name == "Ada Lovelace"


def test_without_the_cache_the_copy_is_not_used(settings):
    client = _signed_in(UserFactory(username="ada"))
    client.get(DASHBOARD)
    settings.SIGNED_IN_USER_COPY_SECONDS = 0

    assert _user_queries(client)[0] == 1


def test_a_request_reads_all_generation_tokens_in_one_round_trip(monkeypatch):
    client = _signed_in(UserFactory(username="ada"))
    client.get(DASHBOARD)
    trips, inside_get_many = [], []
    real_get, real_get_many = cache.get, cache.get_many

    def get(key, *args, **kwargs):
        if not inside_get_many:  # the local-memory cache's get_many calls get once per key
            trips.append(key)
        return real_get(key, *args, **kwargs)

    def get_many(keys, *args, **kwargs):
        trips.append(tuple(keys))
        inside_get_many.append(True)
        try:
            return real_get_many(keys, *args, **kwargs)
        finally:
            inside_get_many.pop()

    monkeypatch.setattr(cache, "get", get)
    monkeypatch.setattr(cache, "get_many", get_many)

    client.get(DASHBOARD)

    generation_trips = [trip for trip in trips if "generation" in str(trip)]
    assert len(generation_trips) == 1, trips
    assert set(generation_trips[0]) == {f"page-cache:generation:{ns}" for ns in page_cache.NAMESPACES}
