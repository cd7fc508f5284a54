"""Who may see and change the catalogue, instruments, filings, applications and documents.

Applications: an enterprise sees its own (its managers and clerks apply and withdraw); an
institution sees those addressed to it (its managers and clerks decide, record results, and
its LIMS pulls them); a regulator sees its jurisdiction (read only); staff see no business data.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

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
        if user is None or not user.is_authenticated or not user.is_active or action not in ("view", "export"):
            return self.none()
        actor = get_actor(user)
        if actor.organization is None or actor.is_regulator:
            return self.none()
        return self.filter(organization=actor.organization)


# --- Verification applications, items, results --------------------------------------------

VIEW_ACTIONS = ("view", "export")
ENTERPRISE_ACTIONS = ("apply", "withdraw")
INSTITUTION_ACTIONS = ("decide", "record", "lims")


def _scope_q(user, action: str, prefix: str = "") -> models.Q | None:
    """The filter on applications (``prefix`` leads from the model to the application);
    None means nothing at all."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    actor = get_actor(user)
    org = actor.organization
    if org is None or not org.is_active:
        return None
    if action in VIEW_ACTIONS:
        if actor.is_regulator:
            return models.Q(**{f"{prefix}division_id__in": actor.jurisdiction_codes()})
        if org.kind == OrganizationKind.ENTERPRISE:
            return models.Q(**{f"{prefix}organization": org})
        if org.kind == OrganizationKind.INSTITUTION:
            return models.Q(**{f"{prefix}institution": org})
        return None
    if action in ENTERPRISE_ACTIONS:
        if org.kind == OrganizationKind.ENTERPRISE and actor.can_work:
            return models.Q(**{f"{prefix}organization": org})
        return None
    if action in INSTITUTION_ACTIONS:
        if org.kind == OrganizationKind.INSTITUTION and actor.can_work:
            return models.Q(**{f"{prefix}institution": org})
        return None
    return None


class ApplicationQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> ApplicationQuerySet:
        q = _scope_q(user, action)
        return self.none() if q is None else self.filter(q)

    def open(self) -> ApplicationQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def overdue_acceptance(self) -> ApplicationQuerySet:
        """Still awaiting acceptance after the promised time limit."""
        return self.filter(state="submitted", accept_by__lt=timezone.now())

    def inbox_order(self) -> ApplicationQuerySet:
        """Awaiting acceptance first (earliest deadline first), then the rest, newest first."""
        waiting = models.Case(models.When(state="submitted", then=0), default=1, output_field=models.IntegerField())
        return self.annotate(_waiting=waiting).order_by("_waiting", "accept_by", "-submitted_at", "-pk")


class ApplicationItemQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> ApplicationItemQuerySet:
        q = _scope_q(user, action, "application__")
        return self.none() if q is None else self.filter(q)


class VerificationResultQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> VerificationResultQuerySet:
        q = _scope_q(user, action, "item__application__")
        return self.none() if q is None else self.filter(q)


# An instrument may be in at most one open application at a time.
OPEN_STATES = ("submitted", "accepted", "scheduled")


class IssuedDocumentQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> IssuedDocumentQuerySet:
        """Enterprises see the documents they received, institutions those they issued (and
        ``manage``: reissue, revoke), regulators their jurisdiction (read only)."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        actor = get_actor(user)
        org = actor.organization
        if org is None:
            return self.none()
        if action in ("view", "download", "export"):
            if actor.is_regulator:
                return self.filter(division_id__in=actor.jurisdiction_codes())
            if org.kind == OrganizationKind.ENTERPRISE:
                return self.filter(organization=org)
            if org.kind == OrganizationKind.INSTITUTION:
                return self.filter(institution=org)
            return self.none()
        if action == "manage" and org.kind == OrganizationKind.INSTITUTION and actor.can_work:
            return self.filter(institution=org)
        return self.none()
