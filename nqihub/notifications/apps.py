from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "nqihub.notifications"
    verbose_name = _("Notices")

    def ready(self):
        from nqihub.core.registries import register_daily_job

        # Reminders of cases due soon or overdue (nqihub.notifications.case_reminders).
        register_daily_job("send_case_reminders", order=12)
