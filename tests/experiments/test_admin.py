"""The admin lists, filters and re-runs experiment runs."""
from __future__ import annotations

import pytest

from experiments.models import ExperimentRun
from tests.support.factories import ExperimentRunFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/experiments/experimentrun/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_admin_lists_runs_and_filters_them_by_status_and_experiment(admin_client):
    failed = ExperimentRunFactory(status=ExperimentRun.Status.FAILED, error="Ran out of memory on the GPU")
    succeeded = ExperimentRunFactory(succeeded=True, experiment="gradient-flow")

    everything = admin_client.get(CHANGELIST).content.decode()
    only_failed = admin_client.get(CHANGELIST, {"status__exact": "failed"}).content.decode()
    only_gradients = admin_client.get(CHANGELIST, {"experiment": "gradient-flow"}).content.decode()

    assert "?status__exact=failed" in everything and "Ran out of memory on the GPU" in everything
    assert f"/admin/experiments/experimentrun/{failed.pk}/change/" in only_failed
    assert f"/admin/experiments/experimentrun/{succeeded.pk}/change/" not in only_failed
    assert f"/admin/experiments/experimentrun/{succeeded.pk}/change/" in only_gradients
    assert admin_client.get(f"{CHANGELIST}{succeeded.pk}/change/").status_code == 200
    for term in ("memory", str(failed.pk), "not-a-number"):
        assert admin_client.get(CHANGELIST, {"q": term}).status_code == 200


def test_admin_re_runs_a_run_with_the_same_experiment_and_params(admin_client):
    original = ExperimentRunFactory(succeeded=True, params={"hidden": 16, "seq_lens": [2, 4]})

    response = admin_client.post(CHANGELIST, {"action": "rerun_selected", "_selected_action": [original.pk]})

    assert response.status_code == 302
    rerun = ExperimentRun.objects.exclude(pk=original.pk).get()
    assert rerun.status == ExperimentRun.Status.QUEUED
    assert (rerun.experiment, rerun.params, rerun.params_hash) == (original.experiment, original.params,
                                                                   original.params_hash)
    assert rerun.rerun_of == original
    assert rerun.started_by.username == "root"


def test_admin_can_stop_an_unfinished_run(admin_client):
    stuck = ExperimentRunFactory(running=True)

    admin_client.post(CHANGELIST, {"action": "fail_selected", "_selected_action": [stuck.pk]})

    stuck.refresh_from_db()
    assert stuck.status == ExperimentRun.Status.FAILED
    assert stuck.error == "Stopped by an administrator (root)."
