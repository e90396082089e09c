"""The attention-heads figure: per-head attention maps, head importance, pruning curve, KV cache per attention type.

Built from a stored result alone (no torch), like every experiment figure (see ``figure_parts.py``).
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.bench.figure_parts import TEMPLATE, claim_trace, device_label, to_json_dict
from experiments.bench.tables import table_records

MAP_COLUMNS = 2  # at most two heatmaps side by side, so each stays legible on a phone
LAYER_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
CLAIM_COLOR = "#888"


def attention_heads_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Heatmaps (2 per row, one shared 0-1 colour scale), then importance and pruning, then the KV cache."""
    columns = result["table"]["columns"]
    heads = table_records(result["table"], column_labels={})
    maps = [m for layer in result["example"]["maps"] for m in layer]
    map_rows = math.ceil(len(maps) / MAP_COLUMNS)
    kv = result["kv_cache"]
    fig = _heads_subplots(heads, head_column=columns[0], maps=maps, map_rows=map_rows, kv=kv)
    _add_attention_maps(fig, [h[columns[0]] for h in heads], maps, tokens=result["example"]["tokens"])
    _add_head_importance(fig, heads, head_column=columns[0], loss_column=columns[1], row=map_rows + 1)
    _add_pruning_curve(fig, result, heads=len(heads), row=map_rows + 1)
    _add_kv_cache_panel(fig, kv["variants"], row=map_rows + 2)
    fig.update_layout(
        title={
            "text": f"Attention heads on {result['environment'].get('device', '?')}"
            f"<br><sup>{device_label(result)}</sup>"
        },
        template=TEMPLATE,
        height=260 * (map_rows + 2) + 160,
        coloraxis={
            "colorscale": "Blues",
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"title": {"text": "attention weight", "side": "right"}, "len": 0.3, "y": 1, "yanchor": "top"},
        },
        legend={"orientation": "h", "y": -0.05, "yanchor": "top"},
        margin={"t": 90},
        showlegend=True,
    )
    fig.update_annotations(font={"size": 12})  # subplot titles: two fit side by side on a phone
    return to_json_dict(fig)


def _heads_subplots(
    heads: list[dict[str, Any]], *, head_column: str, maps: list[Any], map_rows: int, kv: dict[str, Any]
) -> go.Figure:
    """A grid of attention maps, then importance beside pruning, then the KV cache across the full width."""
    specs: list[list[Any]] = [[{}, {}] for _ in range(map_rows)]
    specs += [[{}, {}], [{"colspan": 2}, None]]
    titles = [f"{h[head_column]}: {h['Role']}" for h in heads]
    titles += [""] * (map_rows * MAP_COLUMNS - len(maps))
    titles += ["Masking one head", "Pruning heads", f"KV cache, {kv['context']} tokens, {kv['dtype']}"]
    return make_subplots(
        rows=map_rows + 2,
        cols=MAP_COLUMNS,
        specs=specs,
        subplot_titles=titles,
        vertical_spacing=0.3 / (map_rows + 2),
        horizontal_spacing=0.12,
    )


def _add_attention_maps(fig: go.Figure, labels: list[str], maps: list[Any], *, tokens: list[Any]) -> None:
    """One heatmap per head, MAP_COLUMNS to a row, queries top to bottom; the hover names both tokens."""
    positions = list(range(len(tokens)))
    hover_tokens = [[[tokens[q], tokens[k]] for k in positions] for q in positions]
    for i, (label, z) in enumerate(zip(labels, maps, strict=True)):
        r, c = divmod(i, MAP_COLUMNS)
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=positions,
                y=positions,
                coloraxis="coloraxis",
                customdata=hover_tokens,
                name=label,
                hovertemplate=(
                    f"{label}<br>query position %{{y}} (token %{{customdata[0]}})"
                    "<br>key position %{x} (token %{customdata[1]})<br>attention weight %{z:.2f}<extra></extra>"
                ),
            ),
            row=r + 1,
            col=c + 1,
        )
        fig.update_yaxes(autorange="reversed", title_text="query position" if c == 0 else None, row=r + 1, col=c + 1)
        fig.update_xaxes(title_text="key position", row=r + 1, col=c + 1)


