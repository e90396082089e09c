"""Line fitting shared by the PDF and the share image: the largest size at which a text fits a width."""
from __future__ import annotations

from collections.abc import Callable, Iterable


def _greedy_lines(tokens: list[str], widths: list[float], joiner: str, joiner_width: float, limit: float,
                  max_lines: int) -> tuple[list[str], float]:
    """Greedy line breaking on pre-measured tokens; returns the lines and the widest line's width."""
    lines: list[list[str]] = [[]]
    line_widths = [0.0]
    for token, width in zip(tokens, widths, strict=True):
        extra = joiner_width + width if lines[-1] else width
        if lines[-1] and line_widths[-1] + extra > limit and len(lines) < max_lines:
            lines.append([token])
            line_widths.append(width)
        else:
            lines[-1].append(token)
            line_widths[-1] += extra
    return [joiner.join(line) for line in lines], max(line_widths)


def fit_lines(text: str, max_width: float, unit_width: Callable[[str], float], *,
              sizes: Iterable[tuple[int, int, int]]) -> tuple[list[str], int]:
    """The largest size, and the line breaks, at which ``text`` fits ``max_width``.

    ``unit_width`` measures a fragment at size 1 (widths scale linearly with size, so every token is measured
    once). ``sizes`` lists (number of lines, largest size, smallest size) to try in turn. Lines break between
    words, or between characters when words alone cannot fit (CJK names have no spaces; some names are one
    long word). If nothing fits, the last split tried is returned: only absurd input gets there, and it still
    draws, just past the margin.
    """
    words = text.split(" ")
    tokenisations = [(words, " "), (list(text), "")] if len(words) > 1 else [(list(text), "")]
    measured = [(tokens, [unit_width(t) for t in tokens], joiner, unit_width(joiner) if joiner else 0.0)
                for tokens, joiner in tokenisations]
    lines, size = [text], 1
    for line_count, largest, smallest in sizes:
        for size in range(largest, smallest - 1, -1):
            for tokens, widths, joiner, joiner_width in measured:
                lines, widest = _greedy_lines(tokens, widths, joiner, joiner_width, max_width / size, line_count)
                # Re-measure the chosen lines whole: Arabic letters change shape with their neighbours.
                if widest * size <= max_width and all(unit_width(line) * size <= max_width for line in lines):
                    return lines, size
    return lines, size
