"""The layer-norm-placement figure, built from a stored result alone (see ``layer_norm_placement.py``)."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.bench.figure_parts import TEMPLATE, claim_trace, device_label, level_trace, to_json_dict

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
    depths: list[int] = sorted(result["depths"])
    grads: dict[str, dict[str, list[float]]] = result["init_grad_norms"]
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("Gradient per layer at init", "Top layer at init vs depth", "Final training loss"),
        horizontal_spacing=0.09,
    )
    for placement, label in labels.items():
        _add_gradient_per_layer(fig, grads[placement], placement=placement, label=label, depths=depths)
    for placement, label in labels.items():
        _add_top_layer_against_depth(fig, grads[placement], placement=placement, label=label, depths=depths)
    diverged: list[tuple[int, str]] = []
    for placement, label in labels.items():
        diverged += _add_final_losses(fig, result, placement=placement, label=label)
    if diverged:
        _add_divergence_marks(fig, diverged, threshold=float(result["divergence_threshold"]))
    _add_uniform_guess(fig, result, depths=depths)
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
    _set_axes(fig, depths)
    return to_json_dict(fig)


def _add_gradient_per_layer(
    fig: go.Figure, grads: dict[str, list[float]], *, placement: str, label: str, depths: list[int]
) -> None:
    """Panel 1: gradient norm of each layer at initialisation, one line per depth, the deepest in full colour."""
    for rank, depth in enumerate(reversed(depths)):
        norms = grads[str(depth)]
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


def _add_top_layer_against_depth(
    fig: go.Figure, grads: dict[str, list[float]], *, placement: str, label: str, depths: list[int]
) -> None:
    """Panel 2: the top layer's gradient against depth, measured, and as Xiong et al. claim it (dashed),
    anchored at the shallowest stack so that only the trend is compared."""
    top = [grads[str(d)][-1] for d in depths]
    fig.add_trace(
        go.Scatter(
            x=depths,
            y=top,
            mode="lines+markers",
            name=f"{label}, top layer",
            line={"color": PLACEMENT_COLORS[placement]},
            hovertemplate=f"{label}<br>%{{x}} layers<br>top-layer gradient norm %{{y:.3g}}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    if placement == "pre":
        claimed = [top[0] * math.sqrt(depths[0] / d) for d in depths]
        name = f"{label} claim ∝ 1/√L (Xiong et al. 2020)"
    else:
        claimed = [top[0] for _ in depths]
        name = f"{label} claim: flat (Xiong et al. 2020)"
    fig.add_trace(
        claim_trace(
            x=depths,
            y=claimed,
            name=name,
            color=PLACEMENT_COLORS[placement],
            hovertemplate=f"{name}<br>%{{x}} layers<br>%{{y:.3g}}<extra></extra>",
        ),
        row=1,
        col=2,
    )


def _add_final_losses(fig: go.Figure, result: dict[str, Any], *, placement: str, label: str) -> list[tuple[int, str]]:
    """Panel 3: final training loss against depth, with and without warm-up; returns the diverged runs'
    (depth, description), which have no loss (a gap in their line)."""
    diverged = []
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
        diverged += [
            (r["depth"], f"{name}, {r['depth']} layers: diverged at step {r['diverged_at_step']}")
            for r in runs
            if r["diverged"]
        ]
    return diverged


def _add_divergence_marks(fig: go.Figure, diverged: list[tuple[int, str]], *, threshold: float) -> None:
    """Panel 3: a black cross at the divergence threshold for each run that diverged."""
    fig.add_trace(
        go.Scatter(
            x=[depth for depth, _ in diverged],
            y=[threshold] * len(diverged),
            mode="markers",
            name="diverged",
            marker={"symbol": "x", "size": 11, "color": "#000"},
            text=[text for _, text in diverged],
            hovertemplate="%{text}<extra></extra>",
        ),
        row=1,
        col=3,
    )


def _add_uniform_guess(fig: go.Figure, result: dict[str, Any], *, depths: list[int]) -> None:
    """Panel 3: the loss of guessing uniformly, the level a model that learnt nothing stays at."""
    uniform = float(result["uniform_loss"])
    fig.add_trace(
        level_trace(
            x0=min(depths),
            x1=max(depths),
            y=uniform,
            name=f"uniform guess (ln {result['params'].get('vocab')})",
            color=CLAIM_COLOR,
            hovertemplate=f"loss of a uniform guess: {uniform:.3f}<extra></extra>",
        ),
        row=1,
        col=3,
    )


def _set_axes(fig: go.Figure, depths: list[int]) -> None:
    fig.update_xaxes(
        title_text="layer (1 = bottom)", tickformat="d", dtick=1 if max(depths) <= 12 else None, row=1, col=1
    )
    fig.update_yaxes(title_text="gradient norm", type="log", row=1, col=1)
    fig.update_xaxes(title_text="layers L", type="log", tickvals=depths, row=1, col=2)
    fig.update_yaxes(title_text="top-layer gradient norm", type="log", row=1, col=2)
    fig.update_xaxes(title_text="layers L", type="log", tickvals=depths, row=1, col=3)
    fig.update_yaxes(title_text="training loss (nats)", rangemode="tozero", row=1, col=3)
