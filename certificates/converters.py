class CredentialIdConverter:
    """Loose on purpose: anything id-like reaches the view, which explains a malformed id on its own 404 page
    and redirects the human form (``K3M9Q-X2T7V-...``) to the canonical one."""

    regex = "[0-9A-Za-z_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
