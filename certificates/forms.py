from django import forms

from .models import HOLDER_NAME_MAX_LENGTH
from .services import normalize_holder_name


class HolderNameForm(forms.Form):
    """The name to print: cleaned like the sign-up form's name (NFC, no control characters, single spaces)."""

    holder_name = forms.CharField(
        label="Name on the certificate",
        max_length=HOLDER_NAME_MAX_LENGTH,
        help_text="Exactly as it should be printed, up to 120 characters; any script is fine.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args, required: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder_name"].required = required

    def clean_holder_name(self) -> str:
        name = normalize_holder_name(self.cleaned_data.get("holder_name") or "")
        if self.fields["holder_name"].required and not name:
            raise forms.ValidationError("Please enter the name to print on your certificate.")
        return name
