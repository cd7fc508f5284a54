from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "nqihub.accounts"
    verbose_name = _("Accounts and security")

    def ready(self) -> None:
        from nqihub.audit.actions import register as register_audit_action
        from nqihub.core.registries import register_daily_job, register_home_panel

        from . import selectors
        from .api import schema  # noqa: F401  (registers the token scheme with drf-spectacular)

        for code, label in {
            "auth.login": _("Sign-in"),
            "auth.logout": _("Sign-out"),
            "auth.lockout": _("Account locked"),
            "auth.otp_enrol": _("Second factor enrolled"),
            "auth.otp_verify": _("Second factor checked"),
            "account.register": _("Account opened"),
            "account.create": _("Account created"),
            "account.activate": _("Account activated"),
            "account.deactivate": _("Account deactivated"),
            "account.staff_role": _("Staff role changed"),
            "account.unlock": _("Account unlocked"),
            "account.password_change": _("Password changed"),
            "api_token.create": _("API token created"),
            "api_token.revoke": _("API token revoked"),
            "security_policy.update": _("Security policy changed"),
        }.items():
            register_audit_action(code, label)
        register_home_panel("accounts.security", selectors.security_dashboard, audiences=["security_admin"])
        # Django's own clean-up of expired sessions (sessions are the accounts' sign-ins).
        register_daily_job("clearsessions", order=30)
