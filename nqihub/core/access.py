"""Who is acting, for which organisation, and what that allows.

Every ``for_user(user, action)`` queryset method and every service asks this module, so the
rules of who may do what live in one place:

* A person acts for one organisation at a time (the *acting membership*). Web requests pick
  it from the session, API requests from the token (or the ``X-Organization`` header for
  session callers); ``resolve_acting_membership`` below is the one implementation.
* Platform staff hold exactly one of three separate roles (三员分立); their powers are the
  capabilities listed in ``STAFF_CAPABILITIES`` and nothing else. ``is_superuser`` grants
  nothing in NQI Hub: daily work never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from nqihub.divisions.models import AdminDivision
    from nqihub.organizations.models import Membership, Organization


class StaffRole(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


class MembershipRole(models.TextChoices):
    MANAGER = "manager", _("Manager")
    CLERK = "clerk", _("Clerk")
    VIEWER = "viewer", _("Viewer")


class OrganizationKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    INSTITUTION = "institution", _("Technical institution")
    REGULATOR = "regulator", _("Regulator")


class Capability(models.TextChoices):
    """Platform-wide powers of the three staff roles. Each belongs to exactly one role."""

    MANAGE_ACCOUNTS = "accounts.manage", _("Manage accounts")
    MANAGE_ORGANIZATIONS = "organizations.manage", _("Manage organisations")
    MANAGE_CONFIGURATION = "configuration.manage", _("Manage configuration")
    MANAGE_SECURITY_POLICY = "security.policy", _("Manage the security policy")
    GRANT_ROLES = "security.grant_roles", _("Grant roles")
    UNLOCK_ACCOUNTS = "security.unlock", _("Unlock accounts")
    READ_AUDIT = "audit.read", _("Read the audit trail")


STAFF_CAPABILITIES: dict[str, frozenset[str]] = {
    StaffRole.SYSTEM_ADMIN: frozenset(
        {Capability.MANAGE_ACCOUNTS, Capability.MANAGE_ORGANIZATIONS, Capability.MANAGE_CONFIGURATION}
    ),
    StaffRole.SECURITY_ADMIN: frozenset(
        {Capability.MANAGE_SECURITY_POLICY, Capability.GRANT_ROLES, Capability.UNLOCK_ACCOUNTS}
    ),
    StaffRole.AUDIT_ADMIN: frozenset({Capability.READ_AUDIT}),
}

# Membership roles that may do an organisation's daily work (file, apply, review ...).
WORKING_ROLES = frozenset({MembershipRole.MANAGER, MembershipRole.CLERK})

_ACTING_ATTR = "_nqi_acting_membership"


def has_capability(user, capability: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return capability in STAFF_CAPABILITIES.get(getattr(user, "staff_role", "") or "", frozenset())


@dataclass(frozen=True)
class Actor:
    """The acting user seen through the organisation they act for."""

    user: object
    membership: Membership | None

    @property
    def organization(self) -> Organization | None:
        return self.membership.organization if self.membership else None

    @property
    def kind(self) -> str | None:
        org = self.organization
        return org.kind if org else None

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def is_regulator(self) -> bool:
        return self.kind == OrganizationKind.REGULATOR

    @property
    def jurisdiction(self) -> AdminDivision | None:
        """The division a regulator governs; None for everyone else."""
        return self.organization.division if self.is_regulator and self.organization else None

    @property
    def can_work(self) -> bool:
        return self.role in WORKING_ROLES

    def jurisdiction_codes(self):
        """Subquery of the division codes a regulator governs (its division and all below),
        for ``division_id__in=`` filters; empty for everyone else."""
        from nqihub.divisions.models import AdminDivision

        if self.jurisdiction is None:
            return AdminDivision.objects.none().values("code")
        return AdminDivision.objects.within(self.jurisdiction).values("code")


def resolve_acting_membership(user, organization_id: int | str | None = None) -> Membership | None:
    """The membership ``user`` acts through: the one for ``organization_id`` if given and
    active, otherwise their default (the most recently chosen, then the oldest)."""
    from nqihub.organizations.models import Membership

    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.active().filter(user=user).select_related(
        "organization", "organization__division"
    )
    if organization_id not in (None, ""):
        try:
            return memberships.get(organization_id=int(organization_id))
        except (Membership.DoesNotExist, ValueError, TypeError):
            return None
    return memberships.order_by("-is_default", "created_at", "pk").first()


def set_acting_membership(user, membership: Membership | None) -> None:
    setattr(user, _ACTING_ATTR, membership)


def get_actor(user) -> Actor:
    """The Actor for ``user``; resolves and caches the default membership on first use."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(user=user, membership=None)
    if not hasattr(user, _ACTING_ATTR):
        set_acting_membership(user, resolve_acting_membership(user))
    return Actor(user=user, membership=getattr(user, _ACTING_ATTR))
