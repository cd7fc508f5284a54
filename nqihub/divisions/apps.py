from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DivisionsConfig(AppConfig):
    name = "nqihub.divisions"
    verbose_name = _("Administrative divisions")

    def ready(self) -> None:
        from nqihub.audit.actions import register as register_audit_action

        register_audit_action("divisions.load", _("Divisions loaded"))
