"""The attention-heads figure: per-head attention maps, head importance, pruning curve, KV cache per attention type.

Built from a stored result alone (no torch), like every figure in ``charts.py``.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.bench.figure_parts import TEMPLATE, to_json_dict

MAP_COLUMNS = 2  # at most two heatmaps side by side, so each stays legible on a phone
LAYER_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _device_line(result: dict[str, Any]) -> str:
    env = result.get("environment", {})
    line = f"{env.get('device', '?')}: {env.get('device_name') or '?'}"
    if str(env.get("device", "")).startswith("cpu") and env.get("num_threads"):
        line += f", {env['num_threads']} thread" + ("s" if env["num_threads"] != 1 else "")
    return line


def attention_heads_figure(result: dict[str, Any]) -> dict[str, Any]:
    """Heatmaps (2 per row, one shared 0-1 colour scale), then importance and pruning, then the KV cache."""
    cols = result["table"]["columns"]
    rows = [dict(zip(cols, r, strict=True)) for r in result["table"]["rows"]]
    labels = [r[cols[0]] for r in rows]
    kv = result["kv_cache"]
    maps = [m for layer in result["example"]["maps"] for m in layer]
    map_rows = math.ceil(len(maps) / MAP_COLUMNS)
    specs: list[list[Any]] = [[{}, {}] for _ in range(map_rows)]
    specs += [[{}, {}], [{"colspan": 2}, None]]
    titles = [f"{r[cols[0]]}: {r['Role']}" for r in rows]
    titles += [""] * (map_rows * MAP_COLUMNS - len(maps))
    titles += ["Masking one head", "Pruning heads", f"KV cache, {kv['context']} tokens, {kv['dtype']}"]
    fig = make_subplots(
        rows=map_rows + 2,
        cols=MAP_COLUMNS,
        specs=specs,
        subplot_titles=titles,
        vertical_spacing=0.3 / (map_rows + 2),
        horizontal_spacing=0.12,
    )

    tokens = result["example"]["tokens"]
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

    importance_row = map_rows + 1
    for layer in sorted({int(label.split()[0][1:]) for label in labels}):
        picked = [r for r in rows if r[cols[0]].startswith(f"L{layer} ")]
        fig.add_trace(
            go.Bar(
                x=[r[cols[0]] for r in picked],
                y=[r[cols[1]] for r in picked],
                marker={"color": LAYER_COLORS[(layer - 1) % len(LAYER_COLORS)]},
                customdata=[[r["Role"]] for r in picked],
                name=f"Layer {layer} heads (measured)",
                hovertemplate="%{x} (%{customdata[0]})<br>loss increase %{y:.3f} nats<extra></extra>",
            ),
            row=importance_row,
            col=1,
        )
    fig.update_yaxes(title_text="loss increase (nats)", row=importance_row, col=1)

    curve = result["pruning_curve"]
    total = len(labels)
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
        row=importance_row,
        col=2,
    )
    claim = result["claims"]["voita_2019"]
    share = claim["pruned"] / claim["total"]
    top = max(p["loss"] for p in curve)
    fig.add_trace(
        go.Scatter(
            x=[share * total, share * total],
            y=[0, top],
            mode="lines",
            name=f"Claim: {claim['pruned']}/{claim['total']} heads pruned (Voita et al. 2019)",
            line={"color": "#888", "dash": "dash"},
            hovertemplate=f"Voita et al. 2019 (translation): {share:.0%} of heads pruned<extra></extra>",
        ),
        row=importance_row,
        col=2,
    )
    fig.update_xaxes(title_text="heads masked", range=[-0.3, total + 0.3], row=importance_row, col=2)
    fig.update_yaxes(title_text="held-out loss (nats)", rangemode="tozero", row=importance_row, col=2)

    kv_row = map_rows + 2
    variants = kv["variants"]
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
        row=kv_row,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=bar_labels,
            y=[mha["bytes"] * v["kv_heads"] / mha["kv_heads"] / 2**20 for v in variants],
            mode="lines+markers",
            name="Claim: MHA / (h/g) (Shazeer; Ainslie et al.)",
            line={"color": "#888", "dash": "dash"},
            marker={"symbol": "x"},
            hovertemplate="%{x}<br>claimed %{y:.3g} MiB<extra></extra>",
        ),
        row=kv_row,
        col=1,
    )
    fig.update_yaxes(title_text="KV cache (MiB)", rangemode="tozero", row=kv_row, col=1)

    fig.update_layout(
        title={
            "text": f"Attention heads on {result['environment'].get('device', '?')}"
            f"<br><sup>{_device_line(result)}</sup>"
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
