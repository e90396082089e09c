"""Turns the ``experiment`` placeholders of rendered lesson HTML into live experiment panels.

A panel shows the latest successful run's chart at once (figure JSON embedded with ``json_script``, drawn by
static/js/experiments.js with our own copy of plotly.js), its data table for screen readers and readers without
JavaScript, the device and time of the run, and, for signed-in readers, a real <form> to start a run with
editable, bounded parameters (or, while the task queue cannot be reached, a notice that runs are unavailable
right now), plus a progress bar the script updates while the run is queued or running.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from experiments.bench import registry
from experiments.bench.chart_layout import normalise_figure
from experiments.bench.tables import display_table

from . import catalog, selectors
from .models import ExperimentRun
from .notes import notes_html

PLACEHOLDER = re.compile(r'<div class="experiment-embed" data-experiment="([a-z0-9-]+)"></div>')


@dataclass(frozen=True)
class ParamField:
    """One form control, derived from an entry of the experiment's parameter schema."""

    name: str
    type: str
    input_id: str
    value: Any
    min: Any
    max: Any
    step: str
    choices: tuple[str, ...]
    help: str
    bounds: str

    @property
    def help_id(self) -> str:
        return f"{self.input_id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.input_id}-error"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds_text(field: dict[str, Any]) -> str:
    low, high = field.get("min"), field.get("max")
    if field["type"] == "int_list":
        limits = f", each between {_number(low)} and {_number(high)}" if low is not None and high is not None else ""
        most = f", at most {field['max_items']} values" if field.get("max_items") else ""
        return f"Whole numbers separated by commas{limits}{most}."
    if field["type"] in ("int", "float") and low is not None and high is not None:
        return f"From {_number(low)} to {_number(high)}."
    return ""


def param_fields(schema: list[dict[str, Any]], *, id_prefix: str) -> list[ParamField]:
    fields = []
    for field in schema:
        default = field.get("default")
        if field["type"] == "int_list":
            value = ", ".join(str(item) for item in default or [])
        elif field["type"] == "float":
            value = _number(default)
        else:
            value = default
        fields.append(
            ParamField(
                name=field["name"],
                type=field["type"],
                input_id=f"{id_prefix}-{field['name'].replace('_', '-')}",
                value=value,
                min=None if field.get("min") is None else _number(field["min"]),
                max=None if field.get("max") is None else _number(field["max"]),
                step="1" if field["type"] == "int" else "any",
                choices=tuple(field.get("choices") or ()),
                help=field.get("help") or "",
                bounds=_bounds_text(field),
            )
        )
    return fields


def _environment_summary(run: ExperimentRun) -> dict[str, Any]:
    env = run.environment or {}
    return {
        "device": env.get("device") or run.device_class,
        "device_name": env.get("device_name") or "",
        "torch": env.get("torch") or "",
        "num_threads": env.get("num_threads"),
    }


# The chart, data table and notes of a run are the same for every reader and never change once the run has
# succeeded, but rendering them (a table of up to a few hundred cells, the figure's JSON) is most of a panel's
# cost. Kept for a minute, which bounds how stale "measured 3 minutes ago" can get.
RESULT_FRAGMENT_SECONDS = 60


def _table_for_display(name: str, table: dict[str, Any]) -> dict[str, Any] | None:
    """The table in the chart's words; runs stored before their experiment labelled its table get the labels here."""
    if not table.get("columns"):
        return None
    config_cls = registry.get_experiment(name).config_cls
    return display_table(
        table,
        column_labels=getattr(config_cls, "TABLE_LABELS", {}),
        value_labels=getattr(config_cls, "TABLE_VALUE_LABELS", {}),
    )


