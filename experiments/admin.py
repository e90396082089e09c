from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from . import services
from .models import ExperimentRun


@admin.register(ExperimentRun)
class ExperimentRunAdmin(admin.ModelAdmin):
    list_display = (
        "id", "experiment", "status", "progress_percent", "device_class", "started_by", "created_at",
        "duration", "short_error",
    )
    list_filter = ("status", "experiment", "device_class", "created_at")
    search_fields = ("=id", "experiment", "params_hash", "started_by__username", "error", "task_id")
    date_hierarchy = "created_at"
    list_select_related = ("started_by",)
    actions = ("rerun_selected", "fail_selected")
    readonly_fields = (
        "experiment", "params", "params_hash", "device_class", "status", "progress", "progress_message",
        "created_at", "started_at", "finished_at", "updated_at", "deadline", "environment", "error",
        "started_by", "rerun_of", "task_id", "deliveries", "api_link", "result", "figure",
    )
    fieldsets = (
        (None, {"fields": ("experiment", "status", "progress", "progress_message", "error", "api_link")}),
        ("Request", {"fields": ("params", "params_hash", "device_class", "started_by", "rerun_of")}),
        ("Timing", {"fields": ("created_at", "started_at", "finished_at", "updated_at", "deadline")}),
        ("Worker", {"fields": ("task_id", "deliveries", "environment")}),
        ("Output", {"classes": ("collapse",), "fields": ("result", "figure")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are created by the API or by "re-run", never by hand

    @admin.display(description="progress")
    def progress_percent(self, run: ExperimentRun) -> str:
        return f"{run.progress:.0%}"

    @admin.display(description="duration")
    def duration(self, run: ExperimentRun) -> str:
        return "" if run.duration_s is None else f"{run.duration_s:.1f} s"

    @admin.display(description="error")
    def short_error(self, run: ExperimentRun) -> str:
        return run.error[:80] + ("…" if len(run.error) > 80 else "")

    @admin.display(description="API")
    def api_link(self, run: ExperimentRun) -> str:
        return format_html('<a href="{0}">{0}</a>', run.get_absolute_url())

    @admin.action(description="Re-run selected runs (same experiment and parameters)")
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet[ExperimentRun]) -> None:
        queued = []
        for run in queryset.order_by("pk"):
            try:
                queued.append(services.rerun(run=run, user=request.user))
            except services.RunsUnavailableError as exc:
                self.message_user(request, f"Run #{run.pk}: {exc.message}", level=messages.ERROR)
        if queued:
            ids = ", ".join(f"#{run.pk}" for run in queued)
            self.message_user(request, f"Queued {len(queued)} new run(s): {ids}.", level=messages.SUCCESS)

    @admin.action(description="Mark selected unfinished runs as failed")
    def fail_selected(self, request: HttpRequest, queryset: QuerySet[ExperimentRun]) -> None:
        failed = sum(
            services.fail_run(run_id=run.pk, reason=f"Stopped by an administrator ({request.user.get_username()}).")
            for run in queryset.filter(status__in=ExperimentRun.ACTIVE_STATUSES)
        )
        self.message_user(request, f"Marked {failed} run(s) as failed.")
