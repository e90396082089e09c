from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """A learner or admin. ``full_name`` is what a certificate will print."""

    full_name = models.CharField(
        "full name",
        max_length=120,
        blank=True,
        help_text="Your name as it should appear on your certificate.",
    )
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner followed the link sent to this email address."
    )

    class Meta(AbstractUser.Meta):
        constraints = [
            # One account per person: the same address in another letter case is the same address.
            models.UniqueConstraint(
                Lower("email"), name="accounts_user_email_ci_unique", condition=~models.Q(email="")
            ),
        ]

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
