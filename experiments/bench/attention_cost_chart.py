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
from experiments.bench.figure_parts import TEMPLATE, claim_trace, level_trace, power_law_through, to_json_dict

COLORS = {"naive": "#d62728", "sdpa": "#1f77b4", "flash": "#2ca02c", "efficient": "#9467bd", "math": "#ff7f0e"}
# not the colours of the implementations above: these series are a different experiment
SATURATION_COLORS = {SCALED: "#17becf", UNSCALED: "#8c564b"}
CLAIM_COLOR = "#555555"


# The claims about time and memory against n: (column, implementation, which pass, measured key, exponent, name).
# The first measured pass of the naive implementation for its n²; the last (forward+backward where run) of the fused.
SCALING_CLAIMS = (
    (1, "naive", 0, "median_ms", 2.0, "claim: time ∝ n² (Vaswani et al. 2017)"),
    (2, "naive", 0, "peak_mib", 2.0, "claim: naive memory ∝ n² (Vaswani et al. 2017)"),
    (2, "sdpa", -1, "peak_mib", 1.0, "claim: fused memory ∝ n (Dao et al. 2022)"),
)


def _series(points: list[dict[str, Any]], impl: str, direction: str, key: str) -> tuple[list[int], list[float]]:
    pts = [p for p in points if p["impl"] == impl and p["pass"] == direction and p["status"] == "ok"
           and (p.get(key) or 0) > 0]
    return [p["n"] for p in pts], [p[key] for p in pts]


def attention_cost_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Four panels; measured lines solid (forward) or dotted (forward+backward), claims dashed and grey."""
    points = result["points"]
    directions = list(dict.fromkeys(p["pass"] for p in points))
    ns = sorted({p["n"] for p in points})
    fig = make_subplots(rows=2, cols=2, subplot_titles=(TIME_CHART, MEMORY_CHART, ENTROPY_CHART, GRADIENT_CHART),
                        vertical_spacing=0.16, horizontal_spacing=0.12)
    _add_scaling_panels(fig, points, directions=directions, exponents=result["exponents"])
    _add_scaling_claims(fig, points, directions=directions, ns=ns)
    _add_saturation_panels(fig, result["saturation"])
    _set_axes(fig, ns=ns, dims=result["saturation"]["dims"])
    env = result.get("environment", {})
    fig.update_layout(
        title={"text": f"Attention cost on {env.get('device', '?')} ({result['params'].get('dtype', '')})"},
        template=TEMPLATE,
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 70},
        height=760,
    )
    return to_json_dict(fig)


def _add_scaling_panels(
    fig: go.Figure, points: list[dict[str, Any]], *, directions: list[str], exponents: dict[str, Any]
) -> None:
    """Top row: time (left) and peak memory (right) against n, one line per implementation and pass, each
    named with its fitted exponent."""
    impls = list(dict.fromkeys(p["impl"] for p in points))
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


def _add_scaling_claims(fig: go.Figure, points: list[dict[str, Any]], *, directions: list[str], ns: list[int]) -> None:
    """Top row: each claim through the measured point at the largest n of the series it is about (small n carry
    fixed overheads and, on the CPU, allocator noise)."""
    for col, impl, direction_index, key, exponent, name in SCALING_CLAIMS:
        xs, ys = _series(points, impl, directions[direction_index], key)
        if xs:
            fig.add_trace(
                claim_trace(x=ns, y=power_law_through(ns, x0=xs[-1], y0=ys[-1], exponent=exponent), name=name,
                            color=CLAIM_COLOR, hoverinfo="skip"),
                row=1, col=col,
            )


def _add_saturation_panels(fig: go.Figure, sat: dict[str, Any]) -> None:
    """Bottom row: softmax entropy (left) and gradient (right) against d_k, with and without the 1/√d_k scale;
    the claim that scaling keeps the entropy flat, and the entropy of uniform attention."""
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
    if not dims:
        return
    fig.add_trace(
        claim_trace(x=[dims[0], dims[-1]], y=[sat["scaled"][0]["entropy"]] * 2,
                    name="claim: scaled entropy flat in d_k (Vaswani et al. 2017)", color=CLAIM_COLOR,
                    hoverinfo="skip"),
        row=2, col=1,
    )
    fig.add_trace(
        level_trace(x0=dims[0], x1=dims[-1], y=sat["max_entropy"], name=f"uniform attention, ln {sat['keys']}",
                    color="#999999", hoverinfo="skip"),
        row=2, col=1,
    )


def _set_axes(fig: go.Figure, *, ns: list[int], dims: list[int]) -> None:
    for col in (1, 2):
        fig.update_xaxes(type="log", title_text="sequence length n (tokens)", tickvals=ns, row=1, col=col)
        fig.update_yaxes(type="log", dtick=1, exponentformat="power", row=1, col=col)
        fig.update_xaxes(type="log", title_text="d_k (dimensions per head)", tickvals=dims, row=2, col=col)
    fig.update_yaxes(title_text="ms per call", row=1, col=1)
    fig.update_yaxes(title_text="MiB above Q, K, V", row=1, col=2)
    fig.update_yaxes(title_text="nats", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(title_text="median gradient norm", type="log", dtick=1, exponentformat="power", row=2, col=2)
