"""The layer-norm-placement figure, built from a stored result alone (see ``layer_norm_placement.py``)."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.bench.figure_parts import TEMPLATE, device_label, to_json_dict

PLACEMENT_COLORS = {"post": "#d62728", "pre": "#1f77b4"}
# Lighter shades for shallower stacks in the per-layer panel: the deepest stack is drawn in full colour.
DEPTH_OPACITY = (1.0, 0.7, 0.5, 0.35)
CLAIM_COLOR = "#555"
SCHEDULE_SYMBOLS = {True: "circle", False: "square"}
SCHEDULE_LABELS = {True: "with warm-up", False: "no warm-up"}


def layer_norm_placement_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Gradient norm per layer at initialisation, top-layer gradient against depth (with Xiong et al.'s
    claimed scaling, dashed), and the final training loss of every run with divergence marks."""
    labels: dict[str, str] = result["placement_labels"]
    depths: list[int] = list(result["depths"])
    grads: dict[str, dict[str, list[float]]] = result["init_grad_norms"]
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("Gradient per layer at init", "Top layer at init vs depth", "Final training loss"),
        horizontal_spacing=0.09,
    )

    # 1. per-layer gradient norms at initialisation, deepest stack in full colour
    for placement, label in labels.items():
        for rank, depth in enumerate(sorted(depths, reverse=True)):
            norms = grads[placement][str(depth)]
            fig.add_trace(
                go.Scatter(
                    x=list(range(1, len(norms) + 1)),
                    y=norms,
                    mode="lines+markers",
                    name=f"{label}, {depth} layers",
                    legendgroup=f"layers-{placement}",
                    opacity=DEPTH_OPACITY[min(rank, len(DEPTH_OPACITY) - 1)],
                    line={"color": PLACEMENT_COLORS[placement]},
                    marker={"size": 5},
                    hovertemplate=f"{label}, {depth} layers<br>layer %{{x}}<br>gradient norm %{{y:.3g}}<extra></extra>",
                ),
                row=1,
                col=1,
            )

    # 2. top-layer gradient against depth, measured and as claimed (anchored at the shallowest stack)
    shallow = min(depths)
    xs = sorted(depths)
    for placement, label in labels.items():
        top = [grads[placement][str(d)][-1] for d in xs]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=top,
                mode="lines+markers",
                name=f"{label}, top layer",
                line={"color": PLACEMENT_COLORS[placement]},
                hovertemplate=f"{label}<br>%{{x}} layers<br>top-layer gradient norm %{{y:.3g}}<extra></extra>",
            ),
            row=1,
            col=2,
        )
        anchor = top[0]
        if placement == "pre":
            claimed = [anchor * math.sqrt(shallow / d) for d in xs]
            name = f"{label} claim ∝ 1/√L (Xiong et al. 2020)"
        else:
            claimed = [anchor for _ in xs]
            name = f"{label} claim: flat (Xiong et al. 2020)"
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=claimed,
                mode="lines",
                name=name,
                line={"color": PLACEMENT_COLORS[placement], "dash": "dash", "width": 1.5},
                hovertemplate=f"{name}<br>%{{x}} layers<br>%{{y:.3g}}<extra></extra>",
            ),
            row=1,
            col=2,
        )

    # 3. final training loss per (placement, schedule) against depth; diverged runs as crosses at the threshold
    threshold = float(result["divergence_threshold"])
    diverged_x: list[int] = []
    diverged_text: list[str] = []
    for placement, label in labels.items():
        for warmup in (True, False):
            runs = sorted(
                (r for r in result["runs"] if r["placement"] == placement and r["warmup"] == warmup),
                key=lambda r: r["depth"],
            )
            name = f"{label}, {SCHEDULE_LABELS[warmup]}"
            fig.add_trace(
                go.Scatter(
                    x=[r["depth"] for r in runs],
                    y=[r["final_loss"] for r in runs],  # None (a gap) where the run diverged
                    mode="lines+markers",
                    name=name,
                    line={"color": PLACEMENT_COLORS[placement], "width": 2 if warmup else 1},
                    marker={"symbol": SCHEDULE_SYMBOLS[warmup], "size": 8 if warmup else 7},
                    opacity=1.0 if warmup else 0.6,
                    hovertemplate=f"{name}<br>%{{x}} layers<br>final training loss %{{y:.3f}}<extra></extra>",
                ),
                row=1,
                col=3,
            )
            for r in runs:
                if r["diverged"]:
                    diverged_x.append(r["depth"])
                    diverged_text.append(f"{name}, {r['depth']} layers: diverged at step {r['diverged_at_step']}")
    if diverged_x:
        fig.add_trace(
            go.Scatter(
                x=diverged_x,
                y=[threshold] * len(diverged_x),
                mode="markers",
                name="diverged",
                marker={"symbol": "x", "size": 11, "color": "#000"},
                text=diverged_text,
                hovertemplate="%{text}<extra></extra>",
            ),
            row=1,
            col=3,
        )
    uniform = float(result["uniform_loss"])
    fig.add_trace(
        go.Scatter(
            x=[min(depths), max(depths)],
            y=[uniform, uniform],
            mode="lines",
            name=f"uniform guess (ln {result['params'].get('vocab')})",
            line={"color": CLAIM_COLOR, "dash": "dot", "width": 1},
            hovertemplate=f"loss of a uniform guess: {uniform:.3f}<extra></extra>",
        ),
        row=1,
        col=3,
    )

    p = result.get("params", {})
    fig.update_layout(
        title={
            "text": f"Post-LN vs Pre-LN on {result['environment'].get('device', '?')}"
            f"<br><sup>{device_label(result)} · lr {p.get('lr')}, {p.get('steps')} steps, "
            f"warm-up {p.get('warmup_steps')} steps</sup>"
        },
        template=TEMPLATE,
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 100},
    )
    fig.update_xaxes(title_text="layer (1 = bottom)", tickformat="d", dtick=1 if max(xs) <= 12 else None, row=1, col=1)
    fig.update_yaxes(title_text="gradient norm", type="log", row=1, col=1)
    fig.update_xaxes(title_text="layers L", type="log", tickvals=xs, row=1, col=2)
    fig.update_yaxes(title_text="top-layer gradient norm", type="log", row=1, col=2)
    fig.update_xaxes(title_text="layers L", type="log", tickvals=xs, row=1, col=3)
    fig.update_yaxes(title_text="training loss (nats)", rangemode="tozero", row=1, col=3)
    return to_json_dict(fig)
