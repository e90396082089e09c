"""Issuing: the certificate appears in the request that completes the last module, once, and never before."""
from __future__ import annotations

import re
import string

import pytest
from django.test import Client

from certificates.credential_ids import human_credential_id, new_credential_id, normalize_credential_id
from certificates.models import Certificate, CertificateEvent
from tests.support.factories import UserFactory
from tests.support.quizzes import complete_modules, take_quiz

pytestmark = pytest.mark.django_db


def test_passing_the_last_quiz_issues_the_certificate_in_the_same_request(signed_in_client, user, seven_modules):
    complete_modules(user, seven_modules, orders=range(1, 7))
    assert not Certificate.objects.exists()

    response = take_quiz(signed_in_client, seven_modules.modules.get(order=7))

    assert response.status_code == 200
    certificate = Certificate.objects.get()
    assert (certificate.user, certificate.course) == (user, seven_modules)
    dashboard = signed_in_client.get("/dashboard/").content.decode()
    assert certificate.human_id in dashboard
    assert f'href="/certificates/{certificate.credential_id}/"' in dashboard


def test_course_completed_page_links_straight_to_the_certificate(signed_in_client, user, seven_modules):
    complete_modules(user, seven_modules, orders=range(1, 7))
    html = take_quiz(signed_in_client, seven_modules.modules.get(order=7)).content.decode()
    certificate = Certificate.objects.get()
    assert "Course completed" in html
    assert f'href="/certificates/{certificate.credential_id}/">View your certificate</a>' in html


def test_certificate_records_name_course_issue_date_best_scores_and_credential_id(signed_in_client, user, seven_modules):
    complete_modules(user, seven_modules, orders=range(1, 7), best_score=4, best_total=5)
    take_quiz(signed_in_client, seven_modules.modules.get(order=7))

    certificate = Certificate.objects.get()
    assert certificate.holder_name == "Ada Lovelace"
    assert certificate.course_title == seven_modules.title
    assert certificate.issuer_name == seven_modules.issuer_name
    assert certificate.issued_at is not None and certificate.reissued_at is None
    assert [r["order"] for r in certificate.module_results] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["score"] for r in certificate.module_results] == [80, 80, 80, 80, 80, 80, 100]
    assert {r["pass_mark"] for r in certificate.module_results} == {80}
    assert certificate.module_results[0]["title"] == "Topic 1"
    assert normalize_credential_id(certificate.credential_id) == certificate.credential_id
    event = CertificateEvent.objects.get()
    assert (event.kind, event.revision, event.pdf_sha256) == ("issued", 1, certificate.pdf_sha256)


def test_passing_again_after_completion_keeps_the_one_certificate(signed_in_client, user, seven_modules):
    complete_modules(user, seven_modules, orders=range(1, 7))
    last = seven_modules.modules.get(order=7)
    take_quiz(signed_in_client, last)
    first = Certificate.objects.get()

    take_quiz(signed_in_client, last)  # the quizzes app announces completion again on every later pass
    take_quiz(signed_in_client, seven_modules.modules.get(order=3))

    assert Certificate.objects.get().credential_id == first.credential_id
    assert CertificateEvent.objects.count() == 1


def test_no_certificate_before_every_module_is_completed(signed_in_client, user, seven_modules):
    complete_modules(user, seven_modules, orders=[1, 2, 3, 4, 5])
    take_quiz(signed_in_client, seven_modules.modules.get(order=7))
    assert not Certificate.objects.exists()

    claim = signed_in_client.post("/certificates/claim/transformers-architecture/", {"holder_name": "Ada"})

    assert claim.status_code == 403
    assert "Pass the quiz of module 6: Topic 6" in claim.content.decode()
    assert not Certificate.objects.exists()


def test_failing_the_last_quiz_issues_nothing(signed_in_client, user, seven_modules):
    complete_modules(user, seven_modules, orders=range(1, 7))
    take_quiz(signed_in_client, seven_modules.modules.get(order=7), right=1)
    assert not Certificate.objects.exists()


