"""The quiz part of a module's content file: read by ``load_course``, written by ``export_course``."""
from __future__ import annotations

from django.db import transaction

from lessons.models import Module

from .models import QUESTIONS_PER_QUIZ, Choice, Question, Quiz


def quiz_to_data(module: Module) -> dict | None:
    """The quiz as the front-matter dict the content files use (None when the module has no quiz)."""
    quiz = Quiz.objects.filter(module=module).first()
    if quiz is None:
        return None
    questions = []
    for question in quiz.questions.prefetch_related("choices").order_by("order", "id"):
        choices = [
            {"text": c.text, "correct": True} if c.is_correct else c.text
            for c in question.choices.all().order_by("order", "id")
        ]
        item = {"prompt": question.prompt}
        if question.section:
            item["section"] = question.section
        if question.first_attempt:
            item["first_attempt"] = True
        item["explanation"] = question.explanation
        item["choices"] = choices
        questions.append(item)
    data: dict = {"pass_mark": quiz.pass_mark}
    if quiz.cooloff_minutes:
        data["cooloff_minutes"] = quiz.cooloff_minutes
    data["questions"] = questions
    return data


def _choice_fields(raw: object) -> tuple[str, bool]:
    if isinstance(raw, dict):
        return str(raw["text"]), bool(raw.get("correct", False))
    return str(raw), False


def quiz_is_publishable(questions: list[dict]) -> bool:
    """A bank of at least five valid questions, of which exactly five or none are the first attempt's."""
    if len(questions) < QUESTIONS_PER_QUIZ:
        return False
    if sum(bool(q.get("first_attempt")) for q in questions) not in (0, QUESTIONS_PER_QUIZ):
        return False
    for question in questions:
        choices = [_choice_fields(c) for c in question.get("choices", [])]
        if len(choices) < 2 or sum(correct for _, correct in choices) != 1:
            return False
    return True


@transaction.atomic
def save_quiz_data(module: Module, data: dict | None) -> None:
    """Create or update the module's quiz in place (by position), so existing attempts keep their rows."""
    if not data:
        return
    questions = data.get("questions") or []
    quiz, _ = Quiz.objects.get_or_create(module=module)
    quiz.pass_mark = int(data.get("pass_mark", 80))
    quiz.cooloff_minutes = int(data.get("cooloff_minutes", 0))
    quiz.published = quiz_is_publishable(questions)
    quiz.save()
    existing_questions = list(quiz.questions.order_by("order", "id"))
    for index, raw_question in enumerate(questions):
        question = existing_questions[index] if index < len(existing_questions) else Question(quiz=quiz)
        question.order = index
        question.prompt = str(raw_question["prompt"]).strip()
        question.explanation = str(raw_question.get("explanation", "")).strip()
        question.section = str(raw_question.get("section", "") or "")
        question.first_attempt = bool(raw_question.get("first_attempt", False))
        question.save()
        existing_choices = list(question.choices.order_by("order", "id"))
        raw_choices = raw_question.get("choices", [])
        for c_index, raw_choice in enumerate(raw_choices):
            text, correct = _choice_fields(raw_choice)
            choice = existing_choices[c_index] if c_index < len(existing_choices) else Choice(question=question)
            choice.order, choice.text, choice.is_correct = c_index, text.strip(), correct
            choice.save()
        for stale in existing_choices[len(raw_choices):]:
            stale.delete()
    for stale in existing_questions[len(questions):]:
        stale.delete()


def normalize_quiz_data(data: dict | None) -> dict | None:
    """The canonical form of a file's quiz, equal to ``quiz_to_data`` of the same quiz once loaded."""
    if not data:
        return None
    questions = []
    for raw_question in data.get("questions") or []:
        item: dict = {"prompt": str(raw_question["prompt"]).strip()}
        if raw_question.get("section"):
            item["section"] = str(raw_question["section"])
        if raw_question.get("first_attempt"):
            item["first_attempt"] = True
        item["explanation"] = str(raw_question.get("explanation", "")).strip()
        choices = []
        for raw_choice in raw_question.get("choices", []):
            text, correct = _choice_fields(raw_choice)
            choices.append({"text": text.strip(), "correct": True} if correct else text.strip())
        item["choices"] = choices
        questions.append(item)
    result: dict = {"pass_mark": int(data.get("pass_mark", 80))}
    if int(data.get("cooloff_minutes", 0)):
        result["cooloff_minutes"] = int(data["cooloff_minutes"])
    result["questions"] = questions
    return result
