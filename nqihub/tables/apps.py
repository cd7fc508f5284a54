from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TablesConfig(AppConfig):
    name = "nqihub.tables"
    verbose_name = _("Tables in and out")

    def ready(self) -> None:
        from nqihub.core.registries import register_daily_job

        # Background jobs whose worker died are retried once, then failed (also every five
        # minutes from a timer in production, and whenever a page polls the job).
        register_daily_job("recover_jobs", order=50)
