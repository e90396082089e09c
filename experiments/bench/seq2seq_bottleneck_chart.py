"""The seq2seq-bottleneck figure: token accuracy against source length, one line per model."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from experiments.bench.figure_parts import TEMPLATE, claim_trace, device_label, level_trace, to_json_dict

COLORS = {"plain": "#d62728", "attention": "#1f77b4"}


def seq2seq_bottleneck_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Measured accuracy per model, the training range shaded, chance and the paper's claim dashed."""
    lengths = list(result["test_lengths"])
    lo, hi = result["train_range"]
    labels = result["model_labels"]
    fig = go.Figure()
    _shade_training_lengths(fig, lo, hi)
    for kind, accs in result["accuracy"].items():
        fig.add_trace(
            go.Scatter(
                x=lengths,
                y=list(accs),
                mode="lines+markers",
                name=labels.get(kind, kind),
                line={"color": COLORS.get(kind, "#7f7f7f")},
                hovertemplate="source length %{x} tokens<br>token accuracy %{y:.1%}<extra></extra>",
            )
        )
    attention = result["accuracy"].get("attention")
    if attention:
        claim = result["claim"]
        fig.add_trace(
            claim_trace(
                x=[lengths[0], lengths[-1]],
                y=[attention[0], attention[0]],
                name=f"Claim ({claim['short_source']}): attention holds",
                color=COLORS["attention"],
                hovertemplate="claimed: accuracy stays at %{y:.1%}<extra></extra>",
            )
        )
    chance = float(result["chance"])
    fig.add_trace(
        level_trace(
            x0=lengths[0],
            x1=lengths[-1],
            y=chance,
            name=f"Chance (1/{round(1 / chance)})",
            hovertemplate="chance %{y:.1%}<extra></extra>",
        )
    )
    p = result.get("params", {})
    fig.update_layout(
        title={
            "text": "Token accuracy by source length"
            f"<br><sup>{device_label(result)} · {p.get('task')} task, {p.get('steps')} steps</sup>"
        },
        template=TEMPLATE,
        xaxis={"title": {"text": "source length (tokens)"}, "tickvals": lengths},
        yaxis={"title": {"text": "token accuracy (greedy decoding)"}, "range": [0, 1.12], "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 90},
    )
    return to_json_dict(fig)


def _shade_training_lengths(fig: go.Figure, lo: int, hi: int) -> None:
    """A band over the lengths the models were trained on; everything right of it is extrapolation.

    Its label sits above 100 % (the y range leaves room), clear of every trace.
    """
    fig.add_vrect(
        x0=lo - 0.5,
        x1=hi + 0.5,
        fillcolor="#2ca02c",
        opacity=0.08,
        line_width=0,
        annotation_text="training lengths",
        annotation_position="top left",
    )
