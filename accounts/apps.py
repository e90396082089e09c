from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from .signed_in import connect_signals

        connect_signals()  # a saved or deleted user renews the processes' copies of user rows
