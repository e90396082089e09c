"""The one layout every experiment figure passes through, whatever experiment drew it.

A figure function (``charts.py``, ``<name>_chart.py``) says what to plot; this module makes it read well on any
screen: legend below the plot in rows, axis titles clear of the tick labels, log axes labelled at whole decades
(or at 1-2-5 steps when the data span less than two decades), a title anchored top-left, and a hover label that
names each axis with its unit. The parts that depend on the reader's screen (stacking subplots on a phone, how
much room the title and legend take) are done in the browser by static/js/experiments.js, which measures the
drawn text.

Plain dicts only (no plotly import): the web process applies it to stored figures too, and applying it twice
changes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
# At most this many labels on a decade-labelled log axis: a phone's stacked subplot is ~250 px tall.
MAX_LOG_LABELS = 6
# Explicit ticks on a log axis closer than this share of the axis's span (in decades) would print over each other.
MIN_LOG_TICK_SPACING = 1 / 7
_AXIS_KEY = re.compile(r"^([xy])axis(\d*)$")
SCALE_TYPES = ("heatmap", "contour", "histogram2d", "histogram2dcontour")


def _title_text(title: Any) -> str:
    if isinstance(title, dict):
        return str(title.get("text") or "")
    return str(title or "")


def _axis_key(ref: str | None, letter: str) -> str:
    """Trace reference ``"x3"`` -> layout key ``"xaxis3"`` (``None`` is the first axis)."""
    suffix = (ref or letter)[1:]
    return f"{letter}axis{suffix}"


def _positive(values: Iterable[Any]) -> list[float]:
    out = []
    for value in values:
        if isinstance(value, (list, tuple)):
            out.extend(_positive(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            out.append(float(value))
    return out


def _linked_axes(layout: dict[str, Any], key: str) -> set[str]:
    """``key`` and the axes that share its range through ``matches`` (shared axes of make_subplots)."""
    short = key.replace("axis", "")
    target = layout.get(key, {}).get("matches") or short
    linked = {key}
    for other, axis in layout.items():
        if _AXIS_KEY.match(other) and isinstance(axis, dict) and other[0] == key[0]:
            other_short = other.replace("axis", "")
            if (axis.get("matches") or other_short) == target or other_short == target:
                linked.add(other)
    return linked


def _log_data_range(figure: dict[str, Any], key: str) -> tuple[float, float] | None:
    """The smallest and largest positive value drawn on ``key`` or on an axis sharing its range."""
    letter = key[0]
    layout = figure.get("layout", {})
    keys = _linked_axes(layout, key)
    values: list[float] = []
    for trace in figure.get("data", []):
        if _axis_key(trace.get(f"{letter}axis"), letter) in keys:
            values.extend(_positive(trace.get(letter) or []))
    refs = {k.replace("axis", "") for k in keys}
    for shape in layout.get("shapes", []) or []:
        if shape.get(f"{letter}ref") in refs:
            values.extend(_positive([shape.get(f"{letter}0"), shape.get(f"{letter}1")]))
    if not values:
        return None
    return min(values), max(values)


def _one_two_five(low: float, high: float) -> list[float]:
    ticks = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            value = float(f"{mantissa}e{exponent}")
            if low / 1.5 <= value <= high * 1.5:
                ticks.append(value)
    return ticks


def _thin_log_ticks(values: list[Any]) -> list[Any]:
    """Drop explicit ticks that would sit closer than MIN_LOG_TICK_SPACING of the axis's span to the last kept one."""
    positive = sorted({v for v in values if isinstance(v, (int, float)) and v > 0})
    if len(positive) < 3:
        return positive
    span = math.log10(positive[-1]) - math.log10(positive[0])
    gap = span * MIN_LOG_TICK_SPACING
    kept = [positive[0]]
    for value in positive[1:-1]:
        if math.log10(value) - math.log10(kept[-1]) >= gap and math.log10(positive[-1]) - math.log10(value) >= gap:
            kept.append(value)
    return [*kept, positive[-1]]  # the largest value always keeps its label: it ends the axis


