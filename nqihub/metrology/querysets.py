"""Who may see and change the catalogue, instruments, filings, applications and documents.

Applications: an enterprise sees its own (its managers and clerks apply and withdraw); an
institution sees those addressed to it (its managers and clerks decide, record results, and
its LIMS pulls them); a regulator sees its jurisdiction (read only); staff see no business data.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from nqihub.core.access import Capability, OrganizationKind
from nqihub.core.scoping import (
    ScopedQuerySet,
    capability,
    county_reviewer,
    everyone,
    jurisdiction,
    own_organization,
    regulators,
)

ENTERPRISE = OrganizationKind.ENTERPRISE
INSTITUTION = OrganizationKind.INSTITUTION


class CatalogueItemQuerySet(ScopedQuerySet):
    """The catalogue is public reference data for signed-in users; it is configuration, so
    only the system administrator edits it."""

    scope = {
        "view": (everyone(),),
        ("change", "create", "export"): (capability(Capability.MANAGE_CONFIGURATION),),
    }

    def active(self) -> CatalogueItemQuerySet:
        return self.filter(is_active=True)


class InstrumentQuerySet(ScopedQuerySet):
    """Enterprises see and keep their own ledger; regulators see the instruments in their
    jurisdiction (read only). Platform staff do not see business data."""

    scope = {
        ("view", "export"): (jurisdiction(), own_organization(kind=ENTERPRISE)),
        ("change", "file", "import"): (own_organization(kind=ENTERPRISE, working=True),),
    }

    def mandatory(self) -> InstrumentQuerySet:
        return self.filter(is_mandatory=True)

    def in_use(self) -> InstrumentQuerySet:
        return self.exclude(status="scrapped")


class InstrumentFilingQuerySet(ScopedQuerySet):
    """The filing enterprise sees and changes its filings; regulators see their jurisdiction
    and only a county regulator reviews."""

    scope = {
        ("view", "export"): (jurisdiction(), own_organization(exclude_regulators=True)),
        "review": (county_reviewer(),),
        "change": (own_organization(working=True),),
    }


class ImportJobQuerySet(ScopedQuerySet):
    scope = {("view", "export"): (own_organization(exclude_regulators=True),)}


# --- Verification applications, items, results --------------------------------------------


def _application_scope(prefix: str = "") -> dict:
    """The scope of applications (``prefix`` leads from the model to the application)."""
    return {
        ("view", "export"): (
            jurisdiction(f"{prefix}division"),
            own_organization(f"{prefix}organization", kind=ENTERPRISE),
            own_organization(f"{prefix}institution", kind=INSTITUTION),
        ),
        ("apply", "withdraw"): (own_organization(f"{prefix}organization", kind=ENTERPRISE, working=True),),
        ("decide", "record", "lims"): (own_organization(f"{prefix}institution", kind=INSTITUTION, working=True),),
    }


class ApplicationQuerySet(ScopedQuerySet):
    scope = _application_scope()
    require_active_organization = True

    def open(self) -> ApplicationQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def overdue_acceptance(self) -> ApplicationQuerySet:
        """Still awaiting acceptance after the promised time limit."""
        return self.filter(state="submitted", accept_by__lt=timezone.now())

    def inbox_order(self) -> ApplicationQuerySet:
        """Awaiting acceptance first (earliest deadline first), then the rest, newest first."""
        waiting = models.Case(models.When(state="submitted", then=0), default=1, output_field=models.IntegerField())
        return self.annotate(_waiting=waiting).order_by("_waiting", "accept_by", "-submitted_at", "-pk")


class ApplicationItemQuerySet(ScopedQuerySet):
    scope = _application_scope("application__")
    require_active_organization = True


class VerificationResultQuerySet(ScopedQuerySet):
    scope = _application_scope("item__application__")
    require_active_organization = True


# An instrument may be in at most one open application at a time.
OPEN_STATES = ("submitted", "accepted", "scheduled")


class IssuedDocumentQuerySet(ScopedQuerySet):
    """Enterprises see the documents they received, institutions those they issued (and
    ``manage``: reissue, revoke), regulators their jurisdiction (read only)."""

    scope = {
        ("view", "download", "export"): (
            jurisdiction(),
            own_organization(kind=ENTERPRISE),
            own_organization("institution", kind=INSTITUTION),
        ),
        "manage": (own_organization("institution", kind=INSTITUTION, working=True),),
    }


class FeeConfigurationQuerySet(ScopedQuerySet):
    """Tariffs and waiver policies: regulators and the system administrator read them (fees
    are configuration, not enterprise data); only the system administrator changes them."""

    scope = {
        ("view", "export"): (capability(Capability.MANAGE_CONFIGURATION), regulators()),
        ("change", "create"): (capability(Capability.MANAGE_CONFIGURATION),),
    }


class TariffQuerySet(FeeConfigurationQuerySet):
    pass


class WaiverPolicyQuerySet(FeeConfigurationQuerySet):
    pass
