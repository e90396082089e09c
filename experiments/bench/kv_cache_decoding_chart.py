"""The kv-cache-decoding figure, built from a result dict alone (a stored result re-plots without a run)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.bench.figure_parts import TEMPLATE, claim_trace, power_law_through, to_json_dict
from experiments.bench.tables import table_records

COLORS = {"with KV cache": "#1f77b4", "without cache": "#d62728"}
CLAIM_EXPONENTS = {"with KV cache": "exponent_with_cache", "without cache": "exponent_without_cache"}


SWEEP_AXES = {"length": "Generated tokens", "batch": "Batch size"}


def _sweep(result: dict[str, Any], sweep: str, mode: str) -> list[dict[str, Any]]:
    """The table rows of one sweep ("length" or "batch") in one mode, in the order of the swept quantity."""
    rows = table_records(result["table"], column_labels={})
    return sorted((r for r in rows if r["Sweep"] == sweep and r["Mode"] == mode), key=lambda r: r[SWEEP_AXES[sweep]])


def kv_cache_decoding_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Four panels: ms per step vs position, total time vs length (log-log, with the lesson's
    exponents dashed), tokens/s vs batch size, and the cache's bytes for MHA, GQA and MQA."""
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[
            "Time per generated token",
            "Total generation time",
            "Throughput against batch size",
            "KV cache memory",
        ],
        vertical_spacing=0.16,
        horizontal_spacing=0.12,
    )
    for mode, color in COLORS.items():
        _add_time_per_token(fig, result["per_token"], mode=mode, color=color)
        lengths = _sweep(result, "length", mode)
        if not lengths:  # a mode without a length sweep gets no throughput line either
            continue
        _add_total_time(fig, lengths, result, mode=mode, color=color)
        _add_throughput(fig, _sweep(result, "batch", mode), mode=mode, color=color)
    _add_cache_memory(fig, result["cache_memory"])
    _set_axes(fig, result)
    env = result.get("environment", {})
    p = result.get("params", {})
    fig.update_layout(
        title={
            "text": f"Decoding with and without a KV cache on {env.get('device', '?')}"
            f"<br><sup>{env.get('device_name', '')} · d_model {p.get('d_model')}, {p.get('layers')} layers</sup>"
        },
        template=TEMPLATE,
        height=760,
        legend={"orientation": "h", "y": -0.14},
        margin={"t": 100},
        hovermode="closest",
    )
    return to_json_dict(fig)


def _add_time_per_token(fig: go.Figure, per_token: dict[str, Any], *, mode: str, color: str) -> None:
    """Top left: milliseconds for each generated token against its position."""
    ms = per_token["ms"].get(mode)
    if not ms:
        return
    fig.add_trace(
        go.Scatter(
            x=per_token["position"],
            y=ms,
            mode="lines",
            name=mode,
            legendgroup=mode,
            line={"color": color},
            hovertemplate=f"{mode}<br>position %{{x}}<br>%{{y:.2f}} ms<extra></extra>",
        ),
        row=1,
        col=1,
    )


def _add_total_time(
    fig: go.Figure, points: list[dict[str, Any]], result: dict[str, Any], *, mode: str, color: str
) -> None:
    """Top right: total time against tokens generated, with the fitted exponent, and the lesson's claimed
    exponent dashed through the first measured point, so only the slopes are compared."""
    xs = [p["Generated tokens"] for p in points]
    ys = [p["Median total (ms)"] for p in points]
    k = result["summary"]["exponent"].get(mode)
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            name=f"{mode}: k = {k:.2f}" if k is not None else mode,
            legendgroup=mode,
            line={"color": color},
            hovertemplate=f"{mode}<br>%{{x}} tokens<br>%{{y:.1f}} ms<extra></extra>",
        ),
        row=1,
        col=2,
    )
    claims = result.get("claims", {})
    claim_k = claims.get(CLAIM_EXPONENTS[mode])
    if claim_k is None:
        return
    fig.add_trace(
        claim_trace(
            x=xs,
            y=power_law_through(xs, x0=xs[0], y0=ys[0], exponent=claim_k),
            name=f"lesson claim: k = {claim_k:g}",
            color=color,
            legendgroup=mode,
            hovertemplate=f"claim ({claims.get('source', 'lesson')}): time ~ n^{claim_k:g}<extra></extra>",
        ),
        row=1,
        col=2,
    )


def _add_throughput(fig: go.Figure, points: list[dict[str, Any]], *, mode: str, color: str) -> None:
    """Bottom left: generated tokens per second against batch size."""
    fig.add_trace(
        go.Scatter(
            x=[p["Batch size"] for p in points],
            y=[p["Tokens/s"] for p in points],
            mode="lines+markers",
            name=mode,
            legendgroup=mode,
            showlegend=False,
            line={"color": color},
            hovertemplate=f"{mode}<br>batch %{{x}}<br>%{{y:,.0f}} tokens/s<extra></extra>",
        ),
        row=2,
        col=1,
    )


def _add_cache_memory(fig: go.Figure, memory: list[dict[str, Any]]) -> None:
    """Bottom right: the cache tensors' measured size per attention type (bars), the formula's as a tick."""
    # Two short lines per bar ("MHA<br>4 KV heads"): one long label per bar collided with its neighbours.
    labels = [f"{m['variant']}<br>{m['kv_heads']} KV head{'s' if m['kv_heads'] != 1 else ''}" for m in memory]
    fig.add_trace(
        go.Bar(
            x=labels,
            y=[m["measured_bytes"] / 2**20 for m in memory],
            name="cache tensors (measured)",
            marker={"color": "#2ca02c"},
            hovertemplate="%{x}<br>%{y:.3f} MiB<extra></extra>",
        ),
        row=2,
        col=2,
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[m["formula_bytes"] / 2**20 for m in memory],
            mode="markers",
            name="formula",
            marker={"color": "#333", "symbol": "line-ew-open", "size": 24, "line": {"width": 2}},
            hovertemplate="%{x}<br>formula %{y:.3f} MiB<extra></extra>",
        ),
        row=2,
        col=2,
    )


def _set_axes(fig: go.Figure, result: dict[str, Any]) -> None:
    lengths = sorted({r["Generated tokens"] for r in _sweep(result, "length", "with KV cache")})
    batches = sorted({r["Batch size"] for r in _sweep(result, "batch", "with KV cache")})
    fig.update_xaxes(title_text="position (tokens)", row=1, col=1)
    fig.update_yaxes(title_text="time (ms)", type="log", row=1, col=1)
    fig.update_xaxes(title_text="generated tokens", type="log", tickvals=lengths, row=1, col=2)
    fig.update_yaxes(title_text="total time (ms)", type="log", row=1, col=2)
    fig.update_xaxes(title_text="batch size", type="log", tickvals=batches, row=2, col=1)
    fig.update_yaxes(title_text="tokens/s", type="log", row=2, col=1)
    fig.update_yaxes(title_text="cache (MiB)", row=2, col=2)
