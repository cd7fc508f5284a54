"""Audit actions registered by name, with the label people read (Wagtail's pattern).

Records store the stable code (``registration.approve``); pages show the label in the
reader's language. Modules register their own actions when they are loaded; an action that
was never registered is shown by its code.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

_REGISTRY: dict[str, object] = {}


def register(code: str, label) -> None:
    _REGISTRY[code] = label


def label_for(code: str) -> str:
    label = _REGISTRY.get(code)
    return str(label) if label is not None else code


for _code, _label in {
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
    "membership.grant": _("Role granted"),
    "membership.revoke": _("Role revoked"),
    "membership.switch": _("Organisation switched"),
    "organization.create": _("Organisation created"),
    "organization.update": _("Organisation changed"),
    "organization.activate": _("Organisation activated"),
    "organization.deactivate": _("Organisation deactivated"),
    "registration.submit": _("Enterprise registration submitted"),
    "registration.resubmit": _("Enterprise registration resubmitted"),
    "registration.withdraw": _("Enterprise registration withdrawn"),
    "registration.approve": _("Enterprise registration approved"),
    "registration.return": _("Enterprise registration returned"),
    "data.query": _("Data query"),
    "data.export": _("Data export"),
    "audit.query": _("Audit trail searched"),
    "audit.export": _("Audit trail exported"),
    "audit.verify": _("Audit chain verified"),
    "audit.prune": _("Old audit records pruned"),
    "divisions.load": _("Divisions loaded"),
    "demo.seed": _("Demo data loaded"),
}.items():
    register(_code, _label)
