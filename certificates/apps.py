from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        from core.page_cache import invalidate_on_change

        from . import receivers  # noqa: F401  (connects the email_verified receiver)
        from .models import Certificate

        # Revocation, restoration and name corrections must show on the cached verification pages at once.
        invalidate_on_change("certificates", Certificate)
