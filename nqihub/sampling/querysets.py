"""Who sees and who acts on supervision sampling, declared per model (never written by hand).

- The item list (一单), product categories and 实施细则 are published: every signed-in user reads
  them; the regulator that keeps a list (and the levels above it) changes it.
- The object pool, the inspector pool, plans, batches and draws are the regulators' own work:
  seen within their jurisdiction, changed by the organising regulator's managers and clerks.
- A sampling record is seen by the regulators of its division, the testing institution, and the
  sampled enterprise — but never before the samples were taken (抽样前不得告知被抽样者), and the
  named producer once the result was notified.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from nqihub.core.access import Actor, OrganizationKind
from nqihub.core.scoping import ScopedQuerySet, everyone, jurisdiction, own_organization


def _regulator_over(field: str = "division", *, working: bool = False):
    """A regulator (optionally only its managers and clerks) over ``field``'s division."""

    def rule(actor: Actor) -> models.Q | None:
        if not actor.is_regulator or (working and not actor.can_work):
            return None
        return models.Q(**{f"{field}_id__in": actor.jurisdiction_codes()})

    return rule


def _sampled_party(field: str, *, after: tuple[str, ...]):
    """The enterprise named in ``field`` sees a row once its stage is one of ``after``."""

    def rule(actor: Actor) -> models.Q | None:
        org = actor.organization
        if org is None or org.kind != OrganizationKind.ENTERPRISE:
            return None
        return models.Q(**{field: org}, stage__in=after)

    return rule


class ReferenceQuerySet(ScopedQuerySet):
    """Published reference data of the item list: read by all, kept by regulators."""

    scope = {
        ("view", "export"): (everyone(),),
        "change": (_regulator_over(working=True),),
    }


class CategoryQuerySet(ScopedQuerySet):
    scope = {("view", "export"): (everyone(),)}


class RulesQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (everyone(),),
        "change": (_regulator_over("item__division", working=True),),
    }


class TestItemQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (everyone(),),
        "change": (_regulator_over("rules__item__division", working=True),),
    }


class PoolObjectQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (jurisdiction(), own_organization("organization", exclude_regulators=True)),
        ("change", "import"): (_regulator_over(working=True),),
    }


class InspectorQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (jurisdiction(),),
        ("change", "import"): (_regulator_over(working=True),),
    }


class ConflictQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (jurisdiction("inspector__division"),),
        "change": (_regulator_over("inspector__division", working=True),),
    }


def _level_above(actor: Actor) -> models.Q | None:
    """The working members of the regulator of the division just above a plan's (its level above)."""
    org = actor.organization
    if not actor.is_regulator or not actor.can_work or org is None:
        return None
    return models.Q(division__parent_id=org.division_id)


class PlanQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (jurisdiction(),),
        "change": (own_organization("regulator", working=True),),
        # Returning or approving a plan filed with the level above.
        "review": (_level_above,),
    }


def _testing_institution(actor: Actor) -> models.Q | None:
    """An institution sees the batches it tests (a subquery: a join would repeat rows)."""
    org = actor.organization
    if org is None or org.kind != OrganizationKind.INSTITUTION:
        return None
    # Through the app registry: an import of .models here would close a circle (models → querysets).
    batch_institution = apps.get_model("sampling", "BatchInstitution")
    return models.Q(pk__in=batch_institution.objects.filter(institution=org).values("batch_id"))


class BatchQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (jurisdiction(), _testing_institution),
        "manage": (own_organization("organizer", working=True),),
    }


class DrawQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (jurisdiction("batch__division"),),
        "manage": (own_organization("batch__organizer", working=True),),
    }


# Stages of a sampling record the sampled party may see (from the taking of the samples on).
VISIBLE_TO_SAMPLED = (
    "sampled",
    "refused",
    "received",
    "tested",
    "notified",
    "objected",
    "final",
)
# Stages the named producer (when the sample was taken from a seller) may see.
VISIBLE_TO_PRODUCER = ("notified", "objected", "final")


