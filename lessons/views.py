from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from config.page_cache import cache_anonymous_page
from experiments.panels import expand_experiment_panels
from quizzes.selectors import course_progress
from quizzes.services import record_lesson_read

from . import selectors
from .glossary import load_glossary
from .notebooks import lesson_notebook as lesson_notebook_for
from .notebooks import notebook_json
from .services import ensure_rendered


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


@cache_anonymous_page("content")
def lesson_detail(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    page = selectors.lesson_page(course_slug=course_slug, lesson_slug=lesson_slug)
    ensure_rendered(page.lesson)
    body_html = expand_experiment_panels(page.lesson.html, request=request)
    if request.user.is_authenticated:
        record_lesson_read(user=request.user, module=page.module)
    progress = course_progress(user=request.user, course=page.course, modules=page.modules)
    return render(
        request, "lessons/lesson_detail.html", {"page": page, "body_html": body_html, "progress": progress}
    )


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
