"""The attention-cost figure: time and memory against n (log-log), entropy and gradient against d_k."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.bench.attention_cost import (
    ENTROPY_CHART,
    GRADIENT_CHART,
    MEMORY_CHART,
    SCALED,
    TIME_CHART,
    UNSCALED,
    series_label,
)
from experiments.bench.figure_parts import to_json_dict

COLORS = {"naive": "#d62728", "sdpa": "#1f77b4", "flash": "#2ca02c", "efficient": "#9467bd", "math": "#ff7f0e"}
# not the colours of the implementations above: these series are a different experiment
SATURATION_COLORS = {SCALED: "#17becf", UNSCALED: "#8c564b"}
CLAIM_COLOR = "#555555"


def _claim_line(xs: list[float], x0: float, y0: float, exponent: float) -> list[float]:
    """A power law y = y0 (x / x0)^exponent through the measured point (x0, y0)."""
    return [y0 * (x / x0) ** exponent for x in xs]


def _series(points: list[dict[str, Any]], impl: str, direction: str, key: str) -> tuple[list[int], list[float]]:
    pts = [p for p in points if p["impl"] == impl and p["pass"] == direction and p["status"] == "ok"
           and (p.get(key) or 0) > 0]
    return [p["n"] for p in pts], [p[key] for p in pts]


def attention_cost_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Four panels; measured lines solid (forward) or dotted (forward+backward), claims dashed and grey."""
    points = result["points"]
    params = result["params"]
    exponents = result["exponents"]
    fig = make_subplots(rows=2, cols=2, subplot_titles=(TIME_CHART, MEMORY_CHART, ENTROPY_CHART, GRADIENT_CHART),
                        vertical_spacing=0.16, horizontal_spacing=0.12)
    impls = list(dict.fromkeys(p["impl"] for p in points))
    directions = list(dict.fromkeys(p["pass"] for p in points))
    ns = sorted({p["n"] for p in points})
    for col, key, unit, chart in ((1, "median_ms", "ms", "time"), (2, "peak_mib", "MiB", "memory")):
        for impl in impls:
            for direction in directions:
                xs, ys = _series(points, impl, direction, key)
                if not xs:
                    continue
                label = series_label(impl, direction)
                k = exponents[chart].get(label)
                fig.add_trace(
                    go.Scatter(
                        x=xs, y=ys, mode="lines+markers",
                        name=label + (f" (∝ n^{k:.2f})" if k is not None else ""),
                        legendgroup=label,
                        showlegend=col == 1,
                        line={"color": COLORS[impl], "dash": "solid" if direction == "forward" else "dot"},
                        marker={"symbol": "circle" if direction == "forward" else "square"},
                        hovertemplate=f"{label}<br>n = %{{x}}<br>%{{y:.3g}} {unit}<extra></extra>",
                    ),
                    row=1, col=col,
                )
    # The claims, each through the measured point at the largest n of the series it is about (small n carry
    # fixed overheads and, on the CPU, allocator noise).
    claims = [
        (1, "naive", directions[0], "median_ms", 2.0, "claim: time ∝ n² (Vaswani et al. 2017)"),
        (2, "naive", directions[0], "peak_mib", 2.0, "claim: naive memory ∝ n² (Vaswani et al. 2017)"),
        (2, "sdpa", directions[-1], "peak_mib", 1.0, "claim: fused memory ∝ n (Dao et al. 2022)"),
    ]
    for col, impl, direction, key, exponent, name in claims:
        xs, ys = _series(points, impl, direction, key)
        if xs:
            fig.add_trace(
                go.Scatter(x=ns, y=_claim_line(ns, xs[-1], ys[-1], exponent), mode="lines", name=name,
                           line={"color": CLAIM_COLOR, "dash": "dash", "width": 1.5}, hoverinfo="skip"),
                row=1, col=col,
            )

    sat = result["saturation"]
    dims = sat["dims"]
    for col, key, fmt in ((1, "entropy", ".3f"), (2, "grad_median", ".3g")):
        for series, stats in ((SCALED, sat["scaled"]), (UNSCALED, sat["unscaled"])):
            fig.add_trace(
                go.Scatter(
                    x=dims, y=[s[key] for s in stats], mode="lines+markers", name=series, legendgroup=series,
                    showlegend=col == 1, line={"color": SATURATION_COLORS[series]},
                    hovertemplate=f"{series}<br>d_k = %{{x}}<br>%{{y:{fmt}}}"
                    + (" nats" if key == "entropy" else "") + "<extra></extra>",
                ),
                row=2, col=col,
            )
    if dims:
        fig.add_trace(
            go.Scatter(
                x=[dims[0], dims[-1]], y=[sat["scaled"][0]["entropy"]] * 2, mode="lines",
                name="claim: scaled entropy flat in d_k (Vaswani et al. 2017)",
                line={"color": CLAIM_COLOR, "dash": "dash", "width": 1.5}, hoverinfo="skip",
            ),
            row=2, col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[dims[0], dims[-1]], y=[sat["max_entropy"]] * 2, mode="lines",
                name=f"uniform attention, ln {sat['keys']}", line={"color": "#999999", "dash": "dot", "width": 1},
                hoverinfo="skip",
            ),
            row=2, col=1,
        )

    for col in (1, 2):
        fig.update_xaxes(type="log", title_text="sequence length n (tokens)", tickvals=ns, row=1, col=col)
        fig.update_yaxes(type="log", dtick=1, exponentformat="power", row=1, col=col)
        fig.update_xaxes(type="log", title_text="d_k (dimensions per head)", tickvals=dims, row=2, col=col)
    fig.update_yaxes(title_text="ms per call", row=1, col=1)
    fig.update_yaxes(title_text="MiB above Q, K, V", row=1, col=2)
    fig.update_yaxes(title_text="nats", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(title_text="median gradient norm", type="log", dtick=1, exponentformat="power", row=2, col=2)
    env = result.get("environment", {})
    device = env.get("device", "?")
    fig.update_layout(
        title={"text": f"Attention cost on {device} ({params.get('dtype', '')})"},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 70},
        height=760,
    )
    return to_json_dict(fig)

