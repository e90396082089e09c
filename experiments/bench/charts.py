"""The figures of the first three experiments (sequence latency, gradient flow, long-range recall).

Later experiments keep their figure in ``<name>_chart.py``; all of them are built from a result dict alone with the
shared pieces of ``figure_parts.py``.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.bench.figure_parts import TEMPLATE, claim_trace, device_label, to_json_dict
from experiments.bench.gradient_flow_config import COLUMN_LABELS as GRADIENT_COLUMNS
from experiments.bench.long_range_recall_config import COLUMN_LABELS as RECALL_COLUMNS
from experiments.bench.sequence_latency_config import COLUMN_LABELS as LATENCY_COLUMNS
from experiments.bench.sequence_latency_config import MODEL_LABELS as LATENCY_MODELS
from experiments.bench.tables import table_records

MODEL_COLORS = {
    "lstm": "#d62728",
    "transformer": "#1f77b4",
    "rnn": "#ff7f0e",
    "lstm_fb1": "#e377c2",
    "lstm_fb3": "#9467bd",
    "gru": "#2ca02c",
}


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# ----------------------------------------------------------------- sequence latency


def sequence_latency_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Median time vs length (log-log), one panel per batch size, IQR error bars, seed claims dashed.

    A second row shows LSTM time / Transformer time per batch size against a line at 1,
    so which model wins at which batch size (and where that flips) is visible at a glance.
    """
    rows = table_records(result["table"], column_labels=LATENCY_COLUMNS, value_labels={"model": LATENCY_MODELS})
    batches = sorted({r["batch"] for r in rows})
    claims = result.get("seed_claims") or {}
    fig = make_subplots(
        rows=2,
        cols=len(batches),
        shared_yaxes="rows",
        shared_xaxes=True,
        row_heights=[0.68, 0.32],
        vertical_spacing=0.08,
        horizontal_spacing=0.06,
        subplot_titles=[f"Batch size {b}" for b in batches] + [""] * len(batches),
    )
    for col, batch in enumerate(batches, start=1):
        batch_rows = [r for r in rows if r["batch"] == batch]
        _add_latency_panel(fig, batch_rows, batch=batch, col=col)
        _add_speed_ratio_panel(fig, batch_rows, batch=batch, col=col)
    if claims:
        _add_latency_claims(fig, claims, batches=batches)
    _set_latency_axes(fig, rows, claims)
    fig.update_layout(title={"text": _latency_title(result)}, template=TEMPLATE, height=700, hovermode="closest")
    return to_json_dict(fig)


def _add_latency_panel(fig: go.Figure, rows: list[dict[str, Any]], *, batch: int, col: int) -> None:
    """Top row: median time per call against length for each model, with 25th-75th percentile error bars."""
    for model in ("lstm", "transformer"):
        pts = sorted((r for r in rows if r["model"] == model), key=lambda r: r["seq_len"])
        if not pts:
            continue
        fig.add_trace(
            go.Scatter(
                x=[p["seq_len"] for p in pts],
                y=[p["median_ms"] for p in pts],
                error_y={  # from the 25th to the 75th percentile of the timed blocks
                    "type": "data",
                    "symmetric": False,
                    "array": [p["q75_ms"] - p["median_ms"] for p in pts],
                    "arrayminus": [p["median_ms"] - p["q25_ms"] for p in pts],
                    "visible": True,
                },
                mode="lines+markers",
                name=LATENCY_MODELS[model],
                legendgroup=model,
                showlegend=col == 1,
                line={"color": MODEL_COLORS[model]},
                customdata=[[p["iqr_ms"], p["tokens_per_s"], p["gflop_per_s"]] for p in pts],
                hovertemplate=(
                    f"{LATENCY_MODELS[model]}, batch size {batch}<br>length %{{x}} tokens<br>median %{{y:.3g}} ms"
                    "<br>IQR %{customdata[0]:.3g} ms<br>%{customdata[1]:,.0f} tokens/s"
                    "<br>%{customdata[2]:.3g} GFLOP/s<extra></extra>"
                ),
            ),
            row=1,
            col=col,
        )


