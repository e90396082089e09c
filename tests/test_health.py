import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz?workers=0")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok"
    assert data["database"]["ok"] is True
    assert data["broker"]["ok"] is True


def test_healthz_is_503_when_the_broker_is_down(client, settings, monkeypatch):
    from config import health

    monkeypatch.setattr(health, "check_broker", lambda timeout=1.0: {"ok": False, "error": "refused"})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == {"ok": False, "error": "refused"}
