from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DownloadsConfig(AppConfig):
    name = "nqihub.downloads"
    verbose_name = _("Downloads")

    def ready(self) -> None:
        from nqihub.core.files import register_retention
        from nqihub.tables.jobs import register_job

        from .models import ExportJob

        # The services register their own audit labels (``@audited_service``) when loaded.
        from .services import fail_stale, purge_expired_files
        from .tasks import run_export

        register_retention("export_files", purge_expired_files)
        register_job(ExportJob, run_export, fail=fail_stale)
