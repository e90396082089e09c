"""A learner runs a tiny live experiment from the lesson page: a real Celery worker on real Redis measures it, the
page shows the progress bar and then the Plotly chart, without a reload."""
import re

import pytest

from tests.support.browser import expect, screenshot, sign_in
from tests.support.experiments import celery_broker
from tests.support.paths import COURSE_URL_PATH

pytestmark = pytest.mark.redis

# sequence-latency at toy sizes, typed into the panel's form: a few seconds of work for the worker.
TINY_RUN = {
    "hidden": "16",
    "heads": "2",
    "rnn_layers": "1",
    "transformer_layers": "1",
    "vocab": "16",
    "batch_sizes": "1",
    "seq_lens": "2, 4",
    "min_run_time": "0.05",
    "gemm_size": "64",
}

RECORD_PROGRESS = """panel => {
  window.progressSeen = [];
  const bar = panel.querySelector('[data-role=progress]');
  new MutationObserver(() => window.progressSeen.push(Number(bar.value)))
    .observe(bar, { attributes: true, attributeFilter: ['value'] });
  window.sameDocument = true;
}"""


def test_learner_runs_a_tiny_experiment_and_sees_progress_then_the_chart(
    site, context, page, learner, celery_worker_process
):
    from experiments.models import ExperimentRun

    sign_in(context, site.url, learner)
    with celery_broker(celery_worker_process["broker_url"]):
        page.goto(COURSE_URL_PATH + "the-problem-with-rnns/")
        panel = page.locator("section.experiment-panel[data-experiment='sequence-latency']")
        panel.scroll_into_view_if_needed()
        expect(panel.get_by_role("button", name="Run on this server")).to_be_enabled()

        panel.get_by_text("Parameters", exact=True).click()
        form = panel.locator("form[data-role=form]")
        for name, value in TINY_RUN.items():
            form.locator(f"[name={name}]").fill(value)
        form.locator("[name=device]").select_option("cpu")
        panel.evaluate(RECORD_PROGRESS)

        panel.get_by_role("button", name="Run on this server").click()
        expect(panel.locator("[data-role=progress-box]")).to_be_visible()
        expect(panel.get_by_role("button", name="Run on this server")).to_be_disabled()
        expect(panel.get_by_role("status")).to_contain_text(re.compile(r"Run #\d+ is (queued|running)"))

        chart = panel.locator("[data-role=chart] svg.main-svg").first
        expect(chart).to_be_attached(timeout=120_000)
        expect(panel.get_by_role("status")).to_contain_text(re.compile(r"Run #\d+ finished"))

    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"
    assert 100 in page.evaluate("window.progressSeen"), "the progress bar never reached 100 %"
    expect(panel.locator("[data-role=progress-box]")).to_be_hidden()
    expect(panel.get_by_role("button", name="Run on this server")).to_be_enabled()
    expect(panel.locator("[data-role=meta]")).to_contain_text("Latest run")
    assert panel.locator("[data-role=table] tbody tr").count() > 0

    run = ExperimentRun.objects.get(started_by=learner)
    assert run.status == ExperimentRun.Status.SUCCEEDED, run.error
    assert run.params["seq_lens"] == [2, 4] and run.params["hidden"] == 16
    panel.get_by_text("Parameters", exact=True).click()  # fold the form away again
    panel.evaluate("element => element.scrollIntoView({block: 'start'})")
    screenshot(page, "experiment-chart")
