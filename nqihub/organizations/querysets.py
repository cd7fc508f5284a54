"""Who may see and change organisations, memberships and registrations.

Pages, the API, exports and the management console all call these ``for_user`` methods; none
of them filters on its own. Regulators see their jurisdiction (旗县区 ⊂ 盟市 ⊂ 自治区),
enterprises and institutions see themselves, platform staff see what their one role needs.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from nqihub.core.access import Capability, MembershipRole, get_actor, has_capability


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> OrganizationQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        actor = get_actor(user)
        if action in ("view", "export"):
            if has_capability(user, Capability.MANAGE_ORGANIZATIONS) or has_capability(user, Capability.GRANT_ROLES):
                return self.all()
            if actor.is_regulator:
                return self.filter(division_id__in=actor.jurisdiction_codes())
            if actor.organization is not None:
                return self.filter(pk=actor.organization.pk)
            return self.none()
        if action == "change":
            if has_capability(user, Capability.MANAGE_ORGANIZATIONS):
                return self.all()
            if actor.organization is not None and actor.role == MembershipRole.MANAGER and not actor.is_regulator:
                # An enterprise or institution keeps its own profile; a regulator's own record
                # (name, jurisdiction) is platform configuration.
                return self.filter(pk=actor.organization.pk)
            return self.none()
        if action == "create":
            return self.all() if has_capability(user, Capability.MANAGE_ORGANIZATIONS) else self.none()
        # Organisations are deactivated, never deleted: their history must stay readable.
        return self.none()

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


class MembershipQuerySet(models.QuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True, organization__is_active=True, user__is_active=True)

    def for_user(self, user, action: str = "view") -> MembershipQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if has_capability(user, Capability.GRANT_ROLES):
            return self.all()
        if action in ("view", "export"):
            if has_capability(user, Capability.MANAGE_ACCOUNTS):
                return self.all()
            actor = get_actor(user)
            own = models.Q(user=user)
            if actor.organization is not None and actor.role == MembershipRole.MANAGER:
                own |= models.Q(organization=actor.organization)
            return self.filter(own)
        # Granting, changing and ending roles is the security administrator's work.
        return self.none()


class EnterpriseRegistrationQuerySet(models.QuerySet):
    def open(self) -> EnterpriseRegistrationQuerySet:
        return self.filter(state__in=["submitted", "returned"])

    def for_user(self, user, action: str = "view") -> EnterpriseRegistrationQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        actor = get_actor(user)
        if action in ("view", "export"):
            q = models.Q(applicant=user)
            if has_capability(user, Capability.MANAGE_ORGANIZATIONS):
                return self.all()
            if actor.is_regulator:
                q |= models.Q(division_id__in=actor.jurisdiction_codes())
            return self.filter(q)
        if action == "review":
            # Only the county-level (旗县区) regulator of the enterprise's division decides.
            jurisdiction = actor.jurisdiction
            if actor.is_regulator and actor.can_work and jurisdiction is not None and jurisdiction.level == "county":
                return self.filter(division_id__in=actor.jurisdiction_codes())
            return self.none()
        if action in ("change", "withdraw"):
            return self.filter(applicant=user)
        return self.none()
