"""The kv-cache-decoding figure, built from a result dict alone (a stored result re-plots without a run)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.bench.figure_parts import TEMPLATE, to_json_dict

COLORS = {"with KV cache": "#1f77b4", "without cache": "#d62728"}
CLAIM_EXPONENTS = {"with KV cache": "exponent_with_cache", "without cache": "exponent_without_cache"}


def _rows(result: dict[str, Any], sweep: str, mode: str) -> list[dict[str, Any]]:
    cols = result["table"]["columns"]
    rows = [dict(zip(cols, r, strict=True)) for r in result["table"]["rows"]]
    return [r for r in rows if r["Sweep"] == sweep and r["Mode"] == mode]


def kv_cache_decoding_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Four panels: ms per step vs position, total time vs length (log-log, with the lesson's
    exponents dashed), tokens/s vs batch size, and the cache's bytes for MHA, GQA and MQA."""
    summary, claims = result["summary"], result.get("claims", {})
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
    per_token = result["per_token"]
    for mode, color in COLORS.items():
        ms = per_token["ms"].get(mode)
        if ms:
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
        pts = sorted(_rows(result, "length", mode), key=lambda r: r["Generated tokens"])
        if not pts:
            continue
        xs = [p["Generated tokens"] for p in pts]
        ys = [p["Median total (ms)"] for p in pts]
        k = summary["exponent"].get(mode)
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
        claim_k = claims.get(CLAIM_EXPONENTS[mode])
        if claim_k is not None:
            # The claim drawn through the first measured point, so only its slope is compared.
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[ys[0] * (x / xs[0]) ** claim_k for x in xs],
                    mode="lines",
                    name=f"lesson claim: k = {claim_k:g}",
                    legendgroup=mode,
                    line={"color": color, "dash": "dash", "width": 1.5},
                    hovertemplate=f"claim ({claims.get('source', 'lesson')}): time ~ n^{claim_k:g}<extra></extra>",
                ),
                row=1,
                col=2,
            )
        pts = sorted(_rows(result, "batch", mode), key=lambda r: r["Batch size"])
        fig.add_trace(
            go.Scatter(
                x=[p["Batch size"] for p in pts],
                y=[p["Tokens/s"] for p in pts],
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
    memory = result["cache_memory"]
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
    lengths = sorted({r["Generated tokens"] for r in _rows(result, "length", "with KV cache")})
    batches = sorted({r["Batch size"] for r in _rows(result, "batch", "with KV cache")})
    fig.update_xaxes(title_text="position (tokens)", row=1, col=1)
    fig.update_yaxes(title_text="time (ms)", type="log", row=1, col=1)
    fig.update_xaxes(title_text="generated tokens", type="log", tickvals=lengths, row=1, col=2)
    fig.update_yaxes(title_text="total time (ms)", type="log", row=1, col=2)
    fig.update_xaxes(title_text="batch size", type="log", tickvals=batches, row=2, col=1)
    fig.update_yaxes(title_text="tokens/s", type="log", row=2, col=1)
    fig.update_yaxes(title_text="cache (MiB)", row=2, col=2)
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
