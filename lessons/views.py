from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.page_cache import cache_anonymous_page
from experiments.panels import expand_experiment_panels
from quizzes.selectors import course_progress
from quizzes.services import record_lesson_read

from . import selectors
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
