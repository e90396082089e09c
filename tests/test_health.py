"""/healthz: a cheap public liveness answer; the detailed report for staff and monitors with the token."""
import threading
import time

import pytest

from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_public_healthz_says_only_ok_or_not_for_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": {"ok": True}, "broker": {"ok": True}}


def test_public_healthz_never_pings_workers_or_shows_errors(client, monkeypatch):
    from core import health

    monkeypatch.setattr(health, "check_workers", lambda timeout=0.5: pytest.fail("public health pinged workers"))
    monkeypatch.setattr(health, "check_broker", lambda timeout=1.0: {"ok": False, "error": "redis.internal:6379 refused"})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "redis.internal" not in response.content.decode()
    assert response.json()["broker"] == {"ok": False}


def test_staff_see_the_detailed_report(client, monkeypatch):
    from core import health

    monkeypatch.setattr(health, "check_broker", lambda timeout=1.0: {"ok": False, "error": "refused"})
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == {"ok": False, "error": "refused"}


def test_a_monitor_with_the_token_sees_the_detailed_report_and_a_wrong_token_does_not(client, settings):
    settings.HEALTHZ_TOKEN = "s3cret-monitor-token"
    detailed = client.get("/healthz?workers=0", HTTP_AUTHORIZATION="Bearer s3cret-monitor-token").json()
    assert detailed["database"]["vendor"] and "workers" in detailed
    public = client.get("/healthz", HTTP_AUTHORIZATION="Bearer wrong").json()
    assert "workers" not in public and "vendor" not in public["database"]


def test_concurrent_public_checks_do_not_queue_behind_a_slow_broker(client, monkeypatch):
    from core import health

    client.get("/healthz")  # a first answer exists
    monkeypatch.setattr(health, "check_broker", lambda timeout=1.0: (time.sleep(1.0), {"ok": True})[1])
    slow = threading.Thread(target=health._public_status)
    slow.start()
    time.sleep(0.1)  # the slow probe holds the lock now
    started = time.perf_counter()
    response = client.get("/healthz")
    elapsed = time.perf_counter() - started
    slow.join()
    assert response.status_code == 200
    assert elapsed < 0.5  # answered with the last result, not after the probe
