from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A learner or admin. ``full_name`` is what a certificate will print."""

    full_name = models.CharField(
        "full name",
        max_length=120,
        blank=True,
        help_text="Your name as it should appear on your certificate.",
    )

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username