def _result_html(
    latest: selectors.RunVersion | None, *, info: catalog.ExperimentInfo, panel_id: str, signed_in: bool,
    runs_available: bool, active_run: ExperimentRun | None = None,
) -> str:
    run = None
    if latest is not None:
        key = f"experiments:panel-result:{latest.pk}:{latest.finished_at.timestamp():.6f}:{panel_id}"
        html = cache.get(key)
        if html is not None:
            return mark_safe(html)
        run = selectors.run_for_detail(latest.pk)  # None when it was deleted a moment ago
    if run is None:
        context = {
            "run": None, "info": info, "signed_in": signed_in, "runs_available": runs_available,
            "active_run": active_run,
        }
        return render_to_string("experiments/_panel_result.html", context)
    result = run.result or {}
    table = result.get("table") or {}
    html = render_to_string(
        "experiments/_panel_result.html",
        {
            "run": run,
            "info": info,
            "figure_id": f"{panel_id}-figure",
            # Runs stored before the chart layout existed get it here (applying it again changes nothing).
            "figure": normalise_figure(run.figure) if run.figure else None,
            "table": _table_for_display(run.experiment, table),
            "notes": notes_html(result.get("notes") or []),
            "environment": _environment_summary(run),
        },
    )
    cache.set(key, html, timeout=RESULT_FRAGMENT_SECONDS)
    return mark_safe(html)  # our own template's output, escaped when it was rendered


@lru_cache(maxsize=64)
def _fields_html(name: str, device_class: str, panel_id: str) -> str:
    """The parameter controls depend only on the code's schema: rendered once per process."""
    fields = param_fields(catalog.param_schema(name, device_class), id_prefix=panel_id)
    html = render_to_string("experiments/_panel_fields.html", {"fields": fields, "device_class": device_class})
    return mark_safe(html)


class _PageState:
    """Per-page lookups shared by every panel of one lesson (a page may embed the same experiment twice)."""

    def __init__(self, request: HttpRequest, *, shared: bool = False) -> None:
        self.request = request
        self.seen: dict[str, int] = {}
        if shared:  # rendered once for every signed-in reader (core/page_shell.py): nobody's own runs
            self.active_runs = {}

    @cached_property
    def device_class(self) -> str:
        return selectors.expected_device_class()

    @cached_property
    def runs_available(self) -> bool:
        """Asked only for signed-in readers (only they get the Run button), once per page."""
        return selectors.runs_available()

    @cached_property
    def active_runs(self) -> dict[str, ExperimentRun]:
        """The signed-in reader's queued or running runs, by experiment (one query for every panel)."""
        return selectors.active_runs_by_experiment(self.request.user)

    def panel_id(self, name: str) -> str:
        self.seen[name] = self.seen.get(name, 0) + 1
        count = self.seen[name]
        return f"experiment-{name}" if count == 1 else f"experiment-{name}-{count}"


def panel_context(name: str, *, state: _PageState) -> dict[str, Any]:
    panel_id = state.panel_id(name)
    base = {"name": name, "panel_id": panel_id}
    if name not in catalog.experiment_names():
        return {**base, "known": False}
    request = state.request
    info = catalog.get_info(name)
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    # With the broker down the form would only answer 503: say so instead, and keep the latest results.
    runs_available = state.runs_available if signed_in else False
    latest = selectors.latest_successful_run_version(name)
    active_run = state.active_runs.get(name) if signed_in else None
    return {
        **base,
        "known": True,
        "info": info,
        "run": latest,
        "result_html": _result_html(
            latest, info=info, panel_id=panel_id, signed_in=signed_in, runs_available=runs_available,
            active_run=active_run,
        ),
        "signed_in": signed_in,
        "runs_available": runs_available,
        "active_run": active_run,
        "active_percent": round((active_run.progress or 0) * 100) if active_run else 0,
        "device_class": state.device_class,
        "fields_html": _fields_html(name, state.device_class, panel_id) if runs_available else "",
        "next": request.get_full_path(),
    }


def expand_experiment_panels(html: str, *, request: HttpRequest, shared: bool = False) -> str:
    """``shared``: the panels as any signed-in reader without a queued or running run of their own sees them."""
    if not PLACEHOLDER.search(html):
        return html
    state = _PageState(request, shared=shared)

    def panel(match: re.Match) -> str:
        return render_to_string("experiments/panel.html", panel_context(match.group(1), state=state), request=request)

    # The script once per page, after the panels (deferred; plotly.js itself is loaded only when a chart is due).
    return PLACEHOLDER.sub(panel, html) + render_to_string("experiments/_script.html", request=request)
