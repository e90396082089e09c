"""Draw the course's diagrams as SVG: ``python scripts/draw_figures.py`` (re)writes
``content/transformers-architecture/figures/*.svg``.

Plain Python writing SVG text, so the figures are reproducible byte for byte (a test checks that the committed
files equal this script's output) and reviewable as code. Conventions, so every figure reads on a light and a
dark page and for colour-blind readers:

- text and black lines use ``currentColor`` (the page's text colour when the SVG is inlined);
- colour comes from the Okabe-Ito palette, as a solid stroke and a translucent fill of the same hue, so a
  box is tinted on white and on near-black alike, and colour is never the only cue (labels say it too);
- every figure is 560 units wide, text at least 18 units: on a 390 px phone (figure ~350 px) that is ~11 px;
- the output is passed through the site's own sanitiser, so what is committed is exactly what is stored.

``--check`` exits non-zero if a committed file differs from what the script draws.
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lessons.figures import sanitize_svg  # noqa: E402 - the repository root must be importable first

OUT_DIR = ROOT / "content" / "transformers-architecture" / "figures"
WIDTH = 560

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
SKY = "#56B4E9"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#888888"
INK = "currentColor"
# Text sizes in the drawing code are multiplied by this: a figure is shown ~350 px wide on a phone, and 18
# units there is ~11 px.
TEXT_SCALE = 1.2
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


def num(value: float) -> str:
    """Coordinates rounded to 0.1 and written without a trailing .0, so the text is stable and short."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class Drawing:
    """An SVG being drawn: shapes are appended as text, in drawing order."""

    def __init__(self, height: float, *, title: str, desc: str) -> None:
        self.height = height
        self.title = title
        self.desc = desc
        self.parts: list[str] = []

    def box(self, x: float, y: float, w: float, h: float, *, color: str = INK, fill_opacity: float = 0.16,
            rx: float = 6, dash: bool = False, stroke_width: float = 2) -> None:
        fill = f'fill="{color}" fill-opacity="{fill_opacity}"'
        if color == INK:
            fill = 'fill="none"'
        dashed = ' stroke-dasharray="6 4"' if dash else ""
        self.parts.append(
            f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="{num(rx)}" {fill} '
            f'stroke="{color}" stroke-width="{num(stroke_width)}"{dashed}></rect>'
        )

    def cell(self, x: float, y: float, w: float, h: float, *, color: str, opacity: float,
             stroke: str | None = None) -> None:
        """A filled square of a grid (no rounded corners); ``opacity`` carries the value it shows."""
        outline = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
        self.parts.append(
            f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" fill="{color}" '
            f'fill-opacity="{opacity:.2f}"{outline}></rect>'
        )

    def text(self, x: float, y: float, content: str, *, size: float = 17, anchor: str = "middle",
             weight: str | None = None, italic: bool = False, color: str = INK, rotate: float = 0) -> None:
        extra = f' font-weight="{weight}"' if weight else ""
        extra += f' transform="rotate({num(rotate)} {num(x)} {num(y)})"' if rotate else ""
        extra += ' font-style="italic"' if italic else ""
        self.parts.append(
            f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size * TEXT_SCALE)}" text-anchor="{anchor}" '
            f'dominant-baseline="middle" fill="{color}"{extra}>{esc(content)}</text>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, *, color: str = INK, width: float = 2,
             dash: bool = False, opacity: float | None = None) -> None:
        dashed = ' stroke-dasharray="6 4"' if dash else ""
        alpha = f' stroke-opacity="{opacity:.2f}"' if opacity is not None else ""
        self.parts.append(
            f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{color}" '
            f'stroke-width="{num(width)}"{dashed}{alpha} stroke-linecap="round"></line>'
        )

    def polyline(self, points: list[tuple[float, float]], *, color: str = INK, width: float = 2,
                 dash: bool = False) -> None:
        dashed = ' stroke-dasharray="6 4"' if dash else ""
        coords = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        self.parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="{num(width)}"{dashed} '
            'stroke-linejoin="round" stroke-linecap="round"></polyline>'
        )

    def head(self, x: float, y: float, angle: float, *, color: str = INK, size: float = 9) -> None:
        """An arrowhead with its tip at (x, y) pointing along ``angle`` (radians). Drawn as a polygon, not a
        <marker>, so it needs no id (several figures share one page) and takes its own colour."""
        back_x, back_y = x - size * math.cos(angle), y - size * math.sin(angle)
        spread = size * 0.5
        left = (back_x + spread * math.sin(angle), back_y - spread * math.cos(angle))
        right = (back_x - spread * math.sin(angle), back_y + spread * math.cos(angle))
        self.parts.append(
            f'<polygon points="{num(x)},{num(y)} {num(left[0])},{num(left[1])} {num(right[0])},{num(right[1])}" '
            f'fill="{color}"></polygon>'
        )

    def arrow(self, x1: float, y1: float, x2: float, y2: float, *, color: str = INK, width: float = 2,
              dash: bool = False, size: float = 9) -> None:
        angle = math.atan2(y2 - y1, x2 - x1)
        # Stop the shaft at the arrowhead's base so a thick line does not poke through the tip.
        self.line(x1, y1, x2 - 0.8 * size * math.cos(angle), y2 - 0.8 * size * math.sin(angle),
                  color=color, width=width, dash=dash)
        self.head(x2, y2, angle, color=color, size=size)

    def path_arrow(self, points: list[tuple[float, float]], *, color: str = INK, width: float = 2,
                   dash: bool = False, size: float = 9) -> None:
        """An arrow along a polyline (for connections that turn corners)."""
        (xa, ya), (xb, yb) = points[-2], points[-1]
        angle = math.atan2(yb - ya, xb - xa)
        shaft = [*points[:-1], (xb - 0.8 * size * math.cos(angle), yb - 0.8 * size * math.sin(angle))]
        self.polyline(shaft, color=color, width=width, dash=dash)
        self.head(xb, yb, angle, color=color, size=size)

    def circle(self, cx: float, cy: float, r: float, *, color: str = INK, fill_opacity: float = 0.0,
               width: float = 2) -> None:
        fill = f'fill="{color}" fill-opacity="{fill_opacity}"' if fill_opacity else 'fill="none"'
        self.parts.append(
            f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}" {fill} stroke="{color}" '
            f'stroke-width="{num(width)}"></circle>'
        )

    def path(self, d: str, *, color: str = INK, width: float = 2, dash: bool = False) -> None:
        dashed = ' stroke-dasharray="6 4"' if dash else ""
        self.parts.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{num(width)}"{dashed}></path>')

    def labelled_box(self, cx: float, cy: float, w: float, h: float, label: str, *, color: str = INK,
                     size: float = 17, fill_opacity: float = 0.16, weight: str | None = None,
                     dash: bool = False) -> None:
        self.box(cx - w / 2, cy - h / 2, w, h, color=color, fill_opacity=fill_opacity, dash=dash)
        self.text(cx, cy + 1, label, size=size, weight=weight)

    def svg(self) -> str:
        body = "\n".join(self.parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {num(self.height)}" '
            f'width="{WIDTH}" height="{num(self.height)}" font-family="{FONT}">\n'
            f"<title>{esc(self.title)}</title>\n<desc>{esc(self.desc)}</desc>\n{body}\n</svg>\n"
        )


