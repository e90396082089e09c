from django.contrib import admin

from .models import SearchEntry


@admin.register(SearchEntry)
class SearchEntryAdmin(admin.ModelAdmin):
    """Read-only: the index is rebuilt from the lessons whenever they change."""

    list_display = ("lesson", "kind", "heading", "position")
    list_filter = ("kind", "lesson__module__course")
    search_fields = ("heading", "text")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
