"""Every registered experiment's chart reads well on a phone and on a laptop.

Each experiment is run for real at toy sizes (once per test session), its stored result is shown in a real panel
(``tests.support.chart_urls``), and Chromium draws it at 390x844 and at 1366x768. Then every text box of the
chart's SVG (title, subplot and axis titles, tick labels, legend entries, annotations) must stay clear of every
other one and inside the chart's own box. A newly registered experiment is covered as soon as it has an entry in
``TINY_PARAMS`` (tests/support/charts.py).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from experiments.bench import registry
from tests.support.browser import BrowserErrors
from tests.support.charts import open_chart, show_tiny_run, wait_for_layout
from tests.support.factories import ExperimentRunFactory
from tests.support.paths import REPO

pytestmark = pytest.mark.urls("tests.support.chart_urls")

VIEWPORTS = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 768}}
# Text boxes are font boxes (ascent to descent), a little taller than the ink: edges may touch by this much.
TOLERANCE_PX = 2.0
SCREENSHOT_DIR = Path(os.environ.get("CHART_SCREENSHOT_DIR") or REPO / "screenshots" / "charts")

TEXT_BOXES = """chart => {
  const host = chart.getBoundingClientRect();
  // Plotly's classes: g.gtitle, g.g-xtitle / g.g-y2title, g.xtick / g.x3tick, g.legend, g.annotation.
  const kinds = [[/^g?-?gtitle$/, "title"], [/^annotation$/, "annotation"], [/^legend$/, "legend"],
                 [/^[xy]\\d*tick$/, "tick label"], [/^g-[xy]\\d*title$/, "axis title"]];
  function kindOf(node) {
    for (let el = node; el && el !== chart; el = el.parentElement) {
      const classes = ((el.getAttribute && el.getAttribute("class")) || "").split(/\\s+/);
      for (const [pattern, kind] of kinds) if (classes.some(c => pattern.test(c))) return kind;
    }
    return "text";
  }
  const boxes = [];
  chart.querySelectorAll("svg.main-svg text").forEach(node => {
    if (node.closest(".hoverlayer") || !node.textContent.trim()) return;
    const style = getComputedStyle(node);
    if (style.display === "none" || style.visibility === "hidden" || Number(style.opacity) === 0) return;
    const r = node.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    boxes.push({text: node.textContent, kind: kindOf(node), left: r.left - host.left, top: r.top - host.top,
                right: r.right - host.left, bottom: r.bottom - host.top});
  });
  return {width: host.width, height: host.height, boxes: boxes};
}"""


def _label(box: dict) -> str:
    return f"{box['kind']} {box['text']!r} at ({box['left']:.0f},{box['top']:.0f})-({box['right']:.0f},{box['bottom']:.0f})"


def layout_problems(measured: dict, tolerance: float = TOLERANCE_PX) -> list[str]:
    """Pairs of overlapping text boxes, and text boxes that leave the chart, one line each."""
    problems = []
    boxes = measured["boxes"]
    for box in boxes:
        if (box["left"] < -tolerance or box["top"] < -tolerance or box["right"] > measured["width"] + tolerance
                or box["bottom"] > measured["height"] + tolerance):
            problems.append(f"outside the {measured['width']:.0f}x{measured['height']:.0f} chart: {_label(box)}")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap_x = min(a["right"], b["right"]) - max(a["left"], b["left"])
            overlap_y = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if overlap_x > tolerance and overlap_y > tolerance:
                problems.append(f"overlap: {_label(a)} and {_label(b)}")
    return problems


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(registry.EXPERIMENTS))
def test_chart_text_never_overlaps_nor_leaves_the_chart(
    name, viewport, tiny_results, browser, live_server, transactional_db
):
    show_tiny_run(name, tiny_results)
    errors = BrowserErrors()
    with open_chart(browser, live_server, VIEWPORTS[viewport], name, errors) as (_page, chart):
        chart.locator("svg.main-svg").first.wait_for(state="attached")
        measured = chart.evaluate(TEXT_BOXES)
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        chart.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{viewport}.png"))
    assert not errors.unexpected(), "the browser reported errors:\n" + "\n".join(errors.unexpected())
    assert len(measured["boxes"]) > 5, f"the chart drew almost no text: {measured['boxes']}"
    problems = layout_problems(measured)
    assert not problems, f"{name} at {viewport}px wide:\n" + "\n".join(problems)


def test_a_chart_is_laid_out_again_when_the_window_narrows(tiny_results, browser, live_server, transactional_db):
    """Side by side on a laptop; after the window shrinks to a phone's width, stacked (and still clear)."""
    name = "gradient-flow"
    show_tiny_run(name, tiny_results)
    errors = BrowserErrors()
    with open_chart(browser, live_server, VIEWPORTS["1366"], name, errors) as (page, chart):
        subplots = chart.locator("g.cartesianlayer > g.subplot")
        wide = [subplots.nth(i).bounding_box() for i in range(subplots.count())]
        page.set_viewport_size(VIEWPORTS["390"])
        wait_for_layout(page, chart)
        narrow = [subplots.nth(i).bounding_box() for i in range(subplots.count())]
        measured = chart.evaluate(TEXT_BOXES)
    assert len(wide) == len(narrow) == 2
    assert wide[1]["x"] > wide[0]["x"] + wide[0]["width"], "side by side at 1366 px"
    assert narrow[1]["y"] > narrow[0]["y"] + narrow[0]["height"], "one below the other at 390 px"
    assert not layout_problems(measured), "\n".join(layout_problems(measured))
    assert not errors.unexpected(), "\n".join(errors.unexpected())