# --- Module 1 -----------------------------------------------------------------------------------------------

def unrolled_rnn() -> Drawing:
    d = Drawing(350, title="An RNN unrolled in time, and the path its gradient takes back",
                desc="Five copies of the same RNN cell, h1 to h5, each reading one input x1 to x5 and passing "
                     "its hidden state to the next. The loss is computed at h5. The gradient flows back from "
                     "the loss through every cell; the line carrying it gets thinner at each step.")
    xs = [90, 190, 290, 390, 490]
    y = 175
    d.arrow(xs[-1], y - 25, xs[-1], 62)
    d.text(xs[-1], 46, "loss L", size=17, weight="bold")
    d.text(12, y + 1, "h₀", size=17, anchor="start")
    d.arrow(36, y, xs[0] - 33, y)
    for i, x in enumerate(xs):
        d.labelled_box(x, y, 62, 50, f"h{'₁₂₃₄₅'[i]}", color=BLUE)
        d.arrow(x, 282, x, y + 27)
        d.text(x, 300, f"x{'₁₂₃₄₅'[i]}", size=17)
        if i:
            d.arrow(xs[i - 1] + 31, y, x - 33, y)
            d.text((xs[i - 1] + x) / 2, y - 12, "W", size=15, italic=True)
    # The backward path: one factor dh_t/dh_(t-1) per step; drawn thinner and fainter as it shrinks.
    gy = 112
    widths = [1.2, 2.2, 3.4, 4.6, 6]
    for i in range(4, 0, -1):
        d.line(xs[i], gy, xs[i - 1] + 10, gy, color=VERMILLION, width=widths[i - 1], dash=i < 3)
    d.head(xs[0], gy, math.pi, color=VERMILLION, size=10)
    d.line(xs[-1], y - 25, xs[-1], gy, color=VERMILLION, width=6)
    d.text(270, 88, "gradient ∂L/∂h: one factor ∂hₜ/∂hₜ₋₁ per step", size=16, color=VERMILLION)
    d.text(xs[0] + 14, 135, "tiny at x₁", size=15, anchor="start", color=VERMILLION)
    d.text(280, 330, "the same cell and weights W at every step", size=15, italic=True)
    return d


def sequential_vs_parallel() -> Drawing:
    d = Drawing(380, title="An RNN computes its states one after another; a Transformer layer all at once",
                desc="Top: an RNN over five tokens needs five steps in time, because each hidden state needs "
                     "the previous one. Bottom: a Transformer layer computes all five positions in one step, "
                     "each position looking at every other.")
    left, step = 130, 86
    d.text(20, 30, "RNN", size=18, anchor="start", weight="bold")
    d.text(20, 52, "each state waits for the one before", size=15, anchor="start")
    for i in range(5):
        x = left + i * step
        d.labelled_box(x, 95, 58, 40, f"h{'₁₂₃₄₅'[i]}", color=BLUE)
        if i:
            d.arrow(x - step + 29, 95, x - 31, 95)
    d.text(20, 203, "Transformer", size=18, anchor="start", weight="bold")
    d.text(20, 225, "all positions in one matrix product", size=15, anchor="start")
    ys = [255, 283, 311, 339, 367]
    for i, yy in enumerate(ys):
        d.labelled_box(left, yy - 7, 58, 24, f"z{'₁₂₃₄₅'[i]}", color=GREEN, size=15)
    brace_x = left + 44
    d.polyline([(brace_x - 6, ys[0] - 19), (brace_x, ys[0] - 19), (brace_x, ys[-1] + 5), (brace_x - 6, ys[-1] + 5)],
               width=1.5)
    d.line(brace_x, (ys[0] + ys[-1]) / 2 - 7, brace_x + 8, (ys[0] + ys[-1]) / 2 - 7, width=1.5)
    # The time axis shared by both rows.
    axis_y = 150
    d.arrow(left - 40, axis_y, left + 4 * step + 50, axis_y, width=1.5)
    d.text(left + 4 * step + 50, axis_y - 14, "time", size=15, anchor="end")
    for i in range(5):
        d.line(left + i * step, axis_y - 5, left + i * step, axis_y + 5, width=1.5)
        d.text(left + i * step, axis_y + 18, f"step {i + 1}", size=15)
    d.text(brace_x + 14, (ys[0] + ys[-1]) / 2 - 7, "step 1: all positions at once,", size=16, anchor="start")
    d.text(brace_x + 14, (ys[0] + ys[-1]) / 2 + 15, "whatever the length", size=16, anchor="start")
    return d


