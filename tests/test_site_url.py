"""Absolute links come from SITE_URL: a request on another host is logged, and staff are told."""
from __future__ import annotations

import logging
import uuid

import pytest

from tests.support.factories import UserFactory


@pytest.fixture
def other_host(settings):
    settings.ALLOWED_HOSTS = ["*"]
    return "127.0.0.1:8770"


def test_a_request_on_another_host_than_site_url_is_logged_once(client, course, other_host, caplog):
    fresh_host = f"127.0.0.1:{uuid.uuid4().int % 50000 + 10000}"  # never seen by this process before
    with caplog.at_level(logging.WARNING, logger="core.middleware"):
        client.get("/about/", HTTP_HOST=fresh_host)
        client.get("/about/", HTTP_HOST=fresh_host)
    warnings = [r for r in caplog.records if "SITE_URL" in r.getMessage() and fresh_host in r.getMessage()]
    assert len(warnings) == 1


def test_staff_see_a_notice_when_the_host_differs_from_site_url(client, course, other_host):
    client.force_login(UserFactory(is_staff=True))
    html = client.get("/about/", HTTP_HOST=other_host).content.decode()
    assert "Staff notice" in html and other_host in html and "https://academy.example.org" in html


def test_readers_never_see_the_staff_notice(client, course, other_host):
    client.force_login(UserFactory())
    assert "Staff notice" not in client.get("/about/", HTTP_HOST=other_host).content.decode()
    client.logout()
    assert "Staff notice" not in client.get("/about/", HTTP_HOST=other_host).content.decode()


def test_no_notice_when_the_host_is_site_url(client, course, settings):
    settings.ALLOWED_HOSTS = ["academy.example.org"]
    client.force_login(UserFactory(is_staff=True))
    assert "Staff notice" not in client.get("/about/", HTTP_HOST="academy.example.org").content.decode()


def test_make_run_serves_with_its_own_address_as_site_url():
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "scripts" / "dev.sh").read_text()
    assert "export SITE_URL=${SITE_URL:-http://$HOST:$PORT}" in script
