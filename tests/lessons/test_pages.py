import pytest
from django.urls import reverse

from lessons.models import Module

pytestmark = pytest.mark.django_db

COURSE_URL = "/courses/transformers-architecture/"


def test_catalog_lists_the_course_its_modules_and_the_certificate_promise(client, course):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Transformers Architecture" in html
    assert "Free certificate on completion" in html
    for module in Module.objects.filter(course=course):
        assert module.title in html
    assert "badge--beginner" in html


def test_course_page_lists_modules_in_order_with_difficulty_and_reading_time(client, course):
    response = client.get(COURSE_URL)
    assert response.status_code == 200
    html = response.content.decode()
    titles = list(Module.objects.filter(course=course).order_by("order").values_list("title", flat=True))
    assert len(titles) == 7
    positions = [html.index(title) for title in titles]
    assert positions == sorted(positions)
    assert "min read" in html


def test_every_lesson_page_returns_200_with_its_title(client, course):
    for module in Module.objects.filter(course=course).select_related("lesson"):
        response = client.get(module.lesson.get_absolute_url())
        assert response.status_code == 200, module.lesson.slug
        assert f"<h1>{module.title}</h1>" in response.content.decode()


def test_module_one_is_the_problem_with_rnns(client, course):
    response = client.get(COURSE_URL + "the-problem-with-rnns/")
    html = response.content.decode()
    assert "<h1>The Problem With RNNs</h1>" in html
    assert 'class="toc' in html
    assert "min read" in html
    assert 'rel="next"' in html and 'rel="prev"' not in html


def test_lesson_pages_link_previous_and_next(client, course):
    modules = list(Module.objects.filter(course=course).order_by("order").select_related("lesson"))
    html = client.get(modules[1].lesson.get_absolute_url()).content.decode()
    assert modules[0].lesson.get_absolute_url() in html
    assert modules[2].lesson.get_absolute_url() in html
    last = client.get(modules[-1].lesson.get_absolute_url()).content.decode()
    assert 'rel="next"' not in last


def test_lesson_page_does_not_render_markdown_on_a_warm_view(client, course, monkeypatch, settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0  # the view itself, not the whole-page cache, must skip Markdown
    url = reverse("lesson_detail", args=["transformers-architecture", "the-problem-with-rnns"])
    client.get(url)

    def fail(*args, **kwargs):
        raise AssertionError("Markdown was rendered on a page view")

    monkeypatch.setattr("lessons.rendering.render_markdown", fail)
    assert client.get(url).status_code == 200


def test_unknown_pages_get_the_friendly_404(client, db):
    response = client.get("/courses/transformers-architecture/no-such-lesson/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()
    assert client.get("/nope/").status_code == 404


def test_admin_can_preview_a_lesson(admin_client, course):
    from lessons.models import Lesson

    lesson = Lesson.objects.get(slug="the-problem-with-rnns")
    response = admin_client.get(reverse("admin:lessons_lesson_preview", args=[lesson.pk]))
    assert response.status_code == 200
    assert "Admin preview" in response.content.decode()


def test_admin_lists_modules_with_inlines(admin_client, course):
    module = Module.objects.filter(course=course).first()
    assert admin_client.get(reverse("admin:lessons_course_change", args=[course.pk])).status_code == 200
    assert admin_client.get(reverse("admin:lessons_module_change", args=[module.pk])).status_code == 200


@pytest.mark.parametrize("path", [
    "/", "/about/", "/courses/transformers-architecture/",
    "/courses/transformers-architecture/the-problem-with-rnns/",
    "/courses/transformers-architecture/the-problem-with-rnns/quiz/",
])
def test_public_pages_answer_head_requests_from_link_checkers(client, course, path):
    response = client.head(path)
    assert response.status_code == 200
    assert response.content == b""
