"""The product's URLs plus one bench-only baseline: the smallest Django view, through the same middleware."""
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as product_urlpatterns


def minimal(request: HttpRequest) -> HttpResponse:
    """What any Django page costs on this server: the full middleware stack, no query, no template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal, name="bench_minimal"), *product_urlpatterns]
