"""The pieces every experiment figure is built from: template, device line, claim and reference lines, export.

Each figure function (``charts.py``, ``<name>_chart.py``) builds a figure from a stored result dict alone, so a
result from the database can be re-plotted without re-running anything. What they draw alike is drawn here, once:

- a **claim** (a number from a paper or the lesson, not a measurement) is a dashed line in the colour of what it
  is about, beside the solid measured line, and a power-law claim passes through a measured point so that only
  its slope is compared;
- a **reference level** (chance, a uniform guess) is a thin dotted horizontal line;
- the subtitle names the **device** the numbers were measured on.

:func:`to_json_dict` returns ``json.loads(fig.to_json())`` with plotly's typed-array encoding
(``{"dtype", "bdata"}``) expanded back into lists, so the site's data-table fallback and any JSON consumer see
ordinary numbers, in the site's chart layout (``chart_layout.normalise_figure``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from experiments.bench.chart_layout import normalise_figure

TEMPLATE = "plotly_white"
CLAIM_WIDTH = 1.5


def device_label(result: dict[str, Any]) -> str:
    """``"cpu: AMD EPYC, 2 threads"`` or ``"cuda:0: NVIDIA H200"``: where the result's numbers were measured."""
    env = result.get("environment", {})
    device = env.get("device", "?")
    name = env.get("device_name") or ""
    threads = env.get("num_threads")
    label = f"{device}: {name}" if name else str(device)
    if str(device).startswith("cpu") and threads:
        label += f", {threads} thread" + ("s" if threads != 1 else "")
    return label


def dashed_line(color: str, *, width: float | None = CLAIM_WIDTH) -> dict[str, Any]:
    """The line style of a claim: dashed, in the colour of the measured series it is about."""
    line: dict[str, Any] = {"color": color, "dash": "dash"}
    if width is not None:
        line["width"] = width
    return line


def claim_trace(
    *, x: Sequence[Any], y: Sequence[Any], name: str, color: str, width: float | None = CLAIM_WIDTH, **trace: Any
) -> go.Scatter:
    """A claimed series drawn as a dashed line (``mode="lines"`` unless ``trace`` says otherwise)."""
    trace.setdefault("mode", "lines")
    return go.Scatter(x=list(x), y=list(y), name=name, line=dashed_line(color, width=width), **trace)


def power_law_through(xs: Sequence[float], *, x0: float, y0: float, exponent: float) -> list[float]:
    """``y = y0 (x / x0)^exponent`` at each x: a claimed scaling drawn through the measured point (x0, y0)."""
    return [y0 * (x / x0) ** exponent for x in xs]


def level_trace(*, x0: float, x1: float, y: float, name: str, color: str = "#555", **trace: Any) -> go.Scatter:
    """A reference level (chance, a uniform guess) from ``x0`` to ``x1``: thin, dotted, in a legend entry."""
    return go.Scatter(
        x=[x0, x1], y=[y, y], mode="lines", name=name, line={"color": color, "dash": "dot", "width": 1}, **trace
    )


def _decode_typed_arrays(obj: Any) -> Any:
    """Replace plotly's ``{"dtype": ..., "bdata": ...}`` encodings with plain lists."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if "shape" in obj:
                shape = obj["shape"]
                arr = arr.reshape([int(s) for s in str(shape).split(",")] if isinstance(shape, str) else shape)
            return arr.tolist()
        return {k: _decode_typed_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_typed_arrays(v) for v in obj]
    return obj


def to_json_dict(fig: go.Figure) -> dict[str, Any]:
    """The figure as a JSON-able dict of plain lists (see module docstring), in the site's chart layout."""
    return normalise_figure(_decode_typed_arrays(json.loads(fig.to_json())))