def test_dashboard_says_exactly_what_is_missing(signed_in_client, user, seven_modules):
    complete_modules(user, seven_modules, orders=[1, 2, 4, 5, 7])

    html = signed_in_client.get("/dashboard/").content.decode()

    missing = re.findall(r"<li>(Pass the quiz of module [^<]*)</li>", html)
    assert missing == ["Pass the quiz of module 3: Topic 3", "Pass the quiz of module 6: Topic 6"]
    assert "Your certificate is issued the moment you pass the last quiz." in html
    assert "Issue my certificate" not in html


def test_no_url_hands_out_a_certificate_before_completion(signed_in_client, user, seven_modules):
    complete_modules(user, seven_modules, orders=range(1, 7))
    claim_url = "/certificates/claim/transformers-architecture/"
    assert signed_in_client.get(claim_url).status_code == 405
    assert Client().post(claim_url).status_code == 302  # anonymous: to the sign-in page
    assert signed_in_client.post(claim_url).status_code == 403
    assert signed_in_client.post("/certificates/claim/no-such-course/").status_code == 404
    assert not Certificate.objects.exists()


def test_a_learner_without_a_name_is_asked_for_one_and_then_gets_the_certificate(client, seven_modules):
    learner = UserFactory(username="noname", full_name="")
    client.force_login(learner)
    complete_modules(learner, seven_modules, orders=range(1, 7))
    take_quiz(client, seven_modules.modules.get(order=7))
    assert not Certificate.objects.exists()

    dashboard = client.get("/dashboard/").content.decode()
    assert "the name to print on your certificate" in dashboard
    assert 'action="/certificates/claim/transformers-architecture/"' in dashboard

    empty = client.post("/certificates/claim/transformers-architecture/", {"holder_name": "  \u0007 "})
    assert empty.status_code == 400
    assert "Please enter the name to print on your certificate." in empty.content.decode()

    response = client.post("/certificates/claim/transformers-architecture/", {"holder_name": "  Grace   Hopper "})
    certificate = Certificate.objects.get()
    assert response.status_code == 302 and response["Location"] == certificate.get_absolute_url()
    assert certificate.holder_name == "Grace Hopper"
    learner.refresh_from_db()
    assert learner.full_name == "Grace Hopper"


def test_claiming_twice_returns_the_existing_certificate(signed_in_client, certificate):
    response = signed_in_client.post("/certificates/claim/transformers-architecture/")
    assert response.status_code == 302 and response["Location"] == certificate.get_absolute_url()
    assert Certificate.objects.count() == 1


def test_credential_ids_are_url_safe_unguessable_and_have_a_human_form():
    ids = {new_credential_id() for _ in range(2000)}
    assert len(ids) == 2000
    alphabet = set(string.digits + string.ascii_lowercase) - set("ilou")
    for credential_id in list(ids)[:50]:
        assert len(credential_id) == 20 and set(credential_id) <= alphabet  # 20 symbols x 5 bits = 100 bits
        human = human_credential_id(credential_id)
        assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){3}", human)
        assert normalize_credential_id(human) == credential_id
        assert normalize_credential_id(human.lower().replace("-", " ")) == credential_id
    # Every symbol position is used: the ids are not padded numbers.
    assert {credential_id[0] for credential_id in ids} == alphabet


def test_typed_ids_forgive_the_usual_misreadings():
    credential_id = "0123456789abcdefghjk"
    assert normalize_credential_id("O1234-56789-ABCDE-FGHJK") == credential_id
    assert normalize_credential_id("o123456789abcdefghjk") == credential_id
    assert normalize_credential_id("0l23456789abcdefghjk") == credential_id
    assert normalize_credential_id("0123456789abcdefghju") is None  # U is not a symbol
    assert normalize_credential_id("0123456789") is None