# --- Module 2 -----------------------------------------------------------------------------------------------

def encoder_decoder_bottleneck() -> Drawing:
    d = Drawing(356, title="Sequence to sequence without attention: one vector carries the whole sentence",
                desc="The encoder reads 'the black cat sleeps' into states h1 to h4. Only the last state, "
                     "the context vector c, is passed to the decoder, which writes 'le chat noir dort' "
                     "from it, state s1 to s4.")
    xs = [60, 160, 260, 360]
    words = ["the", "black", "cat", "sleeps"]
    d.text(20, 20, "encoder (reads the source)", size=16, anchor="start", weight="bold")
    for i, x in enumerate(xs):
        d.text(x, 50, words[i], size=16, italic=True)
        d.arrow(x, 62, x, 88)
        d.labelled_box(x, 110, 60, 40, f"h{'₁₂₃₄'[i]}", color=BLUE)
        if i:
            d.arrow(xs[i - 1] + 30, 110, x - 32, 110)
    d.arrow(xs[-1] + 30, 110, 455, 110, width=3)
    d.labelled_box(490, 110, 64, 48, "c", color=ORANGE, size=20, weight="bold", fill_opacity=0.3)
    d.text(490, 152, "c = h₄", size=15)
    d.path_arrow([(490, 166), (490, 196), (60, 196), (60, 224)], color=ORANGE, width=3)
    d.text(275, 184, "the only link between the two halves", size=15, color=INK)
    d.text(20, 338, "decoder (writes the target)", size=16, anchor="start", weight="bold")
    targets = ["le", "chat", "noir", "dort"]
    for i, x in enumerate(xs):
        d.labelled_box(x, 246, 60, 40, f"s{'₁₂₃₄'[i]}", color=GREEN)
        d.arrow(x, 268, x, 290)
        d.text(x, 304, targets[i], size=16, italic=True)
        if i:
            d.arrow(xs[i - 1] + 30, 246, x - 32, 246)
    return d


