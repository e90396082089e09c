"""The length-extrapolation figure: accuracy against evaluation length, one line per position scheme."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from experiments.bench.figure_parts import TEMPLATE, claim_trace, to_json_dict

SCHEME_COLORS = {
    "sinusoidal": "#1f77b4",
    "learned": "#ff7f0e",
    "rope": "#2ca02c",
    "alibi": "#d62728",
    "nope": "#7f7f7f",
}


def length_extrapolation_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Measured accuracy per scheme vs evaluation length (log axis), and the ALiBi claim as a dashed line.

    Learned absolute positions are drawn only up to L, where they are defined; their legend entry says
    so, so the missing points read as "not applicable" rather than as a gap in the data.
    """
    lengths = list(result["eval_lengths"])
    train_len = int(result["train_len"])
    labels = result["scheme_labels"]
    fig = go.Figure()
    for name, accs in result["accuracy"].items():
        xs = [t for t, a in zip(lengths, accs, strict=True) if a is not None]
        ys = [a for a in accs if a is not None]
        label = labels.get(name, name)
        if len(xs) < len(lengths):
            label += f" (none past {train_len})"
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=label,
                line={"color": SCHEME_COLORS.get(name, "#9467bd")},
                hovertemplate=f"{labels.get(name, name)}<br>%{{x}} tokens<br>accuracy %{{y:.1%}}<extra></extra>",
            )
        )
    alibi = result["accuracy"].get("alibi")
    if alibi and train_len in lengths and alibi[lengths.index(train_len)] is not None:
        level = alibi[lengths.index(train_len)]
        fig.add_trace(
            claim_trace(
                x=[train_len, lengths[-1]],
                y=[level, level],
                name=f"Claim: ALiBi holds ({result['claim']['source']})",
                color=SCHEME_COLORS["alibi"],
                hovertemplate="claim: ALiBi keeps its accuracy at L<br>%{y:.1%}<extra></extra>",
            )
        )
    p = result.get("params", {})
    env = result.get("environment", {})
    fig.update_layout(
        title={
            "text": f"Trained at {train_len} tokens, tested longer"
            f"<br><sup>{env.get('device', '?')} · {p.get('steps')} steps x batch {p.get('batch')}, "
            f"{p.get('layers')} layers, width {p.get('d_model')}</sup>"
        },
        template=TEMPLATE,
        xaxis={"title": {"text": "evaluation length (tokens)"}, "type": "log", "tickvals": lengths},
        yaxis={"title": {"text": "accuracy on repeated tokens"}, "range": [0, 1.05], "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 90},
    )
    return to_json_dict(fig)
