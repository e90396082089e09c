from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from certificates import views as certificate_views
from core.health import healthz
from lessons import views as lesson_views
from search.views import search_page

urlpatterns = [
    path("", lesson_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("experiments/", include("experiments.urls")),
    path("certificates/", include("certificates.urls")),
    path(".well-known/jwks.json", certificate_views.jwks, name="jwks"),
    path(".well-known/jwks/<slug:thumbprint>.json", certificate_views.jwk, name="jwk"),
    path("", include("quizzes.urls")),
    path("search/", search_page, name="search"),
    path("about/", TemplateView.as_view(template_name="about.html"), name="about"),
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path("courses/<slug:course_slug>/", lesson_views.course_detail, name="course_detail"),
    # Before the lesson pattern, which would otherwise take "glossary" for a lesson's slug.
    path("courses/<slug:course_slug>/glossary/", lesson_views.glossary, name="glossary"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/", lesson_views.lesson_detail, name="lesson_detail"),
    path(
        "courses/<slug:course_slug>/<slug:lesson_slug>/notebook.ipynb",
        lesson_views.lesson_notebook,
        name="lesson_notebook",
    ),
]

handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
