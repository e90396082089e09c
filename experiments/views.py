"""The experiments JSON API (and the no-JavaScript form post of the lesson panels). Thin: parse, call, answer.

GET  /experiments/                 experiments with their parameter schema and defaults
POST /experiments/runs/            {"experiment": ..., "params": {...}} -> 202 queued / 200 reused / 4xx / 503
GET  /experiments/runs/<id>/       status, progress, result, figure; ETag + If-None-Match -> 304 for cheap polling
"""
from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import parse_etags, quote_etag, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core import throttle

from . import catalog, polling, selectors, services
from .bench.memory import MEMORY_ERROR_KEY
from .models import ExperimentRun
from .notes import notes_html

SIGN_IN_MESSAGE = "Sign in to run experiments on this server."


def _json_error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def run_summary(run: ExperimentRun) -> dict[str, Any]:
    """What a client needs to find and follow a run."""
    return {
        "id": run.pk,
        "url": run.get_absolute_url(),
        "experiment": run.experiment,
        "status": run.status,
    }


def run_payload(run: ExperimentRun, *, queue_position: int | None) -> dict[str, Any]:
    return {
        **run_summary(run),
        "progress": run.progress,
        "progress_message": run.progress_message,
        "queue_position": queue_position,
        "params": run.params,
        "device_class": run.device_class,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "queued_s": run.queued_s,
        "duration_s": run.duration_s,
        "environment": run.environment,
        "error": run.error or None,
        "result": run.result,
        # The notes as the panel shows them (inline Markdown, sanitised), so the script never renders Markdown.
        "notes_html": notes_html((run.result or {}).get("notes") or []),
        "figure": run.figure,
    }


@require_GET
def experiment_list(request: HttpRequest) -> JsonResponse:
    device_class = selectors.expected_device_class()
    experiments = []
    for name in catalog.experiment_names():
        info = catalog.get_info(name)
        schema = catalog.param_schema(name, device_class)
        latest = selectors.latest_successful_run_summary(name)
        experiments.append(
            {
                "name": name,
                "title": info.title,
                "description": info.description,
                "params": schema,
                "defaults": {field["name"]: field["default"] for field in schema},
                "latest_run": run_summary(latest) if latest else None,
            }
        )
    return JsonResponse(
        {"device_class": device_class, "runs_url": reverse("experiments:run_create"), "experiments": experiments}
    )


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


# A run request is small and flat: {"experiment": name, "params": {name: scalar or list of scalars}}.
BODY_SHAPE = '{"experiment": name, "params": {name: value or [values]}}'
MAX_BODY_BYTES = 16 * 1024
_SCALARS = (str, int, float, bool, type(None))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _parse_json_body(request: HttpRequest) -> tuple[str, Any]:
    """The run request, or ValueError with the message to answer 400 with.

    Anything but the flat shape above is refused here, before any of it is walked: a deeply nested
    document makes the decoder itself recurse too deep (RecursionError), so nesting never reaches code
    that was written for flat values.
    """
    if len(request.body) > MAX_BODY_BYTES:
        raise ValueError(f"The request body is larger than {MAX_BODY_BYTES // 1024} KB; expected {BODY_SHAPE}.")
    try:
        data = json.loads(request.body or b"null", parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"The request body must be JSON: {BODY_SHAPE}.") from exc
    if not isinstance(data, dict):
        raise ValueError(f"The request body must be a JSON object: {BODY_SHAPE}.")
    unknown = sorted(set(data) - {"experiment", "params"})
    if unknown:
        raise ValueError(f"Unknown key(s) {', '.join(map(repr, unknown))} in the request body; expected {BODY_SHAPE}.")
    experiment = data.get("experiment")
    if not isinstance(experiment, str) or not experiment:
        raise ValueError("\"experiment\" must name an experiment.")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ValueError(f"\"params\" must be a JSON object; expected {BODY_SHAPE}.")
    for name, value in params.items():
        flat = isinstance(value, _SCALARS) or (
            isinstance(value, list) and all(isinstance(item, _SCALARS) for item in value)
        )
        if not flat:
            raise ValueError(f"Parameter {name!r} must be a number, a string, true/false or a list of those.")
    return experiment, params


def _params_from_form(request: HttpRequest, experiment: str) -> dict[str, Any]:
    """The panel's <form> fields, by the experiment's schema; an unticked checkbox is sent as false."""
    schema = catalog.param_schema(experiment, selectors.expected_device_class())
    params: dict[str, Any] = {}
    for field in schema:
        name = field["name"]
        if field["type"] == "bool":
            params[name] = name in request.POST
        elif name in request.POST:
            params[name] = request.POST[name]
    return params


