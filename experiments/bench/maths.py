"""Small maths helpers and the shared toy model the experiments train."""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn


def fit_power_law(xs: Iterable[float], ys: Iterable[float]) -> float | None:
    """Least-squares slope of log y on log x: the exponent k in y ~ x^k (None if < 2 points)."""
    x = np.log(np.asarray(list(xs), dtype=np.float64))
    y = np.log(np.asarray(list(ys), dtype=np.float64))
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    return float(np.polyfit(x, y, 1)[0])


def sinusoidal_encoding(length: int, dim: int) -> torch.Tensor:
    """The fixed sin/cos positional encoding of "Attention Is All You Need", shape (length, dim)."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


class CausalTransformer(nn.Module):
    """Small causal Transformer encoder on continuous inputs (B, T, d) with sinusoidal PE.

    Used by the gradient-flow and long-range-recall experiments: position t may only
    attend to positions <= t, exactly like a recurrent model reading left to right,
    so the comparison with RNNs is fair.
    """

    def __init__(self, dim: int, heads: int, layers: int, max_len: int = 4096, dropout: float = 0.0) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            d_model=dim, nhead=heads, dim_feedforward=4 * dim, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.register_buffer("pe", sinusoidal_encoding(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.size(1)
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=x.device, dtype=x.dtype)
        return self.encoder(x + self.pe[:t], mask=mask, is_causal=True)
