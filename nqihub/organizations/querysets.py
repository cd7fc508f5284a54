"""Who may see and change organisations, memberships and registrations.

Pages, the API, exports and the management console all call these ``for_user`` methods; none
of them filters on its own. Regulators see their jurisdiction (旗县区 ⊂ 盟市 ⊂ 自治区),
enterprises and institutions see themselves, platform staff see what their one role needs.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from nqihub.core.access import Capability
from nqihub.core.scoping import ScopedQuerySet, capability, county_reviewer, jurisdiction, own_organization, own_user


class OrganizationQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (
            capability(Capability.MANAGE_ORGANIZATIONS, Capability.GRANT_ROLES),
            jurisdiction(),
            own_organization("pk", exclude_regulators=True),
        ),
        # An enterprise or institution keeps its own profile; a regulator's own record (name,
        # jurisdiction) is platform configuration.
        "change": (
            capability(Capability.MANAGE_ORGANIZATIONS),
            own_organization("pk", manager=True, exclude_regulators=True),
        ),
        "create": (capability(Capability.MANAGE_ORGANIZATIONS),),
        # Organisations are deactivated, never deleted: their history must stay readable.
    }

    def enterprises(self) -> OrganizationQuerySet:
        return self.filter(kind="enterprise")

    def institutions(self) -> OrganizationQuerySet:
        return self.filter(kind="institution")

    def regulators(self) -> OrganizationQuerySet:
        return self.filter(kind="regulator")

    def active(self) -> OrganizationQuerySet:
        return self.filter(is_active=True)


class AuthorisationScopeQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> AuthorisationScopeQuerySet:
        organizations: Any = self.model._meta.get_field("organization").related_model
        visible = organizations.objects.for_user(user, "view" if action in ("view", "export") else "create")
        return self.filter(organization__in=visible.values("pk"))


class MembershipQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (
            capability(Capability.GRANT_ROLES, Capability.MANAGE_ACCOUNTS),
            own_user(),
            own_organization(manager=True),
        ),
        # Granting, changing and ending roles is the security administrator's work.
        ("create", "change", "end"): (capability(Capability.GRANT_ROLES),),
    }

    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True, organization__is_active=True, user__is_active=True)


class EnterpriseRegistrationQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (own_user("applicant"), capability(Capability.MANAGE_ORGANIZATIONS), jurisdiction()),
        # Only the county-level (旗县区) regulator of the enterprise's division decides.
        "review": (county_reviewer(),),
        ("change", "withdraw"): (own_user("applicant"),),
    }

    def open(self) -> EnterpriseRegistrationQuerySet:
        return self.filter(state__in=["submitted", "returned"])
