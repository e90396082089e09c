from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string

from core.page_cache import cache_anonymous_page
from core.page_shell import CSRF_HOLE, SIGNED_IN_READER, Holes, Shell, ShellCopies
from experiments import selectors as experiment_selectors
from experiments.panels import PLACEHOLDER, expand_experiment_panels
from quizzes.selectors import CourseProgress, course_progress
from quizzes.services import read_lesson

from . import selectors
from .glossary import load_glossary
from .notebooks import lesson_notebook as lesson_notebook_for
from .notebooks import notebook_json
from .rendering import ensure_rendered


@cache_anonymous_page("content")
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "lessons/home.html", {"courses": selectors.catalog()})


@cache_anonymous_page("content")
def course_detail(request: HttpRequest, course_slug: str) -> HttpResponse:
    course = selectors.get_course(course_slug)
    modules = list(selectors.published_modules(course))
    progress = course_progress(user=request.user, course=course, modules=modules)
    return render(
        request,
        "lessons/course_detail.html",
        {
            "course": course,
            "modules": modules,
            "total_minutes": sum(m.lesson.reading_minutes for m in modules),
            "progress": progress,
        },
    )


@cache_anonymous_page("content", "experiments")  # its panels show each experiment's latest result
def lesson_detail(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    if request.user.is_authenticated:
        return _signed_in_lesson_detail(request, course_slug=course_slug, lesson_slug=lesson_slug)
    page = selectors.lesson_page(course_slug=course_slug, lesson_slug=lesson_slug)
    ensure_rendered(page.lesson)
    body_html = expand_experiment_panels(page.lesson.html, request=request)
    progress = course_progress(user=request.user, course=page.course, modules=page.modules)
    return render(
        request, "lessons/lesson_detail.html", {"page": page, "body_html": body_html, "progress": progress}
    )


# A lesson is the same for every signed-in reader but for the CSRF token, the progress marks and the state of
# the reader's own experiment runs: the page is rendered once per process and content generation for "any
# signed-in reader" (core/page_shell.py) and the personal parts are filled in per request.
_lesson_shells = ShellCopies(namespaces=("content", "experiments"))


@dataclass(frozen=True)
class _ShellFacts:
    page: selectors.LessonPage  # the rows it was rendered from (same generation), for the personal parts
    experiments: frozenset[str]  # embedded in the lesson: their panels depend on the state below
    runs_available: bool  # whether the panels offer a Run button (the broker answers)
    # The personal parts rendered so far, by the reader's progress through the course (all they depend on: they
    # are rendered for SIGNED_IN_READER, not the reader), so most requests render neither template.
    personal_parts: dict = field(default_factory=dict, compare=False)


def _signed_in_lesson_detail(request: HttpRequest, *, course_slug: str, lesson_slug: str) -> HttpResponse:
    user = request.user
    # Flash messages and a query string (the panels' "next" field) belong to this request only.
    shareable = not request.META.get("QUERY_STRING") and not len(messages.get_messages(request))
    shell = _lesson_shells.get(request.path) if shareable else None
    if shell is not None and shell.facts.experiments:
        if experiment_selectors.has_active_run(user, shell.facts.experiments):
            shell, shareable = None, False  # the panels show this reader's own run
        elif experiment_selectors.runs_available() != shell.facts.runs_available:
            shell = None
    outcome = "hit"
    if shell is None:
        generation = _lesson_shells.generation()
        page = selectors.lesson_page(course_slug=course_slug, lesson_slug=lesson_slug)
        ensure_rendered(page.lesson)
        experiments = frozenset(PLACEHOLDER.findall(page.lesson.html))
        if shareable and experiments and experiment_selectors.has_active_run(user, experiments):
            shareable = False
        shell = _render_lesson_shell(request, page, experiments=experiments, shared=shareable)
        if shareable:
            _lesson_shells.put(request.path, shell, generation=generation)
        outcome = "miss" if shareable else "private"
    page = shell.facts.page
    progress = read_lesson(user=user, module=page.module, course=page.course, modules=page.modules)
    parts = _personal_parts(shell.facts, page=page, progress=progress)
    response = HttpResponse(shell.fill({CSRF_HOLE: get_token(request), **parts}))
    response["X-Page-Shell"] = outcome
    return response


_MAX_PERSONAL_PARTS = 256


def _personal_parts(facts: _ShellFacts, *, page: selectors.LessonPage, progress: CourseProgress) -> dict[str, str]:
    """The reader's progress mark and quiz call-to-action, rendered once per shell for each distinct progress."""
    key = tuple(progress.modules)
    parts = facts.personal_parts.get(key)
    if parts is None:
        context = {"page": page, "progress": progress, "user": SIGNED_IN_READER}
        parts = {
            "status": render_to_string("quizzes/_lesson_status.html", context),
            "quiz_cta": render_to_string("quizzes/_lesson_quiz_cta.html", context),
        }
        if len(facts.personal_parts) >= _MAX_PERSONAL_PARTS:
            facts.personal_parts.clear()
        facts.personal_parts[key] = parts
    return parts


def _render_lesson_shell(
    request: HttpRequest, page: selectors.LessonPage, *, experiments: frozenset[str], shared: bool
) -> Shell:
    """The page with holes. ``shared``: rendered for :data:`SIGNED_IN_READER` instead of the reader, so no name,
    run or other personal detail can reach a copy that other readers get."""
    runs_available = bool(experiments) and experiment_selectors.runs_available()
    facts = _ShellFacts(page=page, experiments=experiments, runs_available=runs_available)
    holes = Holes()
    reader = request.user
    if shared:
        request.user = SIGNED_IN_READER
    try:
        body_html = expand_experiment_panels(page.lesson.html, request=request, shared=shared)
        html = render_to_string(
            "lessons/lesson_detail.html", {"page": page, "body_html": body_html, "holes": holes}, request=request
        )
    finally:
        request.user = reader
    return Shell.cut(html, holes, facts=facts)


@cache_anonymous_page("content")
def lesson_notebook(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    """The lesson as a Jupyter notebook (text, code cells and the outputs the lesson shows)."""
    page = selectors.lesson_page(course_slug=course_slug, lesson_slug=lesson_slug)
    notebook = lesson_notebook_for(
        title=f"Module {page.module.order}: {page.module.title}",
        body=page.lesson.body,
        lesson_url=settings.SITE_URL + page.lesson.get_absolute_url(),
        course_title=page.course.title,
    )
    response = HttpResponse(notebook_json(notebook), content_type="application/x-ipynb+json")
    response["Content-Disposition"] = f'attachment; filename="{page.module.order:02d}-{page.lesson.slug}.ipynb"'
    return response


@cache_anonymous_page("content")
def glossary(request: HttpRequest, course_slug: str) -> HttpResponse:
    course = selectors.get_course(course_slug)
    terms = load_glossary(course.slug)
    if terms is None:
        raise Http404("This course has no glossary.")
    return render(request, "lessons/glossary.html", {"course": course, "glossary": terms})
