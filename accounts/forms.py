import unicodedata

from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import User


def clean_person_name(value: str) -> str:
    """Normalise a name a user typed: NFC, no control characters, single spaces."""
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return " ".join(value.split())


class SignupForm(UserCreationForm):
    full_name = forms.CharField(
        label="Full name",
        max_length=120,
        help_text="As it should appear on your certificate. You can correct it later.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email", required=True,
        help_text="We send a link to confirm it; it is used for your certificate and password resets only.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "email")

    def clean_full_name(self) -> str:
        name = clean_person_name(self.cleaned_data["full_name"])
        if not name:
            raise forms.ValidationError("Please enter the name to print on your certificate.")
        return name

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Sign in, or reset its password if you forgot it."
            )
        return email


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To make sure it is you.",
    )
    certificates = forms.ChoiceField(
        label="Your certificates",
        widget=forms.RadioSelect,
        choices=[
            ("keep", "Keep them verifiable: their pages say the holder's account was deleted"),
            ("revoke", "Revoke them: their pages say they were revoked at your request"),
        ],
        initial="keep",
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password
