from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from lessons.models import Module

# Each attempt asks this many questions, drawn from the quiz's bank (which must hold at least as many).
QUESTIONS_PER_QUIZ = 5


class Quiz(models.Model):
    module = models.OneToOneField(Module, on_delete=models.CASCADE, related_name="quiz")
    pass_mark = models.PositiveSmallIntegerField(default=80, help_text="Percent needed to pass.")
    cooloff_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Minutes a learner waits after a failed attempt before retaking (0 = none)."
    )
    published = models.BooleanField(
        default=False, help_text="Only a quiz with at least five valid questions can be published."
    )

    class Meta:
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return f"Quiz: {self.module.title}"

    def passes(self, *, score: int, total: int) -> bool:
        """Whether ``score`` right answers out of ``total`` reach the pass mark (80% of 5 is 4)."""
        return total > 0 and score * 100 >= self.pass_mark * total


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField()
    explanation = models.TextField(help_text="Shown after a pass: why the right answer is right.")
    section = models.CharField(
        max_length=120, blank=True, help_text="Heading anchor in the lesson that covers this question."
    )
    first_attempt = models.BooleanField(
        default=False,
        help_text="Asked in every learner's first attempt (exactly five per quiz, or none: then all are drawn).",
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


class Attempt(models.Model):
    """One sitting of a quiz by a learner.

    Created (open) when the quiz form is shown, so the shuffled choice order survives a reload; sealed exactly
    once by ``services.submit_attempt``. ``layout`` is the order the learner saw and the opaque per-attempt
    tokens the form uses instead of choice ids: ``[{"question": id, "choices": [{"token": t, "choice": id}]}]``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    layout = models.JSONField(default=list, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Right answers.")
    total = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Questions graded.")
    pass_mark = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Pass mark (%) when graded.")
    passed = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one open attempt per learner and quiz: two tabs share it, so they cannot both count.
            models.UniqueConstraint(
                fields=["user", "quiz"], condition=Q(submitted_at__isnull=True), name="one_open_attempt_per_quiz"
            )
        ]
        indexes = [models.Index(fields=["user", "quiz", "submitted_at"])]

    def __str__(self) -> str:
        if self.submitted_at is None:
            return f"{self.user} · {self.quiz} · open"
        return f"{self.user} · {self.quiz} · {self.score}/{self.total}"

    @property
    def is_sealed(self) -> bool:
        return self.submitted_at is not None

    @property
    def needed_to_pass(self) -> int | None:
        """Right answers the pass mark asked for (4 of 5 at 80%)."""
        if self.total is None or self.pass_mark is None:
            return None
        return -(-self.pass_mark * self.total // 100)


class Answer(models.Model):
    """The choice a learner picked for one question of a sealed attempt, graded when sealed."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    choice = models.ForeignKey(Choice, on_delete=models.SET_NULL, null=True, related_name="+")
    is_correct = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="one_answer_per_question")]

    def __str__(self) -> str:
        return f"{self.attempt_id}: {self.question_id} -> {self.choice_id}"


class ModuleProgress(models.Model):
    """A learner's standing in one module, kept up to date by the services (read by ``selectors``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="module_progress")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="progress_records")
    read_at = models.DateTimeField(null=True, blank=True, help_text="First time the learner opened the lesson.")
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="First pass of the module's quiz; a later failed retake keeps it."
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Submitted quiz attempts.")
    best_score = models.PositiveSmallIntegerField(null=True, blank=True)
    best_total = models.PositiveSmallIntegerField(null=True, blank=True)
    last_section = models.CharField(
        max_length=120, blank=True, default="", db_default="",  # raw upserts (services) leave it out
        help_text="Anchor of the lesson heading the learner last read, offered as Continue.",
    )
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="When last_section was recorded.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "module progress"
        constraints = [models.UniqueConstraint(fields=["user", "module"], name="one_progress_per_module")]

    def __str__(self) -> str:
        return f"{self.user} · {self.module}"
