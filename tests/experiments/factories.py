from datetime import timedelta

import factory
from django.utils import timezone

from experiments.catalog import params_hash
from experiments.models import ExperimentRun

SMALL_FIGURE = {
    "data": [
        {"type": "scatter", "mode": "lines+markers", "name": "LSTM (measured)", "x": [10, 50], "y": [1.5, 6.25]},
        {"type": "scatter", "mode": "lines", "name": "lesson claims", "line": {"dash": "dash"},
         "x": [10, 50], "y": [2.34, 8.92]},
    ],
    "layout": {"title": {"text": "Latency against sequence length"}, "xaxis": {"title": {"text": "length"}}},
}
SMALL_RESULT = {
    "environment": {"device": "cpu", "device_name": "Test CPU 3000", "torch": "2.13.0", "num_threads": 2},
    "table": {"columns": ["model", "seq_len", "median_ms"], "rows": [["lstm", 10, 1.5], ["lstm", 50, 6.25]]},
    "summary": {"ratio": 0.5},
    "params": {"hidden": 16},
    "notes": ["Seed claims are the lesson's printed numbers, not a measurement."],
}


class ExperimentRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExperimentRun

    experiment = "sequence-latency"
    params = factory.LazyFunction(lambda: {"hidden": 16})
    params_hash = factory.LazyAttribute(lambda run: params_hash(run.experiment, run.params))
    device_class = "cpu"
    status = ExperimentRun.Status.QUEUED
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))

    class Params:
        succeeded = factory.Trait(
            status=ExperimentRun.Status.SUCCEEDED,
            progress=1.0,
            started_at=factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=12)),
            finished_at=factory.LazyFunction(timezone.now),
            result=factory.LazyFunction(lambda: dict(SMALL_RESULT)),
            figure=factory.LazyFunction(lambda: dict(SMALL_FIGURE)),
            environment=factory.LazyFunction(lambda: dict(SMALL_RESULT["environment"])),
            deadline=None,
        )
        running = factory.Trait(
            status=ExperimentRun.Status.RUNNING,
            started_at=factory.LazyFunction(timezone.now),
            progress=0.3,
            progress_message="lstm batch 1 length 10",
        )