def _invalid_params_message(errors: dict[str, str]) -> str:
    """The 400's headline: a refusal for memory is the whole story, so it is said in full."""
    if MEMORY_ERROR_KEY in errors:
        return f"The run was not started. {errors[MEMORY_ERROR_KEY]}"
    return "Some parameters are not valid."


@require_POST
def run_create(request: HttpRequest) -> HttpResponse:
    wait = throttle.exceeded(request, "experiment_run") if request.user.is_authenticated else None
    if not _is_json(request):
        return _run_create_from_form(request, throttled_for_s=wait)
    if not request.user.is_authenticated:
        return _json_error(401, SIGN_IN_MESSAGE, login_url=reverse("login"))
    if wait is not None:
        return throttle.too_many_requests(request, wait, json=True)
    try:
        experiment, params = _parse_json_body(request)
    except ValueError as exc:
        return _json_error(400, str(exc))
    try:
        submission = services.submit_run(user=request.user, experiment=experiment, params=params)
    except catalog.UnknownExperimentError:
        known = ", ".join(catalog.experiment_names())
        message = f"Unknown experiment {experiment!r}; known experiments: {known}."
        return _json_error(400, message, errors={"experiment": message})
    except catalog.InvalidParamsError as exc:
        return _json_error(400, _invalid_params_message(exc.errors), errors=exc.errors)
    except services.SubmissionRefusedError as exc:
        response = _json_error(exc.status_code, exc.message, run=run_summary(exc.run) if exc.run else None)
        if exc.retry_after_s:
            response["Retry-After"] = str(exc.retry_after_s)
        return response
    run = submission.run
    response = JsonResponse(
        {**run_summary(run), "reused": not submission.created},
        status=202 if submission.created else 200,
    )
    response["Location"] = run.get_absolute_url()
    return response


def _run_create_from_form(request: HttpRequest, *, throttled_for_s: int | None) -> HttpResponse:
    """The lesson panel without JavaScript: submit, then go back to the lesson with a message."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    if not request.user.is_authenticated:
        return redirect_to_login(next_url)
    experiment = request.POST.get("experiment", "")
    anchor = f"#experiment-{experiment}" if experiment else ""
    if throttled_for_s is not None:
        minutes = max(1, round(throttled_for_s / 60))
        messages.error(request, f"You have started many runs recently. Please try again in about {minutes} min.")
        return HttpResponseRedirect(next_url + anchor)
    try:
        params = _params_from_form(request, experiment)
        submission = services.submit_run(user=request.user, experiment=experiment, params=params)
    except catalog.UnknownExperimentError:
        messages.error(request, f"Unknown experiment {experiment!r}.")
    except catalog.InvalidParamsError as exc:
        details = "; ".join(
            message if name == MEMORY_ERROR_KEY else f"{name}: {message}" for name, message in exc.errors.items()
        )
        messages.error(request, f"The run was not started. {details}")
    except services.SubmissionRefusedError as exc:
        messages.error(request, exc.message)
    else:
        if submission.created:
            messages.success(request, f"Your {experiment} run is queued. Reload this page to follow its progress.")
        else:
            messages.info(request, f"An identical {experiment} run is already here (run #{submission.run.pk}).")
    return HttpResponseRedirect(next_url + anchor)


def _etag_for(version: dict, queue_position: int | None) -> str:
    return quote_etag(f"run-{version['pk']}-{version['updated_at'].timestamp():.6f}-q{queue_position or 0}")


@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    version = selectors.run_version(run_id)
    if version is None:
        return _json_error(404, f"No experiment run #{run_id}.")
    if ExperimentRun.overdue(status=version["status"], deadline=version["deadline"], now=timezone.now()):
        # The check on read: a run nobody finished is failed here even when celery beat is not running.
        run = selectors.run_for_detail(run_id)
        if run is not None and services.reap_if_overdue(run):
            version = selectors.run_version(run_id)
    position = selectors.queue_position(status=version["status"], created_at=version["created_at"])
    etag = _etag_for(version, position)
    polling.remember(run_id, etag)  # the next poll with this ETag is answered by polling.RunPollMiddleware
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        return polling.not_modified(etag)
    response = JsonResponse(run_payload(selectors.run_for_detail(run_id), queue_position=position))
    response["ETag"] = etag
    # Always revalidate: a run changes every second while it runs.
    response["Cache-Control"] = "no-cache"
    return response
