from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html

from experiments.panels import expand_experiment_panels

from .models import Course, Lesson, Module
from .selectors import LessonPage
from .services import refresh_render_cache


class ModuleInline(admin.TabularInline):
    model = Module
    fields = ("order", "title", "summary", "difficulty", "published")
    extra = 0
    ordering = ("order",)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "issuer_name", "updated_at")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [ModuleInline]


class LessonInline(admin.StackedInline):
    model = Lesson
    fields = ("slug", "body")
    extra = 0


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("order", "title", "course", "difficulty", "published", "preview_link")
    list_display_links = ("title",)
    list_editable = ("order", "published")
    list_filter = ("course", "difficulty", "published")
    ordering = ("course", "order")
    search_fields = ("title", "summary")
    inlines = [LessonInline]

    @admin.display(description="Preview")
    def preview_link(self, module: Module) -> str:
        if not hasattr(module, "lesson"):
            return "-"
        url = reverse("admin:lessons_lesson_preview", args=[module.lesson.pk])
        return format_html('<a href="{}">Preview</a>', url)


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ("__str__", "slug", "reading_minutes", "word_count", "updated_at", "loaded_at")
    search_fields = ("slug", "module__title", "body")
    readonly_fields = ("reading_minutes", "word_count", "loaded_at", "updated_at")
    fields = ("module", "slug", "body", "reading_minutes", "word_count", "loaded_at", "updated_at")

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="lessons_lesson_preview",
            )
        ]
        return custom + super().get_urls()

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Shows the lesson exactly as students see it, including unpublished modules and unsaved renders."""
        lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk)
        refresh_render_cache(lesson)
        page = LessonPage(
            course=lesson.module.course, lesson=lesson, module=lesson.module, previous=None, next=None,
            modules=[lesson.module],
        )
        body_html = expand_experiment_panels(lesson.html, request=request)
        return render(request, "lessons/lesson_detail.html", {"page": page, "body_html": body_html, "preview": True})
