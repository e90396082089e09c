"""Lesson pages embed live experiment panels (checked in the HTML, no browser)."""
from __future__ import annotations

import json
import re
import types

import pytest
from django.contrib.staticfiles import finders

from experiments import catalog, selectors
from experiments.bench.chart_layout import normalise_figure
from tests.support.experiments import celery_broker, post_run
from tests.support.factories import SMALL_FIGURE, SMALL_RESULT, ExperimentRunFactory, LessonFactory

pytestmark = pytest.mark.django_db

LESSON_BODY = "## Measuring it\n\nRun it yourself:\n\n```experiment\nname: sequence-latency\n```\n\nMore text.\n"


@pytest.fixture
def lesson():
    return LessonFactory(body=LESSON_BODY, slug="latency-lesson", module__course__slug="transformers-architecture")


def panel_html(response) -> str:
    html = response.content.decode()
    match = re.search(r'<section class="experiment-panel".*?</section>', html, re.S)
    assert match, "the lesson page has an experiment panel"
    return match.group(0)


def test_lesson_page_embeds_the_panel_with_the_latest_runs_chart_json_and_data_table(client, lesson):
    ExperimentRunFactory(succeeded=True, figure={"data": [], "layout": {}})  # an older run
    run = ExperimentRunFactory(succeeded=True)

    response = client.get(lesson.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    panel = panel_html(response)
    assert 'id="experiment-sequence-latency"' in panel
    figure_script = re.search(
        r'<script id="experiment-sequence-latency-figure" type="application/json">(.*?)</script>', html, re.S
    )
    assert figure_script, "the figure is embedded with json_script"
    embedded = json.loads(figure_script.group(1))
    assert embedded == normalise_figure(SMALL_FIGURE)  # runs stored before the chart layout get it too
    assert [trace["name"] for trace in embedded["data"]] == ["LSTM (measured)", "lesson claims"]
    assert f"Latest run (#{run.pk}) measured on <strong>Test CPU 3000</strong>" in panel
    # The stored table uses code names; the reader sees the chart's words.
    assert '<th scope="col">Median time per call (ms)</th>' in panel and "median_ms" not in panel
    assert "<td>LSTM</td><td>50</td><td>6.25</td>" in panel
    assert 'src="/static/js/experiments.js"' in html
    assert 'data-plotly-src="/static/vendor/plotly/plotly.min.js"' in panel


def test_lesson_page_says_no_run_yet_before_anyone_ran_the_experiment(client, lesson):
    panel = panel_html(client.get(lesson.get_absolute_url()))

    assert "No run yet" in panel
    assert "application/json" not in panel


def test_anonymous_readers_see_results_and_a_sign_in_link_but_no_run_form(client, lesson):
    ExperimentRunFactory(succeeded=True)

    panel = panel_html(client.get(lesson.get_absolute_url()))

    assert "<form" not in panel
    assert "Sign in</a> to run this experiment" in panel
    assert "/accounts/login/?next=/courses/transformers-architecture/latency-lesson/%23experiment-sequence-latency" in panel


def test_signed_in_readers_get_a_real_form_with_labelled_bounded_inputs(signed_in_client, lesson):
    panel = panel_html(signed_in_client.get(lesson.get_absolute_url()))

    assert '<form class="form experiment-form" method="post" action="/experiments/runs/"' in panel
    assert 'name="csrfmiddlewaretoken"' in panel
    assert "<legend>Parameters for a run on this server</legend>" in panel
    bounds = next(field for field in catalog.param_schema("sequence-latency", "cpu") if field["name"] == "hidden")
    hidden = re.search(r'<input type="number" id="experiment-sequence-latency-hidden"[^>]*>', panel).group(0)
    assert 'name="hidden"' in hidden and 'step="1"' in hidden
    assert f'min="{bounds["min"]}"' in hidden and f'max="{bounds["max"]}"' in hidden
    assert '<label for="experiment-sequence-latency-hidden">' in panel
    assert '<select id="experiment-sequence-latency-mode" name="mode"' in panel
    assert re.search(r'<input type="text" id="experiment-sequence-latency-seq-lens" name="seq_lens" value="[0-9, ]+"',
                     panel)
    assert ">Run on this server</button>" in panel
    assert '<progress id="experiment-sequence-latency-progress"' in panel
    assert 'role="status" aria-live="polite"' in panel


def test_a_readers_run_in_progress_is_shown_and_followed_after_a_reload(signed_in_client, user, lesson):
    run = ExperimentRunFactory(running=True, started_by=user, progress=0.42)

    panel = panel_html(signed_in_client.get(lesson.get_absolute_url()))

    assert f'data-active-run-url="/experiments/runs/{run.pk}/"' in panel
    assert 'value="42"' in panel
    assert f"Your run #{run.pk} is running: lstm batch 1 length 10." in panel
    assert re.search(r'data-role="run-button"\s+disabled', panel)


def test_while_a_readers_first_run_is_in_progress_the_panel_no_longer_invites_a_first_run(
    signed_in_client, user, lesson
):
    run = ExperimentRunFactory(running=True, started_by=user, progress=0.42)

    panel = panel_html(signed_in_client.get(lesson.get_absolute_url()))

    assert "Be the first" not in panel and "nobody has run" not in panel
    assert f"No finished run yet: your run #{run.pk} is in progress" in panel
    assert "data-empty" in panel  # the script keeps this line current while it follows the run


def test_notes_are_rendered_as_markdown_and_sanitised(client, lesson):
    result = {**SMALL_RESULT, "notes": ["The *total* gradient norm, `float32`.", "<script>alert(1)</script> ok"]}
    ExperimentRunFactory(succeeded=True, result=result)

    panel = panel_html(client.get(lesson.get_absolute_url()))

    assert "<li>The <em>total</em> gradient norm, <code>float32</code>.</li>" in panel
    assert "<script>alert" not in panel and "&lt;script&gt;alert(1)&lt;/script&gt; ok" in panel


def test_the_run_api_sends_the_notes_as_the_panel_shows_them(client):
    result = {**SMALL_RESULT, "notes": ["Times are **medians**."]}
    run = ExperimentRunFactory(succeeded=True, result=result)

    body = client.get(f"/experiments/runs/{run.pk}/").json()

    assert body["notes_html"] == ["Times are <strong>medians</strong>."]
    assert body["result"]["notes"] == ["Times are **medians**."]


def test_an_unknown_experiment_name_renders_a_notice_not_an_error(client):
    lesson = LessonFactory(body="```experiment\nname: warp-drive\n```\n", slug="typo-lesson")

    response = client.get(lesson.get_absolute_url())

    assert response.status_code == 200
    assert "This server has no experiment named <code>warp-drive</code>" in response.content.decode()


def test_module_one_embeds_all_three_experiments(client, course):
    html = client.get("/courses/transformers-architecture/the-problem-with-rnns/").content.decode()

    for name in ("sequence-latency", "gradient-flow", "long-range-recall"):
        assert f'<section class="experiment-panel" id="experiment-{name}"' in html
    assert html.count('src="/static/js/experiments.js"') == 1


def test_module_five_embeds_the_length_extrapolation_experiment(client, course):
    html = client.get("/courses/transformers-architecture/positional-encoding/").content.decode()

    assert '<section class="experiment-panel" id="experiment-length-extrapolation"' in html


def test_module_four_embeds_the_attention_heads_panel(client, course):
    html = client.get("/courses/transformers-architecture/multi-head-attention/").content.decode()

    assert '<section class="experiment-panel" id="experiment-attention-heads"' in html


def test_plotly_js_is_served_from_our_own_static_files(client):
    path = finders.find("vendor/plotly/plotly.min.js")

    assert path and path.endswith("plotly/package_data/plotly.min.js")
    response = client.get("/static/vendor/plotly/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly.js" in b"".join(response.streaming_content)[:2000]


# --- When runs cannot be started (the broker is down) -----------------------------------------------------

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def _fresh_broker_answers(monkeypatch):
    """Each test starts with nothing remembered about any broker's health."""
    monkeypatch.setattr(selectors, "_broker_answers", {})


def broker_must_not_be_asked(monkeypatch):
    def fail(timeout=1.0):
        raise AssertionError("the broker was asked")

    monkeypatch.setattr(selectors, "check_broker", fail)


def test_with_the_broker_down_signed_in_readers_see_that_runs_are_unavailable_and_the_latest_results(
        signed_in_client, lesson):
    run = ExperimentRunFactory(succeeded=True)

    with celery_broker(DEAD_BROKER):
        response = signed_in_client.get(lesson.get_absolute_url())

    panel = panel_html(response)
    assert "Experiment runs are unavailable right now; the results below are the latest measured." in panel
    assert "<form" not in panel and "Run on this server" not in panel
    assert f"Latest run (#{run.pk}) measured on" in panel
    assert 'id="experiment-sequence-latency-figure"' in response.content.decode()
    assert "<td>6.25</td>" in panel


def test_with_the_broker_down_and_no_run_yet_the_panel_does_not_invite_a_run(signed_in_client, lesson):
    with celery_broker(DEAD_BROKER):
        panel = panel_html(signed_in_client.get(lesson.get_absolute_url()))

    assert "Experiment runs are unavailable right now; please try again later." in panel
    assert "Be the first" not in panel


def test_anonymous_lesson_pages_never_ask_the_broker(client, lesson, monkeypatch):
    broker_must_not_be_asked(monkeypatch)

    panel = panel_html(client.get(lesson.get_absolute_url()))

    assert "Sign in</a> to run this experiment" in panel
    assert "unavailable" not in panel


def test_the_broker_is_asked_at_most_once_per_few_seconds_per_process(monkeypatch):
    asked = []
    clock = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(selectors, "time", types.SimpleNamespace(monotonic=lambda: clock.now))
    monkeypatch.setattr(selectors, "check_broker", lambda timeout=1.0: asked.append(timeout) or {"ok": False})

    answers = [selectors.runs_available() for _ in range(3)]
    clock.now += selectors.RUNS_AVAILABLE_TTL_S - 0.1
    answers.append(selectors.runs_available())
    clock.now += 0.2
    answers.append(selectors.runs_available())

    assert answers == [False] * 5
    assert asked == [selectors.RUNS_AVAILABLE_TIMEOUT_S] * 2
    assert selectors.RUNS_AVAILABLE_TIMEOUT_S <= 1


def test_a_failed_publish_turns_the_run_button_off_at_once_and_a_successful_one_back_on(
        signed_in_client, lesson, tiny_params, monkeypatch):
    with celery_broker(DEAD_BROKER):
        selectors.note_broker_reachable(True)  # as if the last check, a moment ago, had found it up
        assert "Run on this server</button>" in panel_html(signed_in_client.get(lesson.get_absolute_url()))
        assert post_run(signed_in_client, "sequence-latency", tiny_params).status_code == 503
        broker_must_not_be_asked(monkeypatch)  # the failed publish is the answer for the next few seconds

        assert "Experiment runs are unavailable right now" in panel_html(signed_in_client.get(lesson.get_absolute_url()))

    selectors.note_broker_reachable(False)
    assert post_run(signed_in_client, "sequence-latency", {**tiny_params, "hidden": 32}).status_code == 202
    assert "Run on this server</button>" in panel_html(signed_in_client.get(lesson.get_absolute_url()))


@pytest.mark.parametrize("order", range(1, 8))
def test_every_module_page_shows_a_live_experiment_panel_of_its_own(client, course, order):
    from experiments.bench.registry import EXPERIMENTS

    def panels_of(module) -> set[str]:
        html = client.get(module.lesson.get_absolute_url()).content.decode()
        ids = re.findall(r'<section class="experiment-panel" id="experiment-([a-z0-9-]+)"', html)
        return {re.sub(r"-\d+$", "", panel_id) if panel_id not in EXPERIMENTS else panel_id for panel_id in ids}

    panels = panels_of(course.modules.get(order=order))
    assert panels and panels <= set(EXPERIMENTS)
    others = set().union(*(panels_of(other) for other in course.modules.exclude(order=order)))
    assert panels - others, f"module {order} shows only experiments that other modules show too: {panels}"