class RecordQuerySet(ScopedQuerySet):
    scope = {
        ("view", "export"): (
            jurisdiction(),
            own_organization("institution", kind=OrganizationKind.INSTITUTION),
            _sampled_party("organization", after=VISIBLE_TO_SAMPLED),
            _sampled_party("producer", after=VISIBLE_TO_PRODUCER),
        ),
        # Taking the samples: the organising regulator's staff (the samplers act for it).
        "sample": (own_organization("batch__organizer", working=True),),
        # Receiving the samples and recording results: the testing institution's staff.
        "test": (own_organization("institution", kind=OrganizationKind.INSTITUTION, working=True),),
        # The result's follow-up (notice, objection decision, disposal): the organiser's staff.
        "handle": (own_organization("batch__organizer", working=True),),
        # An objection: the sampled enterprise's (or the named producer's) managers and clerks.
        "object": (
            own_organization("organization", kind=OrganizationKind.ENTERPRISE, working=True),
            own_organization("producer", kind=OrganizationKind.ENTERPRISE, working=True),
        ),
    }


def _record_party(prefix: str):
    """The sampled enterprise (from the sampling on) and the named producer (from the notice of
    the result on) see the rows of a record reached through ``prefix`` (``record__``)."""

    def rule(actor: Actor) -> models.Q | None:
        org = actor.organization
        if org is None or org.kind != OrganizationKind.ENTERPRISE:
            return None
        return models.Q(**{f"{prefix}organization": org, f"{prefix}stage__in": VISIBLE_TO_SAMPLED}) | models.Q(
            **{f"{prefix}producer": org, f"{prefix}stage__in": VISIBLE_TO_PRODUCER}
        )

    return rule


class ResultQuerySet(ScopedQuerySet):
    """A record's test results: seen by whoever sees the record."""

    scope = {
        ("view", "export"): (
            jurisdiction("record__division"),
            own_organization("record__institution", kind=OrganizationKind.INSTITUTION),
            _record_party("record__"),
        ),
    }


class ReportQuerySet(ScopedQuerySet):
    """Inspection reports: seen and downloaded by whoever sees the record; only the issuing
    institution's staff act on them."""

    scope = {
        ("view", "export", "download"): (
            jurisdiction(),
            own_organization("institution", kind=OrganizationKind.INSTITUTION),
            _record_party("record__"),
        ),
        "manage": (own_organization("institution", kind=OrganizationKind.INSTITUTION, working=True),),
    }


class ObjectionQuerySet(ScopedQuerySet):
    """An objection is seen with its record: the regulators over the record's division, the
    party that objected (the sampled enterprise or the named producer), the first testing
    institution and the re-testing institution once named."""

    scope = {
        ("view", "export"): (
            _regulator_over("record__division"),
            own_organization("record__organization", kind=OrganizationKind.ENTERPRISE),
            own_organization("record__producer", kind=OrganizationKind.ENTERPRISE),
            own_organization("record__institution", kind=OrganizationKind.INSTITUTION),
            own_organization("recheck_institution", kind=OrganizationKind.INSTITUTION),
        ),
        # Accepting or rejecting: the organiser's managers and clerks.
        "handle": (own_organization("record__batch__organizer", working=True),),
        # The re-test: the re-testing institution's managers and clerks.
        "retest": (own_organization("recheck_institution", kind=OrganizationKind.INSTITUTION, working=True),),
    }


class DisposalQuerySet(ScopedQuerySet):
    """The handling of an unqualified product: seen by the regulators over the record's division
    and the sampled enterprise (and the named producer); the organiser re-checks, the sampled
    enterprise reports its correction."""

    scope = {
        ("view", "export"): (
            _regulator_over("record__division"),
            own_organization("record__organization", kind=OrganizationKind.ENTERPRISE),
            own_organization("record__producer", kind=OrganizationKind.ENTERPRISE),
        ),
        "handle": (own_organization("record__batch__organizer", working=True),),
        "correct": (own_organization("record__organization", kind=OrganizationKind.ENTERPRISE, working=True),),
    }
