"""Quizzes built without the real course content: any number of modules and questions."""
from __future__ import annotations

import factory

from lessons.models import Course, Module
from quizzes.models import QUESTIONS_PER_QUIZ, Choice, Question, Quiz
from tests.factories import CourseFactory, LessonFactory, ModuleFactory

CHOICES_PER_QUESTION = 4
# Where the right choice sits among a question's choices, as an author would write them; varied on purpose.
RIGHT_POSITIONS = (2, 0, 3, 1, 2, 1, 0, 3, 3, 0)


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quiz
        skip_postgeneration_save = True

    module = factory.SubFactory(ModuleFactory)
    pass_mark = 80
    cooloff_minutes = 0
    published = True

    @factory.post_generation
    def questions(quiz: Quiz, create: bool, extracted: int | None, **kwargs) -> None:
        """``QuizFactory(questions=10)``: how many questions to add, each with four choices, one right."""
        if not create:
            return
        count = QUESTIONS_PER_QUIZ if extracted is None else extracted
        for index in range(count):
            add_question(quiz, index)


def add_question(quiz: Quiz, index: int) -> Question:
    number = index + 1
    question = Question.objects.create(
        quiz=quiz,
        order=index,
        prompt=f"Module {quiz.module.order}, question {number}: which statement holds?",
        explanation=f"Explanation {quiz.module.order}.{number}: the reason behind this answer.",
        section=f"section-{number}",
    )
    right = RIGHT_POSITIONS[index % len(RIGHT_POSITIONS)]
    Choice.objects.bulk_create(
        Choice(question=question, order=position, text=f"Statement {chr(65 + position)} of {quiz.module.order}.{number}",
               is_correct=position == right)
        for position in range(CHOICES_PER_QUESTION)
    )
    return question


def make_module(*, course: Course, order: int, title: str | None = None, questions: int | None = QUESTIONS_PER_QUIZ,
                **quiz_fields) -> Module:
    """A published module with its lesson (slug ``module-<order>``) and, unless ``questions`` is None, a quiz."""
    module = ModuleFactory(course=course, order=order, title=title or f"Topic {order}")
    LessonFactory(module=module, slug=f"module-{order}", body=f"## Section 1\n\nText of module {order}.")
    if questions is not None:
        QuizFactory(module=module, questions=questions, **quiz_fields)
    return module


def make_course(*, modules: int = 7, questions: int = QUESTIONS_PER_QUIZ, **quiz_fields) -> Course:
    """A course like the real one (slug transformers-architecture) with ``modules`` modules, each with a quiz."""
    course = CourseFactory()
    for order in range(1, modules + 1):
        make_module(course=course, order=order, questions=questions, **quiz_fields)
    return course
