"""One overdue rule, read the same way by the model, the run view and the reaper's query."""
from datetime import timedelta

import pytest
from django.utils import timezone

from experiments.models import ExperimentRun

Status = ExperimentRun.Status
NOW = timezone.now()


@pytest.mark.parametrize(
    ("status", "deadline", "overdue"),
    [
        (Status.QUEUED, NOW - timedelta(seconds=1), True),
        (Status.RUNNING, NOW - timedelta(seconds=1), True),
        (Status.RUNNING, NOW + timedelta(seconds=1), False),
        (Status.RUNNING, None, False),
        (Status.SUCCEEDED, NOW - timedelta(seconds=1), False),
        (Status.FAILED, NOW - timedelta(seconds=1), False),
    ],
)
def test_only_an_active_run_past_its_deadline_is_overdue(status, deadline, overdue):
    assert ExperimentRun.overdue(status=status, deadline=deadline, now=NOW) is overdue
    assert ExperimentRun(status=status, deadline=deadline).is_overdue(NOW) is overdue


@pytest.mark.django_db
def test_the_reapers_query_selects_exactly_the_overdue_runs():
    runs = {
        (status, offset): ExperimentRun.objects.create(
            experiment="attention_cost", params={}, params_hash=f"{status}{offset}", status=status,
            deadline=NOW + timedelta(seconds=offset),
        )
        for status in (Status.QUEUED, Status.RUNNING, Status.SUCCEEDED) for offset in (-5, 5)
    }
    selected = set(ExperimentRun.objects.filter(ExperimentRun.overdue_q(NOW)).values_list("pk", flat=True))
    assert selected == {run.pk for run in runs.values() if run.is_overdue(NOW)}
    assert len(selected) == 2
