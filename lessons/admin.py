from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from experiments.panels import expand_experiment_panels

from .admin_fields import ADMIN_CSS, LESSON_BODY_WIDGET, UnixNewlinesField, text_overrides
from .figures import FIGURE_NAME, SvgError, sanitize_svg
from .models import Course, Figure, Lesson, Module
from .rendering import refresh_render_cache
from .selectors import LessonPage


def _preview_response(request: HttpRequest, lesson: Lesson) -> HttpResponse:
    """The lesson page exactly as students would see it, with the course's real module count."""
    module = lesson.module
    modules = list(Module.objects.filter(course=module.course).order_by("order"))
    if module.pk is None or module not in modules:
        modules = sorted([*modules, module], key=lambda m: m.order)
    page = LessonPage(course=module.course, lesson=lesson, module=module, previous=None, next=None, modules=modules)
    body_html = expand_experiment_panels(lesson.html, request=request)
    return render(request, "lessons/lesson_detail.html", {"page": page, "body_html": body_html, "preview": True})


DRAFT_BUTTON = "_save_as_draft"
DRAFT_HELP = (
    "Untick to keep the module and its lesson a draft: saved and previewable here, but not shown to students "
    "(course page, lesson page, quizzes) until it is ticked again."
)


class ModuleInline(admin.TabularInline):
    model = Module
    fields = ("order", "title", "summary", "difficulty", "published")
    extra = 0
    ordering = ("order",)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    formfield_overrides = text_overrides()
    list_display = ("title", "slug", "issuer_name", "updated_at")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [ModuleInline]


class LessonInline(admin.StackedInline):
    model = Lesson
    fields = ("slug", "body")
    extra = 0
    formfield_overrides = text_overrides()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "body":
            kwargs.update(form_class=UnixNewlinesField, widget=LESSON_BODY_WIDGET)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("order", "title", "course", "difficulty", "published", "preview_link")
    list_display_links = ("title",)
    list_editable = ("order", "published")
    list_filter = ("course", "difficulty", "published")
    ordering = ("course", "order")
    search_fields = ("title", "summary")
    inlines = [LessonInline]
    # Adds "Save as draft": saves with Published unticked (see save_model).
    change_form_template = "admin/lessons/module/change_form.html"

    class Media:
        css = ADMIN_CSS

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "published":
            field.help_text = DRAFT_HELP
        return field

    def save_model(self, request: HttpRequest, obj: Module, form, change: bool) -> None:
        draft = DRAFT_BUTTON in request.POST
        if draft:
            obj.published = False
        super().save_model(request, obj, form, change)
        if draft:
            self.message_user(request, f"“{obj}” is saved as a draft: students do not see it.", messages.WARNING)

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
    readonly_fields = ("publication", "reading_minutes", "word_count", "loaded_at", "updated_at")
    fields = ("module", "publication", "slug", "body", "reading_minutes", "word_count", "loaded_at", "updated_at")
    # Adds "Preview unsaved text": the form's text posted to preview_unsaved_view, rendered, never saved.
    change_form_template = "admin/lessons/lesson/change_form.html"

    class Media:
        css = ADMIN_CSS

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "body":
            kwargs.update(form_class=UnixNewlinesField, widget=LESSON_BODY_WIDGET)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="Visible to students")
    def publication(self, lesson: Lesson) -> str:
        """Whether saving this form publishes the text: it does unless the module is a draft (unpublished)."""
        if lesson.pk is None:
            return "Depends on the module: only a published module's lesson is shown to students."
        url = reverse("admin:lessons_module_change", args=[lesson.module_id])
        if lesson.module.published:
            return format_html(
                'Yes: saving publishes the text at once. To save without publishing, make the module a draft first '
                '(<a href="{}">untick Published or use "Save as draft" on the module</a>).',
                url,
            )
        return format_html(
            'No, draft: the module is unpublished, so saving publishes nothing. <a href="{}">Publish the module</a> '
            "when the text is ready.",
            url,
        )

    def get_urls(self):
        custom = [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="lessons_lesson_preview"),
            path(
                "preview/unsaved/",
                self.admin_site.admin_view(require_POST(self.preview_unsaved_view)),
                name="lessons_lesson_preview_unsaved",
            ),
        ]
        return custom + super().get_urls()

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The saved lesson exactly as students see it, including unpublished modules."""
        lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk)
        refresh_render_cache(lesson)
        return _preview_response(request, lesson)

    def preview_unsaved_view(self, request: HttpRequest) -> HttpResponse:
        """The text in the edit form, rendered as students would see it once saved; nothing is written."""
        if not self.has_change_permission(request) and not self.has_add_permission(request):
            raise PermissionDenied
        module = get_object_or_404(Module.objects.select_related("course"), pk=request.POST.get("module") or 0)
        body = UnixNewlinesField(required=False).clean(request.POST.get("body", ""))
        lesson = Lesson(module=module, slug=request.POST.get("slug") or "preview", body=body)
        refresh_render_cache(lesson)
        return _preview_response(request, lesson)


class FigureForm(forms.ModelForm):
    """Paste the SVG or upload a file; either way it is sanitised before it is stored."""

    upload = forms.FileField(required=False, help_text="An .svg file; replaces the text below.")

    class Meta:
        model = Figure
        fields = ("course", "name", "upload", "svg")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["svg"].required = False

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not FIGURE_NAME.match(name):
            raise forms.ValidationError("Lower-case letters, digits and dashes, ending in .svg")
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("upload")
        text = cleaned.get("svg") or ""
        if upload is not None:
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("upload", "The file is not UTF-8 text.")
                return cleaned
        try:
            cleaned["svg"] = sanitize_svg(text)
        except SvgError as exc:
            self.add_error("upload" if upload is not None else "svg", str(exc))
        return cleaned


@admin.register(Figure)
class FigureAdmin(admin.ModelAdmin):
    form = FigureForm
    list_display = ("name", "course", "updated_at")
    list_filter = ("course",)
    search_fields = ("name",)
    readonly_fields = ("preview",)

    def get_fields(self, request, obj=None):
        return ("course", "name", "upload", "svg", "preview")

    @admin.display(description="Preview (as sanitised)")
    def preview(self, figure: Figure) -> str:
        # Already sanitised on save: the same markup the lesson pages inline.
        return format_html('<div class="academy-figure-preview">{}</div>', mark_safe(figure.svg)) if figure.pk else "-"
