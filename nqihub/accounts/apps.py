from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "nqihub.accounts"
    verbose_name = _("Accounts and security")

    def ready(self) -> None:
        from nqihub.audit.actions import register as register_audit_action
        from nqihub.core.registries import register_daily_job, register_home_panel

        # The services register their own audit labels (``@audited_service``) when loaded.
        from . import selectors, services  # noqa: F401
        from .api import schema  # noqa: F401  (registers the token scheme with drf-spectacular)

        for code, label in {
            "auth.login": _("Sign-in"),
            "auth.logout": _("Sign-out"),
            "auth.lockout": _("Account locked"),
            "auth.otp_enrol": _("Second factor enrolled"),
            "auth.otp_verify": _("Second factor checked"),
            "account.password_change": _("Password changed"),
        }.items():
            register_audit_action(code, label)
        register_home_panel("accounts.security", selectors.security_dashboard, audiences=["security_admin"])
        # Django's own clean-up of expired sessions (sessions are the accounts' sign-ins).
        register_daily_job("clearsessions", order=30)
