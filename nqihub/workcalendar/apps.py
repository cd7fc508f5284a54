from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkcalendarConfig(AppConfig):
    name = "nqihub.workcalendar"
    verbose_name = _("Working-day calendar")

    def ready(self) -> None:
        from nqihub.audit.actions import register as register_audit_action

        register_audit_action("calendar_entry.create", _("Calendar entry added"))
        register_audit_action("calendar_entry.update", _("Calendar entry changed"))
        register_audit_action("calendar_entry.delete", _("Calendar entry deleted"))