def _add_head_importance(
    fig: go.Figure, heads: list[dict[str, Any]], *, head_column: str, loss_column: str, row: int
) -> None:
    """Loss increase when each head alone is masked: one bar colour per layer."""
    for layer in sorted({int(h[head_column].split()[0][1:]) for h in heads}):
        picked = [h for h in heads if h[head_column].startswith(f"L{layer} ")]
        fig.add_trace(
            go.Bar(
                x=[h[head_column] for h in picked],
                y=[h[loss_column] for h in picked],
                marker={"color": LAYER_COLORS[(layer - 1) % len(LAYER_COLORS)]},
                customdata=[[h["Role"]] for h in picked],
                name=f"Layer {layer} heads (measured)",
                hovertemplate="%{x} (%{customdata[0]})<br>loss increase %{y:.3f} nats<extra></extra>",
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(title_text="loss increase (nats)", row=row, col=1)


def _add_pruning_curve(fig: go.Figure, result: dict[str, Any], *, heads: int, row: int) -> None:
    """Held-out loss as heads are masked one after another, and the share Voita et al. pruned, dashed."""
    curve = result["pruning_curve"]
    fig.add_trace(
        go.Scatter(
            x=[p["pruned"] for p in curve],
            y=[p["loss"] for p in curve],
            customdata=[[p["head"] or "none"] for p in curve],
            mode="lines+markers",
            name="Held-out loss (measured)",
            line={"color": "#333"},
            hovertemplate="%{x} heads masked (last: %{customdata[0]})<br>loss %{y:.3f} nats<extra></extra>",
        ),
        row=row,
        col=2,
    )
    claim = result["claims"]["voita_2019"]
    share = claim["pruned"] / claim["total"]
    fig.add_trace(
        claim_trace(
            x=[share * heads, share * heads],
            y=[0, max(p["loss"] for p in curve)],
            name=f"Claim: {claim['pruned']}/{claim['total']} heads pruned (Voita et al. 2019)",
            color=CLAIM_COLOR,
            width=None,
            hovertemplate=f"Voita et al. 2019 (translation): {share:.0%} of heads pruned<extra></extra>",
        ),
        row=row,
        col=2,
    )
    fig.update_xaxes(title_text="heads masked", range=[-0.3, heads + 0.3], row=row, col=2)
    fig.update_yaxes(title_text="held-out loss (nats)", rangemode="tozero", row=row, col=2)


def _add_kv_cache_panel(fig: go.Figure, variants: list[dict[str, Any]], *, row: int) -> None:
    """KV cache bytes per attention type (bars) against the claimed MHA / (h/g) (dashed)."""
    mha = variants[0]
    # "MHA<br>4 KV heads": two short lines, so the bar labels never collide on a phone.
    bar_labels = [v["label"].replace(", ", "<br>", 1) for v in variants]
    fig.add_trace(
        go.Bar(
            x=bar_labels,
            y=[v["bytes"] / 2**20 for v in variants],
            marker={"color": "#1f77b4"},
            name="KV cache (formula, checked on real tensors)",
            customdata=[[v["bytes_per_token"]] for v in variants],
            hovertemplate="%{x}<br>%{y:.3g} MiB<br>%{customdata[0]} bytes per token<extra></extra>",
        ),
        row=row,
        col=1,
    )
    fig.add_trace(
        claim_trace(
            x=bar_labels,
            y=[mha["bytes"] * v["kv_heads"] / mha["kv_heads"] / 2**20 for v in variants],
            mode="lines+markers",
            name="Claim: MHA / (h/g) (Shazeer; Ainslie et al.)",
            color=CLAIM_COLOR,
            width=None,
            marker={"symbol": "x"},
            hovertemplate="%{x}<br>claimed %{y:.3g} MiB<extra></extra>",
        ),
        row=row,
        col=1,
    )
    fig.update_yaxes(title_text="KV cache (MiB)", rangemode="tozero", row=row, col=1)
