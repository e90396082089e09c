from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import selectors


@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    query = selectors.clean_query(request.GET.get("q", ""))
    results = selectors.search(query) if query else []
    return render(request, "search/results.html", {"query": query, "results": results,
                                                    "max_chars": selectors.MAX_QUERY_CHARS})