def _add_speed_ratio_panel(fig: go.Figure, rows: list[dict[str, Any]], *, batch: int, col: int) -> None:
    """Bottom row: LSTM time / Transformer time at each length both were timed at, against a dotted line at 1."""
    ms = {(r["model"], r["seq_len"]): r["median_ms"] for r in rows}
    lengths = sorted({t for _, t in ms})
    ratio = [
        ms[("lstm", t)] / ms[("transformer", t)] for t in lengths if ("lstm", t) in ms and ("transformer", t) in ms
    ]
    fig.add_trace(
        go.Scatter(
            x=lengths,
            y=ratio,
            mode="lines+markers",
            name="LSTM time / Transformer time",
            legendgroup="ratio",
            showlegend=col == 1,
            line={"color": "#444"},
            hovertemplate=(
                f"batch size {batch}<br>length %{{x}} tokens<br>LSTM time / Transformer time = %{{y:.2f}}"
                "<br>(above 1: the Transformer is faster)<extra></extra>"
            ),
        ),
        row=2,
        col=col,
    )
    fig.add_hline(y=1.0, line={"dash": "dot", "color": "#888"}, row=2, col=col)


def _add_latency_claims(fig: go.Figure, claims: dict[str, Any], *, batches: list[int]) -> None:
    """The lesson's printed timings, dashed, in the panel whose batch size is closest to theirs.

    The seed's numbers are for batch 32 on an unspecified GPU, so they are labelled as claims.
    """
    target = min(range(len(batches)), key=lambda j: abs(batches[j] - claims["batch_size"])) + 1
    for model, key in (("lstm", "lstm_ms"), ("transformer", "transformer_ms")):
        fig.add_trace(
            claim_trace(
                x=claims["seq_lens"],
                y=claims[key],
                mode="lines+markers",
                name=f"{LATENCY_MODELS[model]}, lesson's claim (GPU, batch {claims['batch_size']})",
                color=MODEL_COLORS[model],
                legendgroup=f"claims-{model}",
                marker={"symbol": "x", "size": 7},
                opacity=0.7,
                hovertemplate=(
                    f"{LATENCY_MODELS[model]}, lesson's claim<br>length %{{x}} tokens<br>%{{y}} ms<extra></extra>"
                ),
            ),
            row=1,
            col=target,
        )


def _set_latency_axes(fig: go.Figure, rows: list[dict[str, Any]], claims: dict[str, Any]) -> None:
    ticks = sorted({r["seq_len"] for r in rows} | set(claims.get("seq_lens", [])))  # thinned by chart_layout
    fig.update_xaxes(type="log", tickvals=ticks)
    fig.update_xaxes(title_text=LATENCY_COLUMNS["seq_len"], row=2)
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text=LATENCY_COLUMNS["median_ms"], row=1, col=1)
    fig.update_yaxes(title_text="LSTM time / Transformer time", row=2, col=1)


def _latency_title(result: dict[str, Any]) -> str:
    mode = result.get("params", {}).get("mode", "inference")
    subtitle = device_label(result) + " · bars: 25th to 75th percentile"
    if result.get("scaled_down"):
        subtitle += " · sizes scaled down for CPU (see notes)"
    return f"LSTM vs Transformer latency ({mode})<br><sup>{subtitle}</sup>"


# -------------------------------------------------------------------- gradient flow


def gradient_flow_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Log-y gradient ratio vs distance with 25-75 % bands; the seed listing in a side panel."""
    floor = float(result.get("underflow_floor", 1e-46))
    distances = list(result["distances"])
    listing = result.get("seed_listing")
    fig = make_subplots(
        rows=1,
        cols=2 if listing else 1,
        column_widths=[0.7, 0.3] if listing else [1.0],
        subplot_titles=(
            ["Gradient reaching each earlier token", "Lesson's listing: total gradient norm"]
            if listing
            else ["Gradient reaching each earlier token"]
        ),
        horizontal_spacing=0.1,
    )
    for name, curve in result["curves"].items():
        _add_gradient_curve(fig, name, curve, distances=distances, floor=floor)
    _mark_underflow_floor(fig, floor=floor, last_distance=distances[-1] if distances else 0)
    fig.update_xaxes(title_text=GRADIENT_COLUMNS["distance"], row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", title_text="Gradient ratio (log scale)", row=1, col=1)
    if listing:
        _add_seed_listing_panel(fig, listing)
    seq_len = result.get("params", {}).get("seq_len", len(distances))
    fig.update_layout(
        title={
            "text": f"Gradient flow to earlier tokens (T={seq_len})"
            f"<br><sup>{device_label(result)} · float32 · median and 25th-75th percentile band</sup>"
        },
        template=TEMPLATE,
    )
    return to_json_dict(fig)


def _lifted(values: list[float], floor: float) -> list[float]:
    """Exact zeros drawn at ``floor``: a log axis cannot show 0, and the floor line says what they are."""
    return [v if v > 0 else floor for v in values]


def _add_gradient_curve(
    fig: go.Figure, name: str, curve: dict[str, Any], *, distances: list[int], floor: float
) -> None:
    """One model's 25th-75th percentile band (no legend entry of its own) and its median line."""
    color = MODEL_COLORS.get(name, "#7f7f7f")
    fig.add_trace(
        go.Scatter(
            x=distances + distances[::-1],
            y=_lifted(curve["q75"], floor) + _lifted(curve["q25"], floor)[::-1],
            fill="toself",
            fillcolor=_rgba(color, 0.15),
            line={"width": 0},
            hoverinfo="skip",
            legendgroup=name,
            showlegend=False,
            name=curve["label"] + " 25-75 %",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=distances,
            y=_lifted(curve["median"], floor),
            customdata=[[m, z] for m, z in zip(curve["median"], curve["zero_fraction"], strict=True)],
            mode="lines",
            name=curve["label"],
            legendgroup=name,
            line={"color": color},
            hovertemplate=(
                f"{curve['label']}<br>distance %{{x}} tokens<br>gradient ratio (median) %{{customdata[0]:.3g}}"
                "<br>exact zeros %{customdata[1]:.0%}<extra></extra>"
            ),
        ),
        row=1,
        col=1,
    )


