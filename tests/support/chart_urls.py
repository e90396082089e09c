"""A page with one experiment panel and nothing else, for the chart layout test.

Every registered experiment gets a panel here, whether or not a lesson embeds it yet; the panel is the real one
(``expand_experiment_panels``), in the lesson page's layout (so it gets a lesson's width), so the chart is drawn by the real script.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path
from django.utils.safestring import mark_safe

from experiments.panels import expand_experiment_panels

PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<div class="wrap lesson-layout"><aside class="lesson-sidebar"></aside>'
    '<article class="lesson"><div class="prose">{{ panels }}</div></article></div>{% endblock %}'
)


def chart_page(request: HttpRequest, name: str) -> HttpResponse:
    placeholder = f'<div class="experiment-embed" data-experiment="{name}"></div>'
    panels = mark_safe(expand_experiment_panels(placeholder, request=request))  # our own templates, escaped
    return HttpResponse(PAGE.render({"panels": panels}, request))


urlpatterns = [
    path("chart/<slug:name>/", chart_page),
    path("", include("config.urls")),
]
