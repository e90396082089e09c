"""Turns the ``experiment`` placeholders of rendered lesson HTML into live experiment panels."""
from __future__ import annotations

import re

from django.http import HttpRequest
from django.template.loader import render_to_string

PLACEHOLDER = re.compile(r'<div class="experiment-embed" data-experiment="([a-z0-9-]+)"></div>')


def expand_experiment_panels(html: str, *, request: HttpRequest) -> str:
    def panel(match: re.Match) -> str:
        return render_to_string("experiments/panel.html", {"name": match.group(1)}, request=request)

    return PLACEHOLDER.sub(panel, html)
