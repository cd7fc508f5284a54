"""Who may see and change the catalogue, instruments and filings."""

from __future__ import annotations

from django.db import models

from nqihub.core.access import Capability, OrganizationKind, get_actor, has_capability


class CatalogueItemQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> CatalogueItemQuerySet:
        """The catalogue is public reference data for signed-in users; it is configuration,
        so only the system administrator edits it."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if action == "view":
            return self.all()
        return self.all() if has_capability(user, Capability.MANAGE_CONFIGURATION) else self.none()

    def active(self) -> CatalogueItemQuerySet:
        return self.filter(is_active=True)


class InstrumentQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> InstrumentQuerySet:
        """Enterprises see and keep their own ledger; regulators see the instruments in their
        jurisdiction (read only). Platform staff do not see business data."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        actor = get_actor(user)
        org = actor.organization
        if org is None:
            return self.none()
        if action in ("view", "export"):
            if actor.is_regulator:
                return self.filter(division_id__in=actor.jurisdiction_codes())
            if org.kind == OrganizationKind.ENTERPRISE:
                return self.filter(organization=org)
            return self.none()
        if action in ("change", "file", "import"):
            if org.kind == OrganizationKind.ENTERPRISE and actor.can_work:
                return self.filter(organization=org)
            return self.none()
        return self.none()

    def mandatory(self) -> InstrumentQuerySet:
        return self.filter(is_mandatory=True)

    def in_use(self) -> InstrumentQuerySet:
        return self.exclude(status="scrapped")


class InstrumentFilingQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> InstrumentFilingQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        actor = get_actor(user)
        org = actor.organization
        if org is None:
            return self.none()
        if action in ("view", "export"):
            if actor.is_regulator:
                return self.filter(division_id__in=actor.jurisdiction_codes())
            return self.filter(organization=org)
        if action == "review":
            if actor.is_regulator and actor.can_work and actor.jurisdiction.level == "county":
                return self.filter(division_id__in=actor.jurisdiction_codes())
            return self.none()
        if action == "change":
            return self.filter(organization=org) if actor.can_work else self.none()
        return self.none()


class ImportJobQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> ImportJobQuerySet:
        if user is None or not user.is_authenticated:
            return self.none()
        actor = get_actor(user)
        if actor.organization is None or actor.is_regulator:
            return self.none()
        return self.filter(organization=actor.organization)
