"""While a reader's first run of an experiment is under way, its panel says so instead of inviting a first run.

No worker runs here: the run is really queued (in-memory broker) and the test moves it along in the database, as a
worker would, while the page follows it.
"""
from __future__ import annotations

import re

import pytest

from tests.support.browser import expect, sign_in

pytestmark = pytest.mark.urls("tests.support.chart_urls")


def test_the_panel_stops_inviting_a_first_run_once_the_readers_run_is_queued(context, page, live_server, learner):
    from experiments import selectors
    from experiments.models import ExperimentRun

    selectors.note_broker_reachable(True)  # the in-memory test broker: runs are accepted and wait for a worker
    sign_in(context, live_server.url, learner)
    page.goto("/chart/long-range-recall/")
    panel = page.locator("section.experiment-panel[data-experiment='long-range-recall']")
    meta = panel.locator("[data-role=meta]")
    expect(meta).to_contain_text("Be the first")

    panel.get_by_role("button", name="Run on this server").click()

    expect(meta).to_contain_text(re.compile(r"No finished run yet: your run #\d+ is in progress"))
    expect(meta).not_to_contain_text("Be the first")
    run = ExperimentRun.objects.get(started_by=learner)
    ExperimentRun.objects.filter(pk=run.pk).update(status=ExperimentRun.Status.RUNNING, progress=0.5)
    expect(panel.locator("[data-role=progress]")).to_have_attribute("value", "50")
    expect(meta).to_have_text(f"No finished run yet: your run #{run.pk} is in progress, and its chart will appear "
                              "here when it is done.")
