"""Sentry error reporting: off without SENTRY_DSN, on (Django + Celery, no personal data) with it.

Each case loads the settings in a fresh process, as gunicorn or a worker would, because initialising the SDK
is global and must not leak into this test process. Nothing is sent anywhere: the DSN points at a closed port
and the probe swaps the client's transport for one that only records.
"""
import json
import os
import subprocess
import sys

from tests.support.paths import REPO

PROBE = r"""
import json, sys
imported_before_setup = "sentry_sdk" in sys.modules
import django
django.setup()
sentry_imported_by_settings = "sentry_sdk" in sys.modules
import sentry_sdk
from sentry_sdk.transport import Transport

client = sentry_sdk.get_client()
envelopes = []


class RecordingTransport(Transport):
    def capture_envelope(self, envelope):
        envelopes.append(envelope)


report = {"imported": sentry_imported_by_settings, "active": client.is_active(), "events": []}
if client.is_active():
    client.transport = RecordingTransport(client.options)
    from config.celery import app

    @app.task(name="tests.observability.boom")
    def boom():
        raise ValueError("boom from a task")

    boom.apply()
    client.flush(timeout=5)
    report.update(
        dsn=client.dsn,
        integrations=sorted(client.integrations),
        send_default_pii=client.options["send_default_pii"],
        environment=client.options["environment"],
        release=client.options["release"],
        traces_sample_rate=client.options["traces_sample_rate"],
        events=[item.payload.json for envelope in envelopes for item in envelope.items if item.type == "event"],
    )
print(json.dumps(report))
"""

FAKE_DSN = "https://public@127.0.0.1:9/1"  # nothing listens on port 9, and the probe never sends anyway


def probe(tmp_path, **sentry_env: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SENTRY_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", TA_VAR_DIR=str(tmp_path), **sentry_env)
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_sentry_dsn_the_sdk_is_neither_imported_nor_initialised(tmp_path):
    report = probe(tmp_path, SENTRY_ENVIRONMENT="staging")

    assert report == {"imported": False, "active": False, "events": []}


def test_with_sentry_dsn_django_and_celery_report_to_sentry_without_personal_data(tmp_path):
    report = probe(tmp_path, SENTRY_DSN=FAKE_DSN, SENTRY_ENVIRONMENT="staging", SENTRY_RELEASE="academy@1.2.3",
                   SENTRY_TRACES_SAMPLE_RATE="0.25")

    assert report["active"] is True
    assert report["dsn"] == FAKE_DSN
    assert {"django", "celery"} <= set(report["integrations"])
    assert report["send_default_pii"] is False
    assert report["environment"] == "staging"
    assert report["release"] == "academy@1.2.3"
    assert report["traces_sample_rate"] == 0.25
    [event] = report["events"]  # the failing task, once: not again through the task's log line
    [exception] = event["exception"]["values"]
    assert exception["type"] == "ValueError" and exception["value"] == "boom from a task"
    assert exception["mechanism"]["type"] == "celery"
    assert event["environment"] == "staging" and event["release"] == "academy@1.2.3"


def test_with_sentry_dsn_but_no_sample_rate_nothing_is_traced(tmp_path):
    report = probe(tmp_path, SENTRY_DSN=FAKE_DSN)

    assert report["active"] is True
    assert report["traces_sample_rate"] == 0
    assert report["environment"] == "production"
