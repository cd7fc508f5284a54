"""Who is acting, for which organisation, and what that allows.

Every ``for_user(user, action)`` queryset method and every service asks this module, so the
rules of who may do what live in one place:

* A person acts for one organisation at a time (the *acting membership*). Web requests pick
  it from the session, API requests from the token (or the ``X-Organization`` header for
  session callers); ``resolve_acting_membership`` below is the one implementation.
* Platform staff hold exactly one of three separate roles (三员分立); their powers are the
  capabilities listed in ``STAFF_CAPABILITIES`` and nothing else. ``is_superuser`` grants
  nothing in NQI Hub: daily work never needs it.

Core is the bottom layer and imports no other app. What needs the organisations' tables (which
membership a person acts through, and which divisions a regulator governs) is provided by
``nqihub.organizations.access`` and plugged in with ``register_actor_provider`` from
``OrganizationsConfig.ready``: this module states the rules, that one reads the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models import QuerySet

    # Only the names, for the annotations; never imported at run time (see the module's note).
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


class ActorProvider(Protocol):
    """What the organisations app tells core about people and places (``nqihub.organizations.access``)."""

    def resolve_acting_membership(self, user: Any, organization_id: int | str | None = None) -> Membership | None: ...

    def jurisdiction_codes(self, division: AdminDivision | None) -> QuerySet[Any]: ...


_provider: ActorProvider | None = None


def register_actor_provider(provider: ActorProvider) -> None:
    """Called once, from ``OrganizationsConfig.ready``."""
    global _provider
    _provider = provider


def _actor_provider() -> ActorProvider:
    if _provider is None:  # pragma: no cover - only without the organisations app installed
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("No actor provider: nqihub.organizations must be installed.")
    return _provider


@dataclass(frozen=True)
class Actor:
    """The acting user seen through the organisation they act for."""

    user: Any
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

    def jurisdiction_codes(self) -> QuerySet[Any]:
        """Subquery of the division codes a regulator governs (its division and all below),
        for ``division_id__in=`` filters; empty for everyone else."""
        return _actor_provider().jurisdiction_codes(self.jurisdiction)


def resolve_acting_membership(user, organization_id: int | str | None = None) -> Membership | None:
    """The membership ``user`` acts through: the one for ``organization_id`` if given and
    active, otherwise their default (the most recently chosen, then the oldest)."""
    if user is None or not user.is_authenticated:
        return None
    return _actor_provider().resolve_acting_membership(user, organization_id)


def set_acting_membership(user, membership: Membership | None) -> None:
    setattr(user, _ACTING_ATTR, membership)


def get_actor(user) -> Actor:
    """The Actor for ``user``; resolves and caches the default membership on first use."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(user=user, membership=None)
    if not hasattr(user, _ACTING_ATTR):
        set_acting_membership(user, resolve_acting_membership(user))
    return Actor(user=user, membership=getattr(user, _ACTING_ATTR))
