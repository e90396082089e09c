"""Quiz editing: Quiz admin with its questions inline, Question admin with its choices inline.

The formsets refuse what would break grading (the publishing rule is ``quizzes.rules``): a question with fewer than
two choices or without exactly one correct choice, and publishing a quiz whose bank breaks the rule (a draft may
have any questions).
Attempts and progress are read-only records.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from lessons.admin_fields import ADMIN_CSS, text_overrides

from . import rules
from .models import QUESTIONS_PER_QUIZ, Answer, Attempt, Choice, ModuleProgress, Question, Quiz


def _kept_forms(formset: forms.BaseInlineFormSet) -> list[forms.ModelForm]:
    """The forms that will exist after saving: filled in and not marked for deletion."""
    return [
        form for form in formset.forms
        if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE", False)
    ]


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = _kept_forms(self)
        correct = sum(bool(form.cleaned_data.get("is_correct")) for form in kept)
        if rules.choices_are_valid(choice_count=len(kept), correct_count=correct):
            return
        if len(kept) < rules.MIN_CHOICES:
            raise ValidationError("A question needs at least two choices.")
        if correct != 1:
            raise ValidationError(
                f"Exactly one choice must be marked correct; {correct} {'is' if correct == 1 else 'are'} marked."
            )


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    fields = ("order", "text", "is_correct")
    ordering = ("order", "id")
    # A choice is a sentence: the default 20-character box was ~230 px wide.
    formfield_overrides = {models.CharField: {"widget": forms.TextInput(attrs={"class": "academy-wide-input"})}}

    def get_extra(self, request: HttpRequest, obj: Question | None = None, **kwargs) -> int:
        return 4 if obj is None else 0


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ("quiz", "order", "prompt", "explanation", "section", "first_attempt")

    def clean(self) -> dict:
        cleaned = super().clean()
        quiz = cleaned.get("quiz")
        if quiz is not None and quiz.published and cleaned.get("first_attempt") != self.instance.first_attempt:
            raise ValidationError(
                f"{quiz} is published: its first-attempt questions stay five (or none). Unpublish it to change them."
            )
        return cleaned


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionAdminForm
    formfield_overrides = text_overrides(rows=4)

    class Media:
        css = ADMIN_CSS
    list_display = ("prompt_short", "quiz", "order", "choice_count")
    list_display_links = ("prompt_short",)
    list_filter = ("quiz",)
    list_select_related = ("quiz__module",)
    ordering = ("quiz__module__course", "quiz__module__order", "order", "id")
    search_fields = ("prompt", "explanation")
    inlines = [ChoiceInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).annotate(num_choices=Count("choices"))

    @admin.display(description="Prompt", ordering="prompt")
    def prompt_short(self, question: Question) -> str:
        return str(question)

    @admin.display(description="Choices", ordering="num_choices")
    def choice_count(self, question: Question) -> int:
        return question.num_choices

    def has_delete_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        # A published bank keeps at least five questions and its five first-attempt ones: unpublish first.
        if obj is not None and obj.quiz.published and (
            obj.first_attempt or not rules.bank_is_large_enough(obj.quiz.questions.count() - 1)
        ):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk deletion would bypass the published-quiz check above
        return actions


class QuestionInlineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors) or not self.instance.published:
            return
        kept = _kept_forms(self)
        if not rules.bank_is_large_enough(len(kept)):
            raise ValidationError(
                f"A published quiz needs at least {QUESTIONS_PER_QUIZ} questions (each attempt draws "
                f"{QUESTIONS_PER_QUIZ}); this one would have {len(kept)}. Untick “Published” to save it as a draft."
            )
        first = sum(bool(form.cleaned_data.get("first_attempt")) for form in kept)
        if not rules.first_attempt_count_is_valid(first):
            raise ValidationError(
                f"Mark exactly {QUESTIONS_PER_QUIZ} questions (or none) as the first attempt's; {first} are marked."
            )
        if any(form.instance.pk is None for form in kept):
            raise ValidationError(
                "A new question has no choices yet. Save the quiz as a draft, add the question's choices, "
                "then publish it."
            )
        invalid = (
            Question.objects.filter(pk__in=[form.instance.pk for form in kept])
            .annotate(num_choices=Count("choices"), num_correct=Count("choices", filter=Q(choices__is_correct=True)))
            .filter(Q(num_choices__lt=rules.MIN_CHOICES) | ~Q(num_correct=1))  # not rules.choices_are_valid
            .order_by("order", "id")
        )
        if invalid:
            names = "; ".join(f"“{question}”" for question in invalid)
            raise ValidationError(
                f"These questions need at least two choices with exactly one correct before the quiz can be "
                f"published: {names}."
            )


class QuestionInline(admin.StackedInline):
    model = Question
    formfield_overrides = text_overrides(rows=4)
    formset = QuestionInlineFormSet
    fields = ("order", "prompt", "explanation", "section", "first_attempt", "choices_summary")
    readonly_fields = ("choices_summary",)
    ordering = ("order", "id")
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).prefetch_related("choices")

    @admin.display(description="Choices")
    def choices_summary(self, question: Question) -> str:
        if question.pk is None:
            return "Save, then open the question to add its choices."
        choices = list(question.choices.all())
        correct = sum(choice.is_correct for choice in choices)
        url = reverse("admin:quizzes_question_change", args=[question.pk])
        return format_html(
            '{} choices, {} marked correct · <a href="{}">edit choices</a>', len(choices), correct, url
        )


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    class Media:
        css = ADMIN_CSS

    list_display = ("__str__", "course", "published", "pass_mark", "cooloff_minutes", "question_count")
    list_filter = ("published", "module__course")
    list_select_related = ("module__course",)
    ordering = ("module__course", "module__order")
    fields = ("module", "pass_mark", "cooloff_minutes", "published")
    inlines = [QuestionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Quiz]:
        return super().get_queryset(request).annotate(num_questions=Count("questions"))

    @admin.display(description="Course", ordering="module__course__title")
    def course(self, quiz: Quiz) -> str:
        return quiz.module.course.title

    @admin.display(description="Questions", ordering="num_questions")
    def question_count(self, quiz: Quiz) -> int:
        return quiz.num_questions


class ReadOnlyAdminMixin:
    """Records written by the services only: visible to staff, never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class AnswerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Answer
    fields = ("question", "choice", "is_correct")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        return super().get_queryset(request).select_related("question", "choice")


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "quiz", "score_display", "passed", "submitted_at", "created_at")
    list_filter = ("quiz", ("user", admin.RelatedOnlyFieldListFilter), "passed")
    list_select_related = ("user", "quiz__module")
    search_fields = ("user__username", "user__email", "user__full_name")
    date_hierarchy = "created_at"
    fields = ("user", "quiz", "created_at", "submitted_at", "score", "total", "pass_mark", "passed")
    readonly_fields = fields
    inlines = [AnswerInline]

    @admin.display(description="Score")
    def score_display(self, attempt: Attempt) -> str:
        return "open" if attempt.submitted_at is None else f"{attempt.score}/{attempt.total}"


@admin.register(ModuleProgress)
class ModuleProgressAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "module", "read_at", "completed_at", "best_score", "best_total", "attempts")
    list_filter = ("module__course", "module", ("user", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "module")
    search_fields = ("user__username", "user__email", "user__full_name")
    readonly_fields = ("user", "module", "read_at", "completed_at", "best_score", "best_total", "attempts")
