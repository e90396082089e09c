"""Formatting for experiment panels (the JavaScript in static/js/experiments.js formats the same way)."""
from __future__ import annotations

import math
from typing import Any

from django import template

register = template.Library()


@register.filter
def experiment_cell(value: Any) -> str:
    """A result-table cell: floats to 4 significant digits, lists comma-separated, missing values as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(experiment_cell(item) for item in value)
    return str(value)


@register.filter
def param_label(name: str) -> str:
    """``batch_sizes`` -> ``Batch sizes``."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]