def _style_log_axis(axis: dict[str, Any], data_range: tuple[float, float] | None) -> None:
    if axis.get("tickvals"):
        axis["tickvals"] = _thin_log_ticks(list(axis["tickvals"]))
        axis.pop("ticktext", None)
        return
    if data_range is None or axis.get("dtick") is not None:
        return
    low, high = data_range
    decades = math.log10(high) - math.log10(low)
    whole_decades_inside = math.floor(math.log10(high)) - math.ceil(math.log10(low)) + 1
    if whole_decades_inside >= 2:
        axis["tick0"] = 0
        axis["dtick"] = max(1, math.ceil(decades / MAX_LOG_LABELS))
        tiny_or_huge = low < 1e-3 or high >= 1e5
        axis["exponentformat"] = "power" if tiny_or_huge else "none"
    else:
        # Less than two decades: whole decades would leave one label or none; 1-2-5 steps, printed in full.
        axis["tickvals"] = _one_two_five(low, high)
        axis["exponentformat"] = "none"
    axis["minor"] = {"showgrid": False}


def _numeric(values: Any) -> bool:
    return bool(values) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values if not isinstance(v, list)
    )


def _hover_template(trace: dict[str, Any], layout: dict[str, Any]) -> str:
    """``name``, then each axis's title (its unit included) with the point's value; for a heatmap, its colour's."""
    x_title = _title_text(layout.get(_axis_key(trace.get("xaxis"), "x"), {}).get("title")) or "x"
    y_title = _title_text(layout.get(_axis_key(trace.get("yaxis"), "y"), {}).get("title")) or "y"
    name = trace.get("name") or ""
    lines = [name] if name else []
    lines.append(f"{x_title}: %{{x}}")
    lines.append(f"{y_title}: %{{y:.4~g}}" if _numeric(trace.get("y")) else f"{y_title}: %{{y}}")
    if trace.get("type") in SCALE_TYPES:
        bar = trace.get("colorbar") or {}
        lines.append(f"{_title_text(bar.get('title')) or 'value'}: %{{z:.4~g}}")
    return "<br>".join(lines) + "<extra></extra>"


def normalise_figure(figure: dict[str, Any]) -> dict[str, Any]:
    """The same figure with the site's responsive layout settings (a new dict; the input is not changed)."""
    data = [dict(trace) for trace in figure.get("data", [])]
    layout = dict(figure.get("layout", {}))
    out = {**figure, "data": data, "layout": layout}
    layout.pop("width", None)
    layout["autosize"] = True
    layout["font"] = {"family": FONT_FAMILY, "size": 12, **(layout.get("font") or {})}
    title = layout.get("title")
    title = dict(title) if isinstance(title, dict) else {"text": str(title or "")}
    # Top-left, in the figure's own top margin: the script sizes that margin to the (wrapped) title it measured.
    title.update({"x": 0, "xref": "container", "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top",
                  "pad": {"t": 10, "l": 10}})
    title["font"] = {"size": 15, **(title.get("font") or {})}
    layout["title"] = title
    # Below everything, in rows: the script grows the bottom margin until it clears the lowest axis text.
    layout["legend"] = {
        **(layout.get("legend") or {}),
        "orientation": "h", "x": 0, "xanchor": "left", "xref": "container", "y": 0, "yanchor": "bottom",
        "yref": "container", "bgcolor": "rgba(255,255,255,0)", "font": {"size": 11},
    }
    margin = dict(layout.get("margin") or {})
    margin.update({"l": 10, "r": 16, "pad": 0})
    margin.setdefault("t", 80)
    margin.setdefault("b", 60)
    layout["margin"] = margin
    layout.setdefault("hoverlabel", {"namelength": -1})
    for key in list(layout):
        if not _AXIS_KEY.match(key) or not isinstance(layout[key], dict):
            continue
        axis = layout[key] = dict(layout[key])
        axis["automargin"] = True
        if isinstance(axis.get("title"), dict):
            axis["title"] = {**axis["title"], "standoff": 6}
        if axis.get("type") == "log":
            _style_log_axis(axis, _log_data_range(out, key))
    for trace in data:
        if trace.get("hovertemplate") or trace.get("hoverinfo") == "skip":
            continue
        trace["hovertemplate"] = _hover_template(trace, layout)
    return out
