"""Annual sampling plans (年度监督抽查计划), filed with the level above.

A regulator's manager or clerk writes the plan for a year and files it at once: its case (kind
``sampling_plan``) is submitted to the regulator of the division just above, whose managers and
clerks approve it or return it with the reason; a returned plan is corrected and filed again
under the same number. The region (the autonomous region's bureau) files with nobody: its plan
is approved when it is submitted, and its timeline says so.

Batches are created only under an approved plan (``services.batches``).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.cases import services as cases
from nqihub.core.access import get_actor
from nqihub.core.errors import InvalidInput
from nqihub.organizations.models import Organization

from .. import errors
from ..casekinds import PLAN
from ..models import AnnualPlan

MIN_YEAR, MAX_YEAR = 2000, 2100
REASON_LIMIT = 500


def _working_regulator(actor, **_kwargs) -> None:
    who = get_actor(actor)
    if not (who.is_regulator and who.can_work):
        raise errors.NOT_ALLOWED(_("Only a manager or clerk of a market regulation bureau files a sampling plan."))


def _clean(data) -> dict:
    year = data.get("year")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise InvalidInput(_("Give the year as four digits."), field="year") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(_("Give the year as four digits."), field="year")
    title = str(data.get("title") or "").strip()
    if not title:
        raise InvalidInput(_("Give the plan a title."), field="title")
    if len(title) > 200:
        raise InvalidInput(_("At most 200 characters."), field="title")
    summary = str(data.get("summary") or "").strip()
    if len(summary) > 5000:
        raise InvalidInput(_("At most 5000 characters."), field="summary")
    return {"year": year, "title": title, "summary": summary}


def _level_above(regulator: Organization) -> Organization | None:
    """The regulator the plan is filed with: the one of the division just above (None for the
    region). When several organisations are regulators of that division, the oldest."""
    parent_id = regulator.division.parent_id
    if parent_id is None:
        return None
    return (
        Organization.objects.filter(kind=regulator.kind, division_id=parent_id, is_active=True).order_by("pk").first()
    )


@audited_service(
    "sampling.plan_submit",
    gettext_lazy("Sampling plan filed"),
    check=_working_regulator,
    conflict=lambda: errors.PLAN_EXISTS(field="title", year=""),
)
def plan_submit(*, actor, data) -> AnnualPlan:
    """Write the acting regulator's plan and file it with the level above (the region's plan is
    approved at once)."""
    regulator = get_actor(actor).organization
    clean = _clean(data)
    if AnnualPlan.objects.filter(regulator=regulator, year=clean["year"], title=clean["title"]).exists():
        raise errors.PLAN_EXISTS(field="title", year=clean["year"])
    above = _level_above(regulator)
    case = cases.case_open(
        kind=PLAN.code,
        actor=actor,
        applicant_organization=regulator,
        handling_organization=above,
        division=regulator.division,
    )
    with transaction.atomic():
        plan = AnnualPlan.objects.create(case=case, regulator=regulator, division_id=regulator.division_id, **clean)
    if regulator.division.parent_id is None:
        plan.case = cases.case_approve(case, actor=actor, note=_("The region's own plan: filed with no level above."))
    audit_record(
        action="sampling.plan_submit",
        actor=actor,
        target=plan,
        details={"number": case.number, "year": plan.year, "filed_with": str(above) if above else None},
    )
    return plan


@audited_service(
    "sampling.plan_resubmit",
    gettext_lazy("Sampling plan corrected and filed again"),
    check=may(AnnualPlan, "change", "plan"),
    target="plan",
    conflict=lambda: errors.PLAN_EXISTS(field="title", year=""),
)
def plan_resubmit(*, actor, plan, data) -> AnnualPlan:
    locked = locked_for(
        AnnualPlan.objects.for_user(actor, "view"),
        AnnualPlan.objects.for_user(actor, "change"),
        getattr(plan, "pk", plan),
    )
    if locked.case.state != "returned":
        raise errors.INVALID_STATE(what=locked.case.number, state=locked.case.get_state_display())
    clean = _clean(data)
    changes = {k: [getattr(locked, k), v] for k, v in clean.items() if getattr(locked, k) != v}
    for key, value in clean.items():
        setattr(locked, key, value)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise errors.PLAN_EXISTS(field="title", year=clean["year"]) from None
    locked.case = cases.case_resubmit(locked.case, actor=actor)
    audit_record(action="sampling.plan_resubmit", actor=actor, target=locked, details={"changes": changes})
    return locked


def _reviewable(actor, plan) -> AnnualPlan:
    locked = locked_for(
        AnnualPlan.objects.for_user(actor, "view"),
        AnnualPlan.objects.for_user(actor, "review"),
        getattr(plan, "pk", plan),
        forbidden=_("Only the regulator one level above reviews this plan."),
    )
    if locked.case.state != "submitted":
        raise errors.INVALID_STATE(what=locked.case.number, state=locked.case.get_state_display())
    return locked


@audited_service(
    "sampling.plan_approve",
    gettext_lazy("Sampling plan approved"),
    check=may(
        AnnualPlan, "review", "plan", forbidden=lambda: _("Only the regulator one level above reviews this plan.")
    ),
    target="plan",
)
def plan_approve(*, actor, plan, note: str = "") -> AnnualPlan:
    locked = _reviewable(actor, plan)
    note = str(note or "").strip()[:REASON_LIMIT]
    locked.case = cases.case_approve(locked.case, actor=actor, note=note)
    audit_record(action="sampling.plan_approve", actor=actor, target=locked, details={"number": locked.case.number})
    return locked


@audited_service(
    "sampling.plan_return",
    gettext_lazy("Sampling plan returned for correction"),
    check=may(
        AnnualPlan, "review", "plan", forbidden=lambda: _("Only the regulator one level above reviews this plan.")
    ),
    target="plan",
)
def plan_return(*, actor, plan, reason: str) -> AnnualPlan:
    locked = _reviewable(actor, plan)
    reason = str(reason or "").strip()
    if not reason:
        raise errors.REASON_REQUIRED(field="reason")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(_("At most 500 characters."), field="reason")
    locked.case = cases.case_return(locked.case, actor=actor, reason=reason)
    audit_record(
        action="sampling.plan_return",
        actor=actor,
        target=locked,
        details={"number": locked.case.number, "reason": reason},
    )
    return locked


def may_review(actor, plan) -> bool:
    return AnnualPlan.objects.for_user(actor, "review").filter(pk=plan.pk).exists()


def may_change(actor, plan) -> bool:
    return AnnualPlan.objects.for_user(actor, "change").filter(pk=plan.pk).exists()
