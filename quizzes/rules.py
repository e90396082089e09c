"""The quiz publishing rule, in one place: the content loader and the admin both ask these questions.

A published quiz is a bank of at least ``QUESTIONS_PER_QUIZ`` questions (each attempt draws that many), of
which exactly ``QUESTIONS_PER_QUIZ`` or none are the first attempt's, and every question has at least two
choices with exactly one correct.
"""
from __future__ import annotations

from .models import QUESTIONS_PER_QUIZ

MIN_CHOICES = 2


def bank_is_large_enough(question_count: int) -> bool:
    return question_count >= QUESTIONS_PER_QUIZ


def first_attempt_count_is_valid(first_attempt_count: int) -> bool:
    return first_attempt_count in (0, QUESTIONS_PER_QUIZ)


def choices_are_valid(*, choice_count: int, correct_count: int) -> bool:
    return choice_count >= MIN_CHOICES and correct_count == 1
