"""A script that knows none of the answers must not earn the certificate in a day.

The attacker plays the real course through the site, as a script would: it reads every quiz form, answers, reads
every result page, remembers each question by its text, and learns from the scores (a score equal to what its
known answers explain means every guess was wrong; a perfect score beyond that means every guess was right). It
probes one unknown question at a time once it knows wrong choices to fill the others with. It attacks all seven
modules in parallel and waits out each pause on a fake clock. The test prints how long it needed.
"""
from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from lessons.models import Module
from tests.support.factories import UserFactory
from tests.support.quizzes import parse_quiz_form, quiz_url

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SECONDS_PER_ATTEMPT = 90  # reading a form and posting it; generous to the attacker would be less
GIVE_UP_AFTER = timedelta(days=7)


class FakeClock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> datetime:
        return self.now


class KeylessAttacker:
    """Knows nothing but what the site shows it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.right: dict[str, str] = {}  # question text -> the choice known to be right
        self.wrong: dict[str, set[str]] = defaultdict(set)  # question text -> choices known to be wrong

    def answers(self, form) -> tuple[dict, list[tuple[str, str]]]:
        """POST data, and the guesses it made (question, choice) for the questions it does not know."""
        data = {"attempt": form.attempt}
        unknown = [q for q in form.questions if q.legend not in self.right]
        probe = self.rng.choice(unknown) if unknown else None
        guesses = []
        for question in form.questions:
            labels = {o.label: o.value for o in question.options}
            if question.legend in self.right:
                data[question.name] = labels[self.right[question.legend]]
                continue
            known_wrong = [label for label in labels if label in self.wrong[question.legend]]
            if question is not probe and known_wrong and len(unknown) > 1:
                data[question.name] = labels[known_wrong[0]]  # a known zero: the score then speaks of the probe
                continue
            candidates = [label for label in labels if label not in self.wrong[question.legend]]
            label = self.rng.choice(candidates or list(labels))
            data[question.name] = labels[label]
            guesses.append((question.legend, label))
        return data, guesses

    def learn(self, score: int, form, guesses: list[tuple[str, str]]) -> None:
        known = sum(1 for q in form.questions if q.legend in self.right)
        from_guesses = score - known
        if from_guesses == 0:
            for question, label in guesses:
                self.wrong[question].add(label)
        elif from_guesses == len(guesses):
            for question, label in guesses:
                self.right[question] = label
        for question in form.questions:  # three wrong of four leaves the right one
            labels = {o.label for o in question.options}
            remaining = labels - self.wrong[question.legend]
            if question.legend not in self.right and len(remaining) == 1:
                self.right[question.legend] = remaining.pop()


def _score(html: str) -> tuple[int, bool]:
    if match := re.search(r"Not passed yet: (\d+)/\d+", html):
        return int(match.group(1)), False
    assert "Passed:" in html, "a result page says either 'Not passed yet' or 'Passed:'"
    return int(re.search(r"Passed: (\d+)/\d+", html).group(1)), True


def _allowed_at(html: str) -> datetime:
    return datetime.fromisoformat(re.search(r'<time datetime="([^"]+)"', html).group(1))


def test_a_keyless_script_cannot_pass_all_seven_modules_within_a_day(client, course, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(timezone, "now", clock)
    started = clock.now
    client.force_login(UserFactory(username="mallory", full_name="Mallory Script"))
    attackers = {m.pk: KeylessAttacker(random.Random(m.order)) for m in Module.objects.filter(course=course)}
    modules = list(Module.objects.filter(course=course, published=True).order_by("order"))
    passed: set[int] = set()
    attempts = 0
    while len(passed) < len(modules) and clock.now - started < GIVE_UP_AFTER:
        next_opening = None
        for module in modules:
            if module.pk in passed:
                continue
            page = client.get(quiz_url(module)).content.decode()
            if "Take a short break" in page:
                opening = _allowed_at(page)
                next_opening = opening if next_opening is None else min(next_opening, opening)
                continue
            form = parse_quiz_form(page)
            data, guesses = attackers[module.pk].answers(form)
            result = client.post(quiz_url(module), data, follow=True).content.decode()
            attempts += 1
            clock.now += timedelta(seconds=SECONDS_PER_ATTEMPT)
            score, did_pass = _score(result)
            if did_pass:
                passed.add(module.pk)
            else:
                attackers[module.pk].learn(score, form, guesses)
        if next_opening is not None and next_opening > clock.now:
            clock.now = next_opening + timedelta(seconds=1)
    needed = clock.now - started
    print(f"\nkeyless attacker: {len(passed)} of {len(modules)} modules passed after {attempts} attempts and "
          f"{needed.total_seconds() / 3600:.1f} h of simulated time")
    assert len(passed) < len(modules) or needed > timedelta(hours=24), (
        f"a script that knows no answers passed every module in {needed}"
    )
