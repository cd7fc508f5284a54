from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkcalendarConfig(AppConfig):
    name = "nqihub.workcalendar"
    verbose_name = _("Working-day calendar")

    def ready(self) -> None:
        # The services register their own audit labels (``@audited_service``) when loaded.
        from . import services  # noqa: F401
