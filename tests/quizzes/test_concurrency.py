"""Two submits of one attempt at the same moment (two tabs, a double click) record one result."""
from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from quizzes import services
from quizzes.models import Answer, Attempt, ModuleProgress
from tests.support.factories import UserFactory, make_course
from tests.support.quizzes import answers, open_quiz, quiz_url


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_of_the_same_attempt_seal_it_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; `make test` and CI run the suite on PostgreSQL")
    module = make_course(modules=2).modules.get(order=1)
    url = quiz_url(module)
    user = UserFactory()
    first_client = Client()
    first_client.force_login(user)
    data = answers(open_quiz(first_client, module), module)

    entered = []
    original_submit, original_record = services.submit_attempt, services._record_result

    def counting_submit(**kwargs):
        entered.append(threading.get_ident())
        return original_submit(**kwargs)

    def slow_record(**kwargs):
        time.sleep(0.3)  # hold the row lock a while, so the other request surely waits on it
        return original_record(**kwargs)

    monkeypatch.setattr(services, "submit_attempt", counting_submit)
    monkeypatch.setattr(services, "_record_result", slow_record)

    barrier = threading.Barrier(2)
    responses: list = [None, None]
    errors: list[BaseException] = []

    def submit(index: int) -> None:
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=10)
            responses[index] = client.post(url, data)
        except Exception as exc:  # noqa: BLE001 - re-raised by the main thread's assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(entered) == 2, "both requests reached the sealing step at the same time"
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0].url == responses[1].url
    assert Attempt.objects.filter(submitted_at__isnull=False).count() == 1
    assert Answer.objects.count() == 5
    assert ModuleProgress.objects.get(user=user).attempts == 1
