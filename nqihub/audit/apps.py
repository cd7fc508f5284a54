from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "nqihub.audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from nqihub.core.auditing import register_audit_writer
        from nqihub.core.registries import register_daily_job, register_home_panel

        from . import selectors, signals  # noqa: F401  (signals: the sign-in receivers)
        from .services import audit_record

        register_audit_writer(audit_record)
        register_home_panel("audit.dashboard", selectors.audit_dashboard, audiences=["audit_admin"])
        register_daily_job("verify_audit_chain", order=40)
        register_daily_job("audit_checkpoint", order=41)
