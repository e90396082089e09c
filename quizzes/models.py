from __future__ import annotations

from django.db import models

from lessons.models import Module

QUESTIONS_PER_QUIZ = 5


class Quiz(models.Model):
    module = models.OneToOneField(Module, on_delete=models.CASCADE, related_name="quiz")
    pass_mark = models.PositiveSmallIntegerField(default=80, help_text="Percent needed to pass.")
    cooloff_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Minutes a learner waits after a failed attempt before retaking (0 = none)."
    )
    published = models.BooleanField(
        default=False, help_text="Only a quiz with exactly five valid questions can be published."
    )

    class Meta:
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return f"Quiz: {self.module.title}"


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField()
    explanation = models.TextField(help_text="Shown after a pass: why the right answer is right.")
    section = models.CharField(
        max_length=120, blank=True, help_text="Heading anchor in the lesson that covers this question."
    )

    class Meta:
        ordering = ["quiz", "order", "id"]

    def __str__(self) -> str:
        return self.prompt[:80]


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    is_correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["question", "order", "id"]

    def __str__(self) -> str:
        return self.text
