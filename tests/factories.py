import factory
from django.utils import timezone

from accounts.models import User
from lessons.models import Course, Lesson, Module


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
