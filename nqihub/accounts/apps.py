from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "nqihub.accounts"
    verbose_name = _("Accounts and security")

    def ready(self) -> None:
        from .api import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