def _mark_underflow_floor(fig: go.Figure, *, floor: float, last_distance: int) -> None:
    """A dotted line where exact zeros are drawn, labelled at its right end."""
    fig.add_hline(y=floor, line={"dash": "dot", "color": "#555"}, row=1, col=1)
    # Annotations on a log axis take log10 of the value (add_hline's own label would not).
    fig.add_annotation(
        x=last_distance,
        y=math.log10(floor),
        xref="x",
        yref="y",
        text="exact 0 (float32 underflow)",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"size": 11, "color": "#555"},
    )


def _add_seed_listing_panel(fig: go.Figure, listing: dict[str, Any]) -> None:
    """Side panel: the lesson's listing as measured by this run, and the output the lesson claims for it."""
    lengths = list(listing["lengths"])
    fig.add_trace(
        go.Scatter(
            x=lengths,
            y=list(listing["measured"]),
            mode="lines+markers",
            name=f"Listing, measured (seed {listing['measured_seed']})",
            line={"color": "#333"},
            hovertemplate="listing, measured<br>length %{x} tokens<br>total gradient norm %{y:.3g}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        claim_trace(
            x=lengths,
            y=listing["claimed"],
            mode="lines+markers",
            name="Listing, lesson's claimed output",
            color="#333",
            width=None,
            hovertemplate="lesson's claim<br>length %{x} tokens<br>total gradient norm %{y}<extra></extra>",
            marker={"symbol": "x"},
            opacity=0.7,
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(type="log", tickvals=lengths, title_text="Sequence length (tokens)", row=1, col=2)
    fig.update_yaxes(type="log", exponentformat="power", title_text="Total gradient norm", row=1, col=2)


# --------------------------------------------------------------- long-range recall


def long_range_recall_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Test accuracy vs distance per model, with the chance level as a dashed line."""
    distances = list(result["distances"])
    fig = go.Figure()
    for name, accs in result["accuracy"].items():
        fig.add_trace(
            go.Scatter(
                x=distances,
                y=list(accs),
                mode="lines+markers",
                name=result.get("model_labels", {}).get(name, name),
                line={"color": MODEL_COLORS.get(name, "#7f7f7f")},
                hovertemplate="%{fullData.name}<br>distance %{x} tokens<br>test accuracy %{y:.1%}<extra></extra>",
            )
        )
    chance = float(result["chance"])
    fig.add_hline(
        y=chance,
        line={"dash": "dash", "color": "#555"},
        annotation_text=f"chance ({chance:.1%})",
        annotation_font={"color": "#555"},
        annotation_position="top left",
    )
    p = result.get("params", {})
    fig.update_layout(
        title={
            "text": "Recalling a token d steps back"
            f"<br><sup>{device_label(result)} · {p.get('steps')} steps x batch {p.get('batch')}, "
            f"hidden {p.get('hidden')}</sup>"
        },
        template=TEMPLATE,
        xaxis={"title": {"text": RECALL_COLUMNS["distance"]}, "type": "log", "tickvals": distances},
        yaxis={"title": {"text": RECALL_COLUMNS["test_accuracy"]}, "range": [0, 1.05], "tickformat": ".0%"},
    )
    return to_json_dict(fig)
