"""The quiz part of a module's content file: read by ``load_course``, written by ``export_course``."""
from __future__ import annotations

from django.db import transaction

from lessons.models import Module

from . import rules
from .models import Choice, Question, Quiz


def quiz_to_data(module: Module) -> dict | None:
    """The quiz as the front-matter dict the content files use (None when the module has no quiz)."""
    quiz = Quiz.objects.filter(module=module).first()
    if quiz is None:
        return None
    questions = [
        _canonical_question(
            prompt=question.prompt, section=question.section, first_attempt=question.first_attempt,
            explanation=question.explanation,
            choices=[(c.text, c.is_correct) for c in question.choices.all().order_by("order", "id")],
        )
        for question in quiz.questions.prefetch_related("choices").order_by("order", "id")
    ]
    return _canonical_quiz(pass_mark=quiz.pass_mark, cooloff_minutes=quiz.cooloff_minutes, questions=questions)


def _canonical_question(
    *, prompt: str, section: str, first_attempt: bool, explanation: str, choices: list[tuple[str, bool]]
) -> dict:
    """One question as content files write it: the one shape both the exporter and the file reader produce."""
    item: dict = {"prompt": prompt}
    if section:
        item["section"] = section
    if first_attempt:
        item["first_attempt"] = True
    item["explanation"] = explanation
    item["choices"] = [{"text": text, "correct": True} if correct else text for text, correct in choices]
    return item


def _canonical_quiz(*, pass_mark: int, cooloff_minutes: int, questions: list[dict]) -> dict:
    data: dict = {"pass_mark": pass_mark}
    if cooloff_minutes:
        data["cooloff_minutes"] = cooloff_minutes
    data["questions"] = questions
    return data


def _choice_fields(raw: object) -> tuple[str, bool]:
    if isinstance(raw, dict):
        return str(raw["text"]), bool(raw.get("correct", False))
    return str(raw), False


def quiz_is_publishable(questions: list[dict]) -> bool:
    """A bank of at least five valid questions, of which exactly five or none are the first attempt's."""
    if not rules.bank_is_large_enough(len(questions)):
        return False
    if not rules.first_attempt_count_is_valid(sum(bool(q.get("first_attempt")) for q in questions)):
        return False
    for question in questions:
        choices = [_choice_fields(c) for c in question.get("choices", [])]
        if not rules.choices_are_valid(choice_count=len(choices), correct_count=sum(c for _, c in choices)):
            return False
    return True


@transaction.atomic
def save_quiz_data(module: Module, data: dict | None) -> None:
    """Create or update the module's quiz in place (by position), so existing attempts keep their rows."""
    data = normalize_quiz_data(data)  # the file reader's cleaning, so the two never disagree
    if not data:
        return
    questions = data["questions"]
    quiz, _ = Quiz.objects.get_or_create(module=module)
    quiz.pass_mark = data["pass_mark"]
    quiz.cooloff_minutes = data.get("cooloff_minutes", 0)
    quiz.published = quiz_is_publishable(questions)
    quiz.save()
    existing_questions = list(quiz.questions.order_by("order", "id"))
    for index, canonical in enumerate(questions):
        question = existing_questions[index] if index < len(existing_questions) else Question(quiz=quiz)
        question.order = index
        question.prompt = canonical["prompt"]
        question.explanation = canonical["explanation"]
        question.section = canonical.get("section", "")
        question.first_attempt = canonical.get("first_attempt", False)
        question.save()
        existing_choices = list(question.choices.order_by("order", "id"))
        for c_index, raw_choice in enumerate(canonical["choices"]):
            text, correct = _choice_fields(raw_choice)
            choice = existing_choices[c_index] if c_index < len(existing_choices) else Choice(question=question)
            choice.order, choice.text, choice.is_correct = c_index, text, correct
            choice.save()
        for stale in existing_choices[len(canonical["choices"]):]:
            stale.delete()
    for stale in existing_questions[len(questions):]:
        stale.delete()


def normalize_quiz_data(data: dict | None) -> dict | None:
    """The canonical form of a file's quiz, equal to ``quiz_to_data`` of the same quiz once loaded."""
    if not data:
        return None
    questions = []
    for raw_question in data.get("questions") or []:
        choices = [_choice_fields(raw_choice) for raw_choice in raw_question.get("choices", [])]
        questions.append(_canonical_question(
            prompt=str(raw_question["prompt"]).strip(),
            section=str(raw_question.get("section") or ""),
            first_attempt=bool(raw_question.get("first_attempt")),
            explanation=str(raw_question.get("explanation", "")).strip(),
            choices=[(text.strip(), correct) for text, correct in choices],
        ))
    return _canonical_quiz(
        pass_mark=int(data.get("pass_mark", 80)), cooloff_minutes=int(data.get("cooloff_minutes", 0)),
        questions=questions,
    )
