"""Model factories: learners, a course like the real one built without the content files, quizzes, experiment runs.

``make_course``/``make_module`` build any number of modules and questions, so tests do not depend on how much of
the real course content is written yet; the ``course`` fixture (tests/conftest.py) loads the real one instead.
"""
from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import User
from experiments.catalog import params_hash
from experiments.models import ExperimentRun
from lessons.models import Course, Lesson, Module
from quizzes.models import QUESTIONS_PER_QUIZ, Choice, Question, Quiz

# --- Learners and the course's structure -----------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"learner{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    full_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")
    email_verified_at = factory.LazyFunction(timezone.now)  # learners in tests have confirmed their address


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        django_get_or_create = ("slug",)

    slug = "transformers-architecture"
    title = "Transformers Architecture"
    tagline = "From RNNs to modern Transformers."


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    order = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Module {n + 1}")
    summary = "A module."
    difficulty = "beginner"


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    module = factory.SubFactory(ModuleFactory)
    slug = factory.Sequence(lambda n: f"lesson-{n + 1}")
    body = "## Section\n\nSome text."


# --- Quizzes ---------------------------------------------------------------------------------------------------

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


# --- Experiment runs -------------------------------------------------------------------------------------------

SMALL_FIGURE = {
    "data": [
        {"type": "scatter", "mode": "lines+markers", "name": "LSTM (measured)", "x": [10, 50], "y": [1.5, 6.25]},
        {"type": "scatter", "mode": "lines", "name": "lesson claims", "line": {"dash": "dash"},
         "x": [10, 50], "y": [2.34, 8.92]},
    ],
    "layout": {"title": {"text": "Latency against sequence length"}, "xaxis": {"title": {"text": "length"}}},
}
SMALL_RESULT = {
    "environment": {"device": "cpu", "device_name": "Test CPU 3000", "torch": "2.13.0", "num_threads": 2},
    "table": {"columns": ["model", "seq_len", "median_ms"], "rows": [["lstm", 10, 1.5], ["lstm", 50, 6.25]]},
    "summary": {"ratio": 0.5},
    "params": {"hidden": 16},
    "notes": ["Seed claims are the lesson's printed numbers, not a measurement."],
}


class ExperimentRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExperimentRun

    experiment = "sequence-latency"
    params = factory.LazyFunction(lambda: {"hidden": 16})
    params_hash = factory.LazyAttribute(lambda run: params_hash(run.experiment, run.params))
    device_class = "cpu"
    status = ExperimentRun.Status.QUEUED
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))

    class Params:
        succeeded = factory.Trait(
            status=ExperimentRun.Status.SUCCEEDED,
            progress=1.0,
            started_at=factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=12)),
            finished_at=factory.LazyFunction(timezone.now),
            result=factory.LazyFunction(lambda: dict(SMALL_RESULT)),
            figure=factory.LazyFunction(lambda: dict(SMALL_FIGURE)),
            environment=factory.LazyFunction(lambda: dict(SMALL_RESULT["environment"])),
            deadline=None,
        )
        running = factory.Trait(
            status=ExperimentRun.Status.RUNNING,
            started_at=factory.LazyFunction(timezone.now),
            progress=0.3,
            progress_message="lstm batch 1 length 10",
        )
