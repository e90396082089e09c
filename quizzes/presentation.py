"""What the quiz templates get: plain values, never model objects that carry the answer key.

The form side only ever sees tokens and choice texts; the review side reveals the right choice and the
explanations only for a passed attempt. Prompts, choices and explanations are inline Markdown with ``$...$``
math, rendered here to sanitised HTML (``html``) the same way lesson text is, so templates print them as they are.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.safestring import SafeString, mark_safe

from lessons.markdown import render_inline

from .models import Answer, Attempt, Question
from .services import field_name, tokens_by_question


@dataclass(frozen=True)
class FormOption:
    token: str
    text: str
    input_id: str
    checked: bool


@dataclass(frozen=True)
class FormQuestion:
    number: int
    field_name: str
    prompt: str
    options: list[FormOption]
    error: str = ""

    @property
    def anchor(self) -> str:
        return f"question-{self.number}"


def html(text: str) -> SafeString:
    """A quiz text (inline Markdown, ``$...$`` math) as sanitised HTML, safe to print unescaped."""
    # Safe to mark: render_inline sanitises with the lessons' nh3 allow-list.
    return mark_safe(render_inline(text))


def form_questions(
    *,
    attempt: Attempt,
    questions: Sequence[Question],
    chosen_tokens: Mapping[int, str] | None = None,
    missing: Iterable[int] = (),
) -> list[FormQuestion]:
    """The questions in quiz order with their choices in the attempt's shuffled order."""
    chosen_tokens = chosen_tokens or {}
    missing = set(missing)
    layout = tokens_by_question(attempt.layout)
    items = []
    for number, question in enumerate(questions, start=1):
        texts = {choice.pk: html(choice.text) for choice in question.choices.all()}
        options = [
            FormOption(
                token=token,
                text=texts[choice_id],
                input_id=f"q{number}-{index}",
                checked=chosen_tokens.get(question.pk) == token,
            )
            for index, (token, choice_id) in enumerate(layout.get(question.pk, {}).items(), start=1)
            if choice_id in texts
        ]
        error = "Choose an answer to this question." if question.pk in missing else ""
        items.append(
            FormQuestion(number=number, field_name=field_name(question), prompt=html(question.prompt), options=options,
                         error=error)
        )
    return items


@dataclass(frozen=True)
class ReviewChoice:
    text: str
    is_key: bool  # the right answer
    is_chosen: bool


@dataclass(frozen=True)
class ReviewItem:
    number: int
    prompt: str
    answered_right: bool
    section: str
    chosen_text: str = ""
    explanation: str = ""
    choices: list[ReviewChoice] = field(default_factory=list)


def attempt_review(*, attempt: Attempt, questions: Sequence[Question]) -> list[ReviewItem]:
    """After a pass, one item per graded question with the answer key and the explanation.

    After a failed attempt nothing per question: saying which questions were wrong would let a script that
    knows no answers eliminate choices attempt by attempt. The learner gets the score and the lesson sections
    to re-read (``sections_to_reread``).
    """
    if not attempt.passed:
        return []
    answers: dict[int, Answer] = {answer.question_id: answer for answer in attempt.answers.all()}
    reveal = True
    order = {entry["question"]: [c["choice"] for c in entry["choices"]] for entry in attempt.layout}
    items = []
    number = 0
    for question in questions:
        answer = answers.get(question.pk)
        if answer is None:  # a question added to the quiz after this attempt
            continue
        number += 1
        choices = {choice.pk: choice for choice in question.choices.all()}
        chosen = choices.get(answer.choice_id)
        chosen_text = html(chosen.text) if chosen and (reveal or not answer.is_correct) else ""
        if not reveal:
            items.append(ReviewItem(number=number, prompt=html(question.prompt), answered_right=answer.is_correct,
                                    section=question.section, chosen_text=chosen_text))
            continue
        shown_order = [pk for pk in order.get(question.pk, []) if pk in choices]
        shown_order += [pk for pk in choices if pk not in shown_order]
        items.append(
            ReviewItem(
                number=number,
                prompt=html(question.prompt),
                answered_right=answer.is_correct,
                section=question.section,
                chosen_text=chosen_text,
                explanation=html(question.explanation),
                choices=[
                    ReviewChoice(text=html(choices[pk].text), is_key=choices[pk].is_correct,
                                 is_chosen=pk == answer.choice_id)
                    for pk in shown_order
                ],
            )
        )
    return items


@dataclass(frozen=True)
class SectionLink:
    anchor: str
    title: str


def sections_to_reread(*, attempt: Attempt, questions: Sequence[Question], toc: list[dict]) -> list[SectionLink]:
    """The lesson sections behind the questions answered wrong, once each, in lesson order (empty after a pass)."""
    if attempt.passed:
        return []
    wrong = {answer.question_id for answer in attempt.answers.all() if not answer.is_correct}
    anchors = {question.section for question in questions if question.pk in wrong and question.section}
    titles = {entry.get("id"): entry.get("text", "") for entry in toc or []}
    ordered = [entry.get("id") for entry in toc or [] if entry.get("id") in anchors]
    ordered += sorted(anchors - set(ordered))
    return [SectionLink(anchor=anchor, title=titles.get(anchor) or anchor.replace("-", " ").capitalize())
            for anchor in ordered]
