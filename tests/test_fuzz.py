"""Bad input never becomes a 500: hypothesis-driven requests against the JSON API and the quiz POST, and a fuzzed
Markdown renderer that never lets script through."""
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lessons.markdown import render_markdown

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
QUIZ_URL = "/courses/transformers-architecture/the-problem-with-rnns/quiz/"
MARKUP = st.sampled_from([
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>", "<iframe src=//evil>", "$$\\frac{a}{", "```python\n", "!!! warning \"x\"\n    y",
    "| a |\n|---|\n| b |", "## Heading", "<math><mi>x</mi></math>", "```experiment\nname: ../../etc\n```",
    "<style>body{}</style>", '<div style="background:url(javascript:alert(1))">', "\x00", "&lt;script&gt;",
])


@FUZZ
@given(st.lists(MARKUP | st.text(max_size=40), max_size=8).map("\n".join))
def test_markdown_renderer_never_fails_and_never_lets_script_through(text):
    html = render_markdown(text).html
    assert "<script" not in html.lower()
    assert "<iframe" not in html.lower()
    assert not re.search(r"<[^>]*javascript:", html, flags=re.I)
    assert not re.search(r"<[^>]+\son\w+\s*=", html, flags=re.I)


@pytest.mark.django_db
@FUZZ
@given(body=JSON_VALUES, wrap=st.booleans())
def test_experiment_api_answers_any_json_with_a_4xx_never_a_500(signed_in_client, body, wrap):
    if wrap:
        body = {"experiment": "sequence-latency", "params": body}
    response = signed_in_client.post("/experiments/runs/", data=json.dumps(body), content_type="application/json")
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()


@pytest.mark.django_db
@FUZZ
@given(raw=st.binary(min_size=1, max_size=200), content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
def test_experiment_api_answers_garbage_bytes_with_a_4xx(signed_in_client, raw, content_type):
    response = signed_in_client.post("/experiments/runs/", data=raw, content_type=content_type)
    if content_type != "application/json":
        # The no-JavaScript form path: errors come back to the lesson page as a message.
        assert response.status_code in (302, 400)
    else:
        assert 400 <= response.status_code < 500


@pytest.mark.django_db
@FUZZ
@given(run_id=st.integers(min_value=0, max_value=2**62), credential=st.text(max_size=40))
def test_unknown_ids_are_404s(client, run_id, credential):
    assert client.get(f"/experiments/runs/{run_id}/").status_code == 404
    response = client.get("/certificates/" + "".join(c for c in credential if c.isalnum()) + "x/")
    assert response.status_code == 404


@pytest.mark.django_db
@FUZZ
@given(fields=st.lists(
    st.tuples(
        st.sampled_from(["attempt", "question-1", "question-999999", "question-", "question-abc", "x", "csrfmiddlewaretoken"]),
        st.text(max_size=12),
    ),
    max_size=8,
))
def test_quiz_post_answers_any_form_with_a_4xx_or_the_form_never_a_500(course, signed_in_client, fields):
    page = signed_in_client.get(QUIZ_URL)
    assert page.status_code == 200
    attempt_id = re.search(r'name="attempt" value="(\d+)"', page.content.decode()).group(1)
    data: dict[str, list[str]] = {}
    for key, value in fields:
        data.setdefault(key, []).append(attempt_id if key == "attempt" and value.isdigit() else value)
    response = signed_in_client.post(QUIZ_URL, data)
    assert response.status_code in (200, 302, 400)