def attention_heatmaps_figure(result: dict) -> dict:
    """Not a registered experiment: the kind of figure an attention experiment draws (two heatmaps with colour
    bars and word labels, side by side), to show that the layout handles more than the three line charts."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from experiments.bench.charts import to_json_dict

    tokens = result["tokens"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Head 1: attention weights", "Head 2: attention weights"])
    for col, weights in enumerate(result["heads"], start=1):
        fig.add_trace(go.Heatmap(z=weights, x=tokens, y=tokens, colorscale="Blues", zmin=0, zmax=1,
                                 colorbar={"title": {"text": "weight"}}), row=1, col=col)
        fig.update_xaxes(title_text="Key token", row=1, col=col)
        fig.update_yaxes(title_text="Query token", autorange="reversed", row=1, col=col)
    fig.update_layout(title={"text": "Where each token looks<br><sup>softmax(QK^T / sqrt(d)) of a 2-head layer</sup>"})
    return to_json_dict(fig)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_figure_with_side_by_side_heatmaps_and_colour_bars_is_laid_out_too(
    viewport, browser, live_server, transactional_db, monkeypatch
):
    from experiments import catalog

    name = "attention-heatmaps-example"
    monkeypatch.setitem(registry.EXPERIMENTS, name, registry.Experiment(
        name=name, title="Attention heatmaps (layout example)", description="", config_cls=object,
        run_path="", figure_path=f"{__name__}:attention_heatmaps_figure",
    ))
    catalog.experiment_names.cache_clear()
    # Enough words that a phone has to turn the key-token labels sideways.
    tokens = ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "while", "everyone", "sleeps"]
    n = len(tokens)
    heads = [[[1.0 / (i + 1) if j <= i else 0.0 for j in range(n)] for i in range(n)],
             [[1.0 if j == i else 0.0 for j in range(n)] for i in range(n)]]
    result = {"tokens": tokens, "heads": heads, "environment": {"device": "cpu"}}
    ExperimentRunFactory(experiment=name, params={}, succeeded=True, result=result,
                         figure=attention_heatmaps_figure(result))
    errors = BrowserErrors()
    try:
        with open_chart(browser, live_server, VIEWPORTS[viewport], name, errors) as (_page, chart):
            measured = chart.evaluate(TEXT_BOXES)
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            chart.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{viewport}.png"))
    finally:
        catalog.experiment_names.cache_clear()
    assert not errors.unexpected(), "\n".join(errors.unexpected())
    problems = layout_problems(measured)
    assert not problems, f"heatmaps at {viewport}px wide:\n" + "\n".join(problems)


def ranked_bars_figure(result: dict) -> dict:
    """Not a registered experiment: two bar charts side by side whose category labels are far wider than a number."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from experiments.bench.charts import to_json_dict

    fig = make_subplots(rows=1, cols=2, subplot_titles=["Test accuracy", "Training time"])
    for col, key in enumerate(("accuracy", "seconds"), start=1):
        fig.add_trace(go.Bar(x=result[key], y=result["models"], orientation="h", name=key), row=1, col=col)
    fig.update_xaxes(title_text="Test accuracy", row=1, col=1)
    fig.update_xaxes(title_text="Training time (s)", row=1, col=2)
    fig.update_layout(title={"text": "Models ranked"}, showlegend=False)
    return to_json_dict(fig)


