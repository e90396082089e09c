"""Admin form fields for course text.

Browsers submit a textarea's line breaks as CRLF. Stored as they arrive, one admin save turned a lesson into
CRLF text, and ``export_course`` then wrote mixed line endings (a one-sentence edit became a 784-line diff).
Every admin text box for course content stores LF line endings, like the files it is loaded from.
"""
from __future__ import annotations

from django import forms
from django.db import models


class UnixNewlinesField(forms.CharField):
    """A CharField that stores ``\\n`` line endings whatever the browser sent."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def text_overrides(*, rows: int = 6) -> dict:
    """``formfield_overrides`` for a ModelAdmin or inline: LF line endings, a textarea as wide as the form."""
    return {
        models.TextField: {
            "form_class": UnixNewlinesField,
            "widget": forms.Textarea(attrs={"rows": rows, "class": "academy-wide-text"}),
        },
    }


LESSON_BODY_WIDGET = forms.Textarea(attrs={"rows": 40, "class": "academy-wide-text academy-lesson-body"})
ADMIN_CSS = {"all": ("css/admin.css",)}
