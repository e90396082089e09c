"""One row per request to run a lesson experiment on this server, from queued to its result or failure."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class ExperimentRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class DeviceClass(models.TextChoices):
        CPU = "cpu", "CPU"
        CUDA = "cuda", "CUDA GPU"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED)

    experiment = models.CharField(max_length=64)
    params = models.JSONField(default=dict, help_text="The validated parameters, defaults filled in.")
    params_hash = models.CharField(max_length=64, help_text="SHA-256 of the experiment name and validated params.")
    device_class = models.CharField(
        max_length=8,
        choices=DeviceClass.choices,
        help_text="The class the params were validated for; the worker's actual class once it starts.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=300, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change (including queryset.update() calls in services), so it can serve as the ETag.
    updated_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(
        null=True, blank=True, help_text="An unfinished run past this moment is marked failed by the reaper."
    )

    environment = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    figure = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="experiment_runs"
    )
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")
    task_id = models.CharField(max_length=64, blank=True)
    deliveries = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker received this run's task (more than 1: redelivered)."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["experiment", "status", "-finished_at"], name="exprun_latest_idx"),
            models.Index(fields=["params_hash", "device_class", "status"], name="exprun_reuse_idx"),
            models.Index(fields=["status", "deadline"], name="exprun_active_idx"),
            models.Index(fields=["started_by", "status"], name="exprun_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0.0, progress__lte=1.0), name="exprun_progress_0_1"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="exprun_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment} run #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("experiments:run_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    @property
    def duration_s(self) -> float | None:
        """Seconds the worker spent on the run (not counting time in the queue)."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def queued_s(self) -> float | None:
        """Seconds the run waited for a worker."""
        if self.started_at:
            return (self.started_at - self.created_at).total_seconds()
        return None

    @classmethod
    def overdue(cls, *, status: str, deadline: datetime | None, now: datetime) -> bool:
        """The one overdue rule: a queued or running run whose deadline has passed (the reaper fails it)."""
        return status in cls.ACTIVE_STATUSES and deadline is not None and deadline < now

    @classmethod
    def overdue_q(cls, now: datetime) -> models.Q:
        """``overdue`` as a query filter."""
        return models.Q(status__in=cls.ACTIVE_STATUSES, deadline__lt=now)

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.overdue(status=self.status, deadline=self.deadline, now=now or timezone.now())