def test_side_by_side_subplots_make_room_for_labels_wider_than_estimated(
    browser, live_server, transactional_db, monkeypatch
):
    """The second bar chart's model names must not be printed over the first chart's bars."""
    from experiments import catalog

    name = "ranked-bars-example"
    monkeypatch.setitem(registry.EXPERIMENTS, name, registry.Experiment(
        name=name, title="Ranked bars (layout example)", description="", config_cls=object,
        run_path="", figure_path=f"{__name__}:ranked_bars_figure",
    ))
    catalog.experiment_names.cache_clear()
    result = {"models": ["Transformer (causal, sinusoidal PE)", "LSTM, forget bias +3", "RNN (tanh)"],
              "accuracy": [0.98, 0.61, 0.13], "seconds": [4.2, 3.1, 1.2], "environment": {"device": "cpu"}}
    ExperimentRunFactory(experiment=name, params={}, succeeded=True, result=result, figure=ranked_bars_figure(result))
    errors = BrowserErrors()
    try:
        with open_chart(browser, live_server, VIEWPORTS["1366"], name, errors) as (_page, chart):
            first_plot_right, second_labels_left = chart.evaluate("""el => {
              const x = el._fullLayout.xaxis;
              const host = el.getBoundingClientRect();
              const lefts = [...el.querySelectorAll(".yaxislayer-above .y2tick text")]
                .map(n => n.getBoundingClientRect().left - host.left);
              return [x._offset + x._length, Math.min(...lefts)];
            }""")
            measured = chart.evaluate(TEXT_BOXES)
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            chart.screenshot(path=str(SCREENSHOT_DIR / f"{name}-1366.png"))
    finally:
        catalog.experiment_names.cache_clear()
    assert not errors.unexpected(), "\n".join(errors.unexpected())
    assert second_labels_left >= first_plot_right, (first_plot_right, second_labels_left)
    assert not layout_problems(measured), "\n".join(layout_problems(measured))


def test_layout_check_sees_an_overlap_and_text_outside_the_chart():
    boxes = [
        {"text": "a", "kind": "x title", "left": 10, "top": 10, "right": 60, "bottom": 22},
        {"text": "b", "kind": "legend", "left": 50, "top": 15, "right": 90, "bottom": 27},
        {"text": "c", "kind": "title", "left": 200, "top": 0, "right": 420, "bottom": 12},
    ]
    problems = layout_problems({"width": 400, "height": 300, "boxes": boxes})
    assert len(problems) == 2
    assert problems[0].startswith("outside") and "'c'" in problems[0]
    assert problems[1].startswith("overlap") and "'a'" in problems[1] and "'b'" in problems[1]


def test_a_stacked_bar_chart_of_names_does_not_borrow_a_neighbours_axis_title(
    tiny_results, browser, live_server, transactional_db
):
    """On a phone the subplots stack, and an untitled axis borrows the title of its column's titled axis (shared
    axes); the KV-cache bars ("MHA", "GQA", "MQA") used to be labelled "generated tokens" that way."""
    show_tiny_run("kv-cache-decoding", tiny_results)
    with open_chart(browser, live_server, VIEWPORTS["390"], "kv-cache-decoding", BrowserErrors()) as (_page, chart):
        titles = chart.evaluate("""el => {
            const gd = el.querySelector('.js-plotly-plot') || el;
            const t = a => { const x = a && a.title; return (x && typeof x === 'object' ? x.text : x) || ''; };
            return {bars: t(gd.layout.xaxis4), total: t(gd.layout.xaxis2)};
        }""")
    assert titles == {"bars": "", "total": "generated tokens"}, titles
