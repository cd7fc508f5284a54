from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DownloadsConfig(AppConfig):
    name = "nqihub.downloads"
    verbose_name = _("Downloads")

    def ready(self) -> None:
        from nqihub.audit.actions import register as register_audit_action
        from nqihub.core.files import register_retention
        from nqihub.tables.jobs import register_job

        from .models import ExportJob
        from .services import ACTION_DOWNLOAD, ACTION_REQUEST, fail_stale, purge_expired_files
        from .tasks import run_export

        register_audit_action(ACTION_REQUEST, _("Background export requested"))
        register_audit_action(ACTION_DOWNLOAD, _("Background export downloaded"))
        register_retention("export_files", purge_expired_files)
        register_job(ExportJob, run_export, fail=fail_stale)