def _softmax(values: list[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def attention_context() -> Drawing:
    d = Drawing(470, title="Bahdanau attention: a new context vector for every output word",
                desc="All encoder states h1 to h5 are kept. For the output word 'chat', the decoder scores "
                     "each of them against its previous state, a softmax turns the scores into weights that "
                     "sum to 1 (here most weight is on 'cat'), and the weighted sum of the states is the "
                     "context c_i that the decoder cell uses to write the word.")
    xs = [70, 175, 280, 385, 490]
    words = ["the", "black", "cat", "sleeps", "."]
    # Illustrative scores for the target word "chat"; the weights are their softmax.
    weights = _softmax([0.2, 1.1, 3.0, 0.6, -0.5])
    d.text(20, 20, "encoder states, all kept", size=16, anchor="start", weight="bold")
    for i, x in enumerate(xs):
        d.text(x, 50, words[i], size=16, italic=True)
        d.labelled_box(x, 86, 60, 38, f"h{'₁₂₃₄₅'[i]}", color=BLUE)
    d.text(20, 134, "weights αᵢⱼ = softmax(score(sᵢ₋₁, hⱼ))", size=16, anchor="start", weight="bold")
    base = 250
    for i, x in enumerate(xs):
        height = 90 * weights[i]
        d.box(x - 20, base - height, 40, height, color=ORANGE, fill_opacity=0.5, rx=2)
        d.text(x, base - height - 12, f"{weights[i]:.2f}", size=15)
        d.line(x, 156, x, base - height - 30, width=1, dash=True)
        d.line(x, base, 280, 320, width=1 + 5 * weights[i], color=ORANGE)
    d.line(40, base, 520, base, width=1)
    d.circle(280, 338, 20, color=ORANGE, fill_opacity=0.3)
    d.text(280, 339, "Σ", size=20, weight="bold")
    d.text(312, 338, "cᵢ = Σⱼ αᵢⱼ hⱼ", size=16, anchor="start")
    d.arrow(280, 358, 280, 392)
    d.labelled_box(280, 416, 90, 44, "sᵢ", color=GREEN, size=18)
    d.arrow(140, 416, 233, 416)
    d.text(130, 416, "sᵢ₋₁", size=16, anchor="end")
    d.arrow(327, 416, 420, 416)
    d.text(430, 416, "“chat”", size=16, anchor="start", italic=True)
    d.text(280, 455, "decoder cell, writing word i", size=15)
    return d


# --- Module 3 -----------------------------------------------------------------------------------------------

def qkv_pipeline() -> Drawing:
    d = Drawing(520, title="Scaled dot-product self-attention, from X to the output",
                desc="The input X (n by d_model) is multiplied by three weight matrices to give queries Q, "
                     "keys K and values V. Q times K transposed, divided by the square root of d_k, gives an "
                     "n by n score matrix; a softmax over each row turns it into attention weights A; A times "
                     "V is the output, n by d_v.")
    d.labelled_box(280, 36, 170, 44, "X   (n × d_model)", color=INK, size=16)
    cols = [(110, "Q", "W_Q", BLUE, "n × dₖ"), (280, "K", "W_K", ORANGE, "n × dₖ"),
            (450, "V", "W_V", GREEN, "n × dᵥ")]
    for x, name, weight, color, shape in cols:
        d.path_arrow([(280, 58), (280, 76), (x, 76), (x, 116)])
        d.text(x + 8, 97, f"× {weight}", size=15, anchor="start")
        d.labelled_box(x, 140, 110, 44, f"{name}  ({shape})", color=color, size=16)
    d.path_arrow([(110, 162), (110, 200), (205, 200), (205, 222)])
    d.path_arrow([(280, 162), (280, 200), (215, 200), (215, 222)])
    d.labelled_box(210, 246, 200, 46, "Q Kᵀ / √dₖ", color=PURPLE, size=17)
    d.text(320, 246, "scores, n × n", size=15, anchor="start")
    d.arrow(210, 269, 210, 305)
    d.text(222, 287, "(+ mask: −∞ where not allowed)", size=15, anchor="start")
    d.labelled_box(210, 328, 200, 44, "softmax, each row", color=PURPLE, size=16)
    d.arrow(210, 350, 210, 386)
    d.labelled_box(210, 408, 140, 42, "A   (n × n)", color=PURPLE, size=16, fill_opacity=0.3)
    d.path_arrow([(210, 429), (210, 456), (270, 456)])
    d.path_arrow([(450, 162), (450, 476), (390, 476)])
    d.labelled_box(330, 476, 118, 44, "A V", color=GREEN, size=17, fill_opacity=0.3)
    d.text(330, 510, "output, n × dᵥ", size=15)
    return d


def score_matrix_mask() -> Drawing:
    tokens = ["the", "cat", "sat", "on", "it"]
    n = len(tokens)
    # A fixed, made-up score matrix; both panels show its softmax, the right one with the causal mask.
    scores = [[1.0, 0.2, -0.5, 0.1, 0.3], [0.4, 1.6, 0.8, -0.2, 0.1], [0.1, 1.9, 0.9, 0.3, 0.0],
              [-0.3, 0.5, 1.2, 0.6, 0.2], [0.2, 2.1, 0.4, 0.3, 0.7]]
    full = [_softmax(row) for row in scores]
    masked = [_softmax(row[: i + 1]) + [0.0] * (n - i - 1) for i, row in enumerate(scores)]
    d = Drawing(350, title="The attention weight matrix, without and with the causal mask",
                desc="Two 5 by 5 grids for the tokens 'the cat sat on it'. Rows are queries, columns are keys; "
                     "darker cells are larger weights and every row sums to 1. Left: every token may attend "
                     "to every token. Right: with the causal mask, cells above the diagonal (future tokens) "
                     "are set to minus infinity before the softmax, so their weight is 0, and each row's "
                     "weight is spread over the current and earlier tokens only.")
    cell = 36
    for panel, (x0, title, matrix) in enumerate([(90, "no mask", full), (360, "causal mask", masked)]):
        y0 = 86
        d.text(x0 + cell * n / 2, 22, title, size=17, weight="bold")
        d.text(x0 + cell * n / 2, 50, "keys →", size=15)
        for j, token in enumerate(tokens):
            d.text(x0 + cell * j + cell / 2, 70, token, size=15)
        for i, token in enumerate(tokens):
            d.text(x0 - 8, y0 + cell * i + cell / 2, token, size=15, anchor="end")
            for j in range(n):
                x, y = x0 + cell * j, y0 + cell * i
                if panel == 1 and j > i:
                    d.cell(x, y, cell, cell, color=GREY, opacity=0.25, stroke=GREY)
                    d.text(x + cell / 2, y + cell / 2, "−∞", size=15, color=GREY)
                else:
                    d.cell(x, y, cell, cell, color=SKY, opacity=0.08 + 0.92 * matrix[i][j] ** 0.7, stroke=BLUE)
        d.box(x0, y0, cell * n, cell * n, rx=0, stroke_width=1.5)
    d.text(8, 50, "queries ↓", size=15, anchor="start")
    d.text(280, 300, "stronger colour = more weight; each row sums to 1", size=15)
    d.text(280, 326, "−∞ before the softmax becomes weight 0 after it", size=15)
    return d


# --- Module 4 -----------------------------------------------------------------------------------------------

HEAD_COLORS = [BLUE, ORANGE, GREEN, PURPLE]


def _matrix(d: Drawing, x0: float, y0: float, rows: int, colors: list[str], cell: float = 16) -> None:
    for i in range(rows):
        for j, color in enumerate(colors):
            d.cell(x0 + j * cell, y0 + i * cell, cell, cell, color=color, opacity=0.45, stroke=color)


def split_merge_heads() -> Drawing:
    d = Drawing(590, title="Splitting a projection into heads and merging them back",
                desc="The query projection of a 4-token sequence, T by d_model with d_model 8, is cut along "
                     "its columns into h = 4 heads of d_k = 2 columns each (one colour per head). Each head "
                     "runs its own attention on its T by d_k slice (keys and values are split the same "
                     "way). The four outputs are concatenated back to T by d_model and multiplied by W_O.")
    cell, rows = 18, 4
    colors = [c for c in HEAD_COLORS for _ in range(2)]
    x0 = 280 - 4 * cell
    d.text(280, 20, "X W_Q   (T × d_model)", size=16, weight="bold")
    _matrix(d, x0, 36, rows, colors, cell)
    d.text(x0 + 8 * cell + 14, 36 + 2 * cell, "T = 4 tokens", size=15, anchor="start")
    d.text(x0 - 14, 36 + 2 * cell, "d_model = 8", size=15, anchor="end")
    d.text(280, 150, "split: (B, T, d_model) → (B, h, T, dₖ)", size=16)
    heads_x = [70, 205, 340, 475]
    for k, hx in enumerate(heads_x):
        src_x = x0 + (2 * k + 1) * cell
        d.arrow(src_x, 36 + rows * cell + 4, src_x + (hx - src_x) * 0.35, 134, color=HEAD_COLORS[k], width=1.5)
        d.arrow(hx, 164, hx, 176, color=HEAD_COLORS[k], width=1.5, size=7)
        _matrix(d, hx - cell, 180, rows, [HEAD_COLORS[k]] * 2, cell)
        d.text(hx, 268, f"head {k + 1}", size=15, weight="bold")
        d.labelled_box(hx, 304, 104, 40, "attention", color=HEAD_COLORS[k], size=15)
        d.arrow(hx, 324, hx, 352)
        _matrix(d, hx - cell, 356, rows, [HEAD_COLORS[k]] * 2, cell)
        d.arrow(hx, 356 + rows * cell + 4, hx, 450, color=HEAD_COLORS[k], width=1.5, size=7)
        d.arrow(hx + (src_x - hx) * 0.65, 478, src_x, 506, color=HEAD_COLORS[k], width=1.5)
    d.text(280, 464, "merge: concatenate heads → (B, T, d_model)", size=16)
    _matrix(d, x0, 510, rows, colors, cell)
    d.arrow(x0 + 8 * cell + 10, 510 + 2 * cell, x0 + 8 * cell + 70, 510 + 2 * cell)
    d.text(x0 + 8 * cell + 78, 510 + 2 * cell, "× W_O", size=16, anchor="start", weight="bold")
    return d


def kv_sharing() -> Drawing:
    d = Drawing(330, title="Multi-head, grouped-query and multi-query attention share keys and values differently",
                desc="Three panels, each with four query heads. Multi-head attention gives every query head "
                     "its own key-value head (4). Grouped-query attention lets pairs of query heads share one "
                     "(2). Multi-query attention has one key-value head for all four (1). The KV cache shrinks "
                     "in the same ratio: 4, 2 and 1 heads' worth.")
    panels = [(95, "multi-head", 4), (280, "grouped-query", 2), (465, "multi-query", 1)]
    for cx, name, groups in panels:
        d.text(cx, 22, name, size=17, weight="bold")
        d.text(cx, 46, f"g = {groups}", size=15)
        qx = [cx - 66 + 44 * i for i in range(4)]
        per = 4 // groups
        kv_x = [sum(qx[g * per:(g + 1) * per]) / per for g in range(groups)]
        for i, x in enumerate(qx):
            g = i // per
            d.line(x, 100, kv_x[g], 186, width=2, color=HEAD_COLORS[g])
            d.circle(x, 90, 17, color=BLUE, fill_opacity=0.2)
            d.text(x, 91, f"q{'₁₂₃₄'[i]}", size=15)
        for g, x in enumerate(kv_x):
            d.labelled_box(x, 206, 42, 40, "kv" + "₁₂₃₄"[g],
                           color=HEAD_COLORS[g], size=15, fill_opacity=0.25)
        d.text(cx, 262, f"KV cache: {groups} head{'s' if groups > 1 else ''}", size=15)
    d.text(280, 306, "fewer key-value heads → smaller cache, faster decoding", size=15, italic=True)
    return d


# --- Module 5 -----------------------------------------------------------------------------------------------

def sinusoidal_waves() -> Drawing:
    d_model, positions = 16, 24
    d = Drawing(440, title="Sinusoidal positional encoding: each pair of dimensions is a wave of its own frequency",
                desc="Four rows, for dimension pairs i = 0, 1, 2 and 3 of a 16-dimensional encoding, plotted "
                     "over positions 0 to 24. Each row shows sin (solid line, dots at whole positions) and cos "
                     "(dashed). Pair 0 oscillates fastest; each next pair is about three times slower. The "
                     "highlighted column at position 7 reads one position's encoding: a different set of "
                     "values at every position.")
    x0, x1 = 128, 540
    sx = (x1 - x0) / positions
    highlight = 7
    d.box(x0 + (highlight - 0.4) * sx, 30, 0.8 * sx, 352, color=ORANGE, fill_opacity=0.18, rx=3, stroke_width=1)
    d.text(x0 + highlight * sx, 18, "position 7", size=15)
    for i in range(4):
        cy, amp = 72 + i * 88, 30
        freq = 1 / 10000 ** (2 * i / d_model)
        d.line(x0, cy, x1, cy, width=1, opacity=0.35)
        d.text(12, cy - 10, f"pair i = {i}", size=15, anchor="start", weight="bold")
        d.text(12, cy + 12, f"ω = {freq:.3g}", size=15, anchor="start")
        samples = 240
        sin_pts = [(x0 + (x1 - x0) * k / samples, cy - amp * math.sin(positions * k / samples * freq))
                   for k in range(samples + 1)]
        cos_pts = [(x0 + (x1 - x0) * k / samples, cy - amp * math.cos(positions * k / samples * freq))
                   for k in range(samples + 1)]
        d.polyline(cos_pts, color=ORANGE, width=2, dash=True)
        d.polyline(sin_pts, color=BLUE, width=2.5)
        for p in range(positions + 1):
            d.circle(x0 + p * sx, cy - amp * math.sin(p * freq), 2.5, color=BLUE, fill_opacity=1, width=1)
    d.arrow(x0, 400, x1, 400, width=1.5)
    for p in range(0, positions + 1, 4):
        d.line(x0 + p * sx, 395, x0 + p * sx, 405, width=1.5)
        d.text(x0 + p * sx, 418, str(p), size=15)
    d.text(x1, 384, "position", size=15, anchor="end")
    d.line(150, 446, 180, 446, color=BLUE, width=2.5)
    d.text(186, 446, "sin (dim 2i)", size=15, anchor="start")
    d.line(320, 446, 350, 446, color=ORANGE, width=2, dash=True)
    d.text(356, 446, "cos (dim 2i+1)", size=15, anchor="start")
    d.height = 462
    return d


def _dial(d: Drawing, cx: float, cy: float, r: float, angle: float, color: str) -> None:
    d.circle(cx, cy, r, width=1)
    d.arrow(cx, cy, cx + r * math.cos(angle), cy - r * math.sin(angle), color=color, width=2.5, size=8)


def rotary() -> Drawing:
    d = Drawing(490, title="Rotary position embedding: rotate each pair by an angle proportional to its position",
                desc="Top: one 2-dimensional pair of a query at position m and of a key at position n. RoPE "
                     "rotates the query by m times theta and the key by n times theta; the angle between them "
                     "then changes by (n minus m) times theta, so their dot product depends on the offset, "
                     "not on the absolute positions. Bottom: the same vector at positions 0 to 5 in a fast "
                     "pair, which turns a lot per position, and a slow pair, which barely turns.")
    cx, cy, r = 150, 150, 105
    d.line(cx - r - 15, cy, cx + r + 15, cy, width=1, opacity=0.5)
    d.line(cx, cy + r + 15, cx, cy - r - 15, width=1, opacity=0.5)
    d.circle(cx, cy, r, width=1)
    q0, m_theta = math.radians(20), math.radians(45)
    k0, n_theta = math.radians(-10), math.radians(120)
    for angle, color, label, dash in [
        (q0, BLUE, "q", True), (q0 + m_theta, BLUE, "q at m", False),
        (k0, VERMILLION, "k", True), (k0 + n_theta, VERMILLION, "k at n", False),
    ]:
        end = (cx + r * math.cos(angle), cy - r * math.sin(angle))
        d.arrow(cx, cy, *end, color=color, width=2 if dash else 3, dash=dash)
        lx, ly = cx + (r + 22) * math.cos(angle), cy - (r + 22) * math.sin(angle)
        d.text(lx, ly, label, size=15, color=INK, weight=None if dash else "bold")
    d.text(300, 60, "query at position m:", size=16, anchor="start", weight="bold")
    d.text(300, 84, "rotate by m·θᵢ", size=16, anchor="start")
    d.text(300, 124, "key at position n:", size=16, anchor="start", weight="bold")
    d.text(300, 148, "rotate by n·θᵢ", size=16, anchor="start")
    d.text(300, 196, "angle between them", size=16, anchor="start")
    d.text(300, 220, "changes by (n − m)·θᵢ", size=16, anchor="start")
    d.text(20, 300, "the same vector at positions 0 … 5", size=16, anchor="start", weight="bold")
    for row, (name, theta, color) in enumerate([("fast pair (small i)", 0.9, BLUE),
                                                ("slow pair (large i)", 0.09, GREEN)]):
        y = 350 + row * 78
        d.text(20, y - 8, name.split(" (")[0], size=15, anchor="start")
        d.text(20, y + 12, "(" + name.split(" (")[1], size=15, anchor="start")
        for p in range(6):
            _dial(d, 200 + p * 66, y, 26, p * theta, color)
            if row == 1:
                d.text(200 + p * 66, y + 40, f"{p}", size=15)
    return d


# --- Module 6 -----------------------------------------------------------------------------------------------

def _sublayer(d: Drawing, cx: float, y: float, w: float, label: str, color: str) -> None:
    """A sublayer box with its residual add and LayerNorm (Post-LN, as in the 2017 paper)."""
    d.labelled_box(cx, y, w, 34, label, color=color, size=15)
    d.labelled_box(cx, y - 44, w, 26, "add & LayerNorm", color=INK, size=15)
    d.arrow(cx, y - 17, cx, y - 30)
    # The residual: from below the sublayer straight to the add.
    d.path_arrow([(cx, y + 30), (cx - w / 2 - 12, y + 30), (cx - w / 2 - 12, y - 44), (cx - w / 2, y - 44)],
                 width=1.5)


def full_transformer() -> Drawing:
    d = Drawing(640, title="The Transformer: an encoder stack and a decoder stack",
                desc="Left, the encoder: source token embeddings plus sinusoidal positions go through N layers "
                     "of multi-head self-attention and a feed-forward network, each followed by a residual add "
                     "and LayerNorm. Right, the decoder: target tokens shifted right, plus positions, go through "
                     "N layers of masked (causal) self-attention, cross-attention whose keys and values come "
                     "from the encoder's output, and a feed-forward network, each with add and LayerNorm. A "
                     "linear layer and softmax turn the decoder's output into next-token probabilities.")
    ex, dx, w = 140, 410, 200
    sub_w = w - 20
    for x, label in ((ex, "source tokens"), (dx, "target tokens, shifted right")):
        d.text(x, 626, label, size=15)
        d.arrow(x, 614, x, 596)
        d.labelled_box(x, 578, w + 18, 32, "embedding + positions", color=INK, size=15)
    # Encoder, bottom to top.
    d.box(ex - w / 2 - 24, 330, w + 36, 220, color=BLUE, fill_opacity=0.06, rx=10, dash=True)
    d.text(ex - w / 2 - 24, 318, "encoder", size=17, anchor="start", weight="bold")
    d.text(ex + w / 2 + 8, 342, "× N", size=16, anchor="end", weight="bold")
    d.arrow(ex, 562, ex, 519)
    _sublayer(d, ex, 500, sub_w, "self-attention", BLUE)
    d.arrow(ex, 443, ex, 429)
    _sublayer(d, ex, 410, sub_w, "feed-forward", SKY)
    # Decoder, bottom to top.
    d.box(dx - w / 2 - 24, 256, w + 36, 300, color=GREEN, fill_opacity=0.06, rx=10, dash=True)
    d.text(dx + w / 2 + 12, 244, "decoder", size=17, anchor="end", weight="bold")
    d.text(dx + w / 2 + 8, 268, "× N", size=16, anchor="end", weight="bold")
    d.arrow(dx, 562, dx, 539)
    _sublayer(d, dx, 520, sub_w, "masked attention", GREEN)
    d.arrow(dx, 463, dx, 449)
    _sublayer(d, dx, 430, sub_w, "cross-attention", ORANGE)
    d.arrow(dx, 373, dx, 359)
    _sublayer(d, dx, 340, sub_w, "feed-forward", SKY)
    # The encoder's output (memory) feeds every decoder layer's cross-attention.
    d.path_arrow([(ex, 353), (ex, 250), (272, 250), (272, 430), (dx - sub_w / 2, 430)], color=ORANGE, width=3)
    d.text(ex + 8, 236, "memory: keys & values", size=15, anchor="start")
    d.arrow(dx, 283, dx, 149)
    d.labelled_box(dx, 130, w, 34, "linear → softmax", color=PURPLE, size=15)
    d.arrow(dx, 113, dx, 62)
    d.text(dx, 44, "next-token probabilities", size=15)
    return d


def pre_post_ln() -> Drawing:
    d = Drawing(470, title="Post-LN and Pre-LN: where the LayerNorm sits relative to the residual",
                desc="Left, Post-LN (the original Transformer): x goes through the sublayer, is added to the "
                     "residual x, then normalised; the residual path passes through a LayerNorm in every "
                     "layer. Right, Pre-LN: x is normalised first, then goes through the sublayer, and the "
                     "result is added to x; the residual path from input to output is a straight line with "
                     "nothing on it.")
    for cx, title, pre in [(140, "Post-LN (2017)", False), (420, "Pre-LN", True)]:
        d.text(cx, 22, title, size=18, weight="bold")
        d.text(cx, 410, "x", size=17, italic=True)
        d.arrow(cx, 396, cx, 370)
        residual_x = cx - 95
        if pre:
            d.labelled_box(cx, 340, 140, 34, "LayerNorm", color=PURPLE, size=15)
            d.arrow(cx, 323, cx, 286)
            d.labelled_box(cx, 260, 140, 44, "sublayer", color=BLUE, size=16)
            d.arrow(cx, 238, cx, 186)
            d.circle(cx, 168, 17, width=2)
            d.text(cx, 169, "+", size=20, weight="bold")
            d.arrow(cx, 151, cx, 62)
            d.path_arrow([(cx, 372), (residual_x, 372), (residual_x, 168), (cx - 19, 168)], color=VERMILLION,
                         width=4)
            d.text(residual_x - 14, 270, "residual: nothing on it", size=15, rotate=-90)
        else:
            d.labelled_box(cx, 320, 140, 44, "sublayer", color=BLUE, size=16)
            d.arrow(cx, 298, cx, 246)
            d.circle(cx, 228, 17, width=2)
            d.text(cx, 229, "+", size=20, weight="bold")
            d.arrow(cx, 211, cx, 176)
            d.labelled_box(cx, 158, 140, 34, "LayerNorm", color=PURPLE, size=15)
            d.arrow(cx, 141, cx, 62)
            d.path_arrow([(cx, 372), (residual_x, 372), (residual_x, 228), (cx - 19, 228)], color=VERMILLION,
                         width=4)
            d.text(residual_x - 14, 300, "residual", size=15, rotate=-90)
        d.text(cx, 44, "to the next layer", size=15)
    d.line(280, 40, 280, 456, width=1, dash=True, opacity=0.5)
    d.text(140, 444, "norm on the main path", size=15)
    d.text(420, 444, "norm only on the branch", size=15)
    return d


# --- Module 7 -----------------------------------------------------------------------------------------------

def kv_cache() -> Drawing:
    d = Drawing(400, title="Decoding with a KV cache: each step computes keys and values for one new token",
                desc="Three rows. Prefill: the prompt t0 to t3 is processed at once and the keys and values of "
                     "all four tokens are stored in the cache; the model predicts t4. Decode step: only the new "
                     "token t4 gets its key and value computed and appended; its query attends to the cached "
                     "t0 to t3 and itself, and the model predicts t5. Next step: the same for t5.")
    cell, x0 = 48, 112
    rows = [("prefill", 4, 4), ("step 2", 5, 1), ("step 3", 6, 1)]
    d.text(x0 + 3 * cell, 20, "KV cache (one key and one value per token)", size=16, weight="bold")
    for r, (name, length, new) in enumerate(rows):
        y = 44 + r * 100
        d.text(20, y + 20, name, size=16, anchor="start", weight="bold")
        qx = x0 + (length - 1) * cell + cell / 2
        for i in range(length):
            d.line(qx, y + 56, x0 + i * cell + cell / 2, y + 40, width=1.2, color=BLUE)
        for i in range(length):
            fresh = i >= length - new
            color = ORANGE if fresh else GREY
            d.box(x0 + i * cell + 3, y, cell - 6, 40, color=color, fill_opacity=0.35 if fresh else 0.15, rx=4)
            d.text(x0 + i * cell + cell / 2, y + 21, f"t{i}", size=15)
        d.circle(qx, y + 67, 12, color=BLUE, fill_opacity=0.25)
        d.text(qx, y + 68, "q", size=15)
        d.arrow(x0 + 6 * cell + 6, y + 20, x0 + 6 * cell + 40, y + 20)
        d.text(x0 + 6 * cell + 48, y + 20, f"predict t{length}", size=15, anchor="start")
    d.box(20, 346, 16, 16, color=ORANGE, fill_opacity=0.35, rx=3)
    d.text(42, 354, "key, value computed this step", size=15, anchor="start")
    d.box(20, 372, 16, 16, color=GREY, fill_opacity=0.15, rx=3)
    d.text(42, 380, "read from the cache", size=15, anchor="start")
    d.circle(300, 380, 9, color=BLUE, fill_opacity=0.25)
    d.text(316, 380, "the new token's query", size=15, anchor="start")
    return d


def teacher_forcing() -> Drawing:
    d = Drawing(300, title="Teacher forcing: the decoder input is the target shifted right by one",
                desc="The target sentence 'le chat noir dort' followed by an end token is the list of labels. "
                     "The decoder's input is the same sentence shifted one place to the right, starting with a "
                     "start token. At every position the decoder predicts the next token, and all positions "
                     "are trained in parallel; the causal mask keeps each position from seeing its label.")
    inputs = ["<bos>", "le", "chat", "noir", "dort"]
    targets = ["le", "chat", "noir", "dort", "<eos>"]
    xs = [80 + 98 * i for i in range(5)]
    d.text(20, 24, "labels", size=16, anchor="start", weight="bold")
    d.text(20, 276, "decoder input", size=16, anchor="start", weight="bold")
    d.labelled_box(280, 150, 500, 52, "decoder (causal mask)", color=GREEN, size=16)
    for i, x in enumerate(xs):
        d.labelled_box(x, 232, 80, 36, inputs[i], color=BLUE, size=15)
        d.arrow(x, 213, x, 178)
        d.arrow(x, 124, x, 88)
        d.labelled_box(x, 68, 80, 36, targets[i], color=ORANGE, size=15)
    d.text(548, 24, "loss at every position", size=15, anchor="end")
    d.text(548, 276, "= labels shifted right by one", size=15, anchor="end")
    return d


FIGURES: dict[str, Callable[[], Drawing]] = {
    "01-unrolled-rnn.svg": unrolled_rnn,
    "01-sequential-vs-parallel.svg": sequential_vs_parallel,
    "02-encoder-decoder-bottleneck.svg": encoder_decoder_bottleneck,
    "02-attention-context.svg": attention_context,
    "03-qkv-pipeline.svg": qkv_pipeline,
    "03-score-matrix-mask.svg": score_matrix_mask,
    "04-split-merge-heads.svg": split_merge_heads,
    "04-kv-sharing.svg": kv_sharing,
    "05-sinusoidal-waves.svg": sinusoidal_waves,
    "05-rotary.svg": rotary,
    "06-full-transformer.svg": full_transformer,
    "06-pre-post-ln.svg": pre_post_ln,
    "07-kv-cache.svg": kv_cache,
    "07-teacher-forcing.svg": teacher_forcing,
}


def render_all() -> dict[str, str]:
    """Every figure's final text (sanitised exactly as the site stores it), by file name."""
    return {name: sanitize_svg(draw().svg()) + "\n" for name, draw in FIGURES.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed files")
    args = parser.parse_args(argv)
    figures = render_all()
    stale = [name for name, text in figures.items()
             if not (OUT_DIR / name).exists() or (OUT_DIR / name).read_text(encoding="utf-8") != text]
    if args.check:
        for name in stale:
            print(f"out of date: {name}")
        return 1 if stale else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (OUT_DIR / name).write_text(figures[name], encoding="utf-8", newline="\n")
        print(f"wrote {OUT_DIR.relative_to(ROOT) / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
