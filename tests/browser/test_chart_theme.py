"""Experiment charts follow the page's theme: transparent backgrounds and text in the page's ink colour, redrawn
when the reader switches between light and dark mode."""
from __future__ import annotations

import pytest

from tests.support.browser import BrowserErrors, new_context
from tests.support.charts import show_tiny_run, wait_for_layout

pytestmark = pytest.mark.urls("tests.support.chart_urls")

NAME = "gradient-flow"
LAPTOP = {"width": 1366, "height": 768}
# The chart's title colour, its backgrounds, and the page's ink colour as the browser resolves them.
CHART_COLOURS_JS = """chart => {
  const title = chart.querySelector(".gtitle");
  const bg = chart.querySelector("svg.main-svg .bg") || chart.querySelector("rect.bg");
  const probe = document.createElement("span");
  probe.style.color = "var(--ink)";
  document.body.appendChild(probe);
  const ink = getComputedStyle(probe).color;
  probe.remove();
  // The colour actually behind the chart: the first non-transparent background from the chart's svg upwards.
  let behind = "rgb(255, 255, 255)";
  for (let el = chart.querySelector("svg.main-svg"); el; el = el.parentElement) {
    const bg = getComputedStyle(el).backgroundColor;
    if (bg && bg !== "transparent" && !bg.startsWith("rgba(0, 0, 0, 0")) { behind = bg; break; }
  }
  return {title: title ? getComputedStyle(title).fill : null, paper: chart.querySelector("svg.main-svg").style.background, behind: behind,
          plot: bg ? getComputedStyle(bg).fill : null, ink: ink};
}"""


def _rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(float(part)) for part in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])


def test_chart_text_takes_the_page_ink_colour_in_both_themes(tiny_results, browser, live_server, transactional_db):
    show_tiny_run(NAME, tiny_results)
    errors = BrowserErrors()
    context = new_context(browser, live_server, LAPTOP, errors)
    try:
        page = context.new_page()
        page.emulate_media(color_scheme="dark")
        page.goto(f"/chart/{NAME}/")
        chart = page.locator(f"#experiment-{NAME} [data-role=chart]")
        chart.locator("svg.main-svg").first.wait_for(state="attached")
        wait_for_layout(page, chart)
        dark = chart.evaluate(CHART_COLOURS_JS)
        chart.screenshot(path="screenshots/reader-chart-dark.png")

        page.get_by_role("button", name="Dark mode").click()  # to light: the chart is drawn again
        page.wait_for_function("document.documentElement.dataset.theme === 'light'")
        wait_for_layout(page, chart)
        page.wait_for_function(
            "([chart, before]) => getComputedStyle(chart.querySelector('.gtitle')).fill !== before",
            arg=[chart.element_handle(), dark["title"]],
        )
        light = chart.evaluate(CHART_COLOURS_JS)
    finally:
        context.close()
    assert not errors.unexpected(), "\n".join(errors.unexpected())
    for colours in (dark, light):
        assert _rgb(colours["title"]) == _rgb(colours["ink"]), colours
    assert sum(_rgb(dark["title"])) > 600 > 150 > sum(_rgb(light["title"])), (dark, light)
    assert dark["paper"] in ("", "transparent", "rgba(0, 0, 0, 0)"), dark
    assert sum(_rgb(dark["behind"])) < 150 < 600 < sum(_rgb(light["behind"])), (dark, light)
