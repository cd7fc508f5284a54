"""Batches of supervision sampling (抽查任务) under an approved annual plan.

A batch names its type (双随机, 专项, 跟踪, 应急), the inspection item and the version of its
实施细则 in force, the area (the organiser's division or one below it), how many objects are
drawn and the testing institutions. For a double-random check the number is at least the
minimum ratio of the eligible pool (rule ``min_ratio_percent``) and, for a general item, at most
the cap (rule ``general_ratio_cap_percent``); a key item is uncapped. A follow-up check names an
earlier batch of the same organiser and draws only from its failed objects; an emergency check
states its reason. The testing institutions are chosen only among those whose CMA capability
covers the item's category (``pools.qualified_institutions``).

The batch number comes from the project's numbering service (series ``sampling.batch``), never
from counting rows.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import audited_service, locked_for
from nqihub.audit.services import audit_record
from nqihub.cases import numbering
from nqihub.core.access import get_actor
from nqihub.core.errors import InvalidInput, NotFound
from nqihub.divisions.models import AdminDivision
from nqihub.organizations.models import Organization

from .. import errors
from ..models import AnnualPlan, Batch, BatchInstitution, InspectionItem, InspectionRules
from .draws import eligible_pool
from .pools import qualified_institutions
from .rules import rule

BATCH_SERIES = "sampling.batch"
MAX_INSPECTORS_PER_OBJECT = 10


def format_number(year: int, seq: int) -> str:
    return f"CC{year}-{seq:04d}"


def _next_number(year: int) -> str:
    stem = f"CC{year}-"

    def start() -> int:
        highest = Batch.objects.filter(number__startswith=stem).aggregate(m=Max("number"))["m"] or ""
        tail = highest[len(stem) :]
        return int(tail) if tail.isdigit() else 0

    def taken(sequences):
        numbers = {format_number(year, seq): seq for seq in sequences}
        return [numbers[n] for n in Batch.objects.filter(number__in=list(numbers)).values_list("number", flat=True)]

    return format_number(year, numbering.next_sequences(BATCH_SERIES, year, start=start, taken=taken)[0])


def current_rules(item: InspectionItem, on: datetime.date | None = None) -> InspectionRules | None:
    """The version of the item's 实施细则 in force on ``on`` (today by default)."""
    day = on or timezone.localdate()
    return (
        InspectionRules.objects.filter(item=item, superseded_on__isnull=True, effective_from__lte=day)
        .order_by("-version")
        .first()
    )


@dataclass(frozen=True)
class Figures:
    """The numbers a batch's size is checked against, shown on the form."""

    pool: int
    minimum: int | None
    maximum: int | None
    min_percent: int
    cap_percent: int | None


def batch_figures(*, kind: str, item: InspectionItem, division: AdminDivision, follow_up_of=None) -> Figures:
    """The eligible pool of a batch to be created and the least and most it may draw."""
    pool = eligible_pool(category_id=item.category_id, division=division, follow_up_of=follow_up_of).count()
    min_percent = rule("min_ratio_percent")
    if kind != Batch.Kind.RANDOM:
        return Figures(pool, None, None, min_percent, None)
    minimum = max(1, math.ceil(pool * min_percent / 100)) if pool else None
    if item.importance == InspectionItem.Importance.KEY:
        return Figures(pool, minimum, None, min_percent, None)
    cap_percent = rule("general_ratio_cap_percent")
    maximum = max(minimum or 0, math.floor(pool * cap_percent / 100)) if pool else None
    return Figures(pool, minimum, maximum, min_percent, cap_percent)


def _may_create(actor, *, plan, **_kwargs) -> None:
    """A batch is created by the managers and clerks of the plan's regulator."""
    visible = AnnualPlan.objects.for_user(actor, "view")
    key = getattr(plan, "pk", plan)
    try:
        if not visible.filter(pk=key).exists():
            raise NotFound()
    except (TypeError, ValueError):
        raise NotFound() from None
    if not AnnualPlan.objects.for_user(actor, "change").filter(pk=key).exists():
        raise errors.NOT_ALLOWED(_("Only the plan's own office creates batches under it."))


def _date(value, field: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise InvalidInput(_("Give the date as YYYY-MM-DD."), field=field) from None


def _count(value, field: str, *, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("Give a whole number."), field=field) from None
    if not low <= number <= high:
        raise InvalidInput(_("Give a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}, field=field)
    return number


def _pk(value) -> object:
    return getattr(value, "pk", value)


def _clean(actor, plan: AnnualPlan, data) -> dict:
    organizer = plan.regulator
    kind = data.get("kind")
    if kind not in Batch.Kind.values:
        raise InvalidInput(_("Choose the type of check."), field="kind")
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput(_("Give the batch a title of at most 200 characters."), field="title")
    try:
        item = InspectionItem.objects.for_user(actor, "view").filter(is_active=True).get(pk=_pk(data.get("item")))
    except (InspectionItem.DoesNotExist, TypeError, ValueError):
        raise InvalidInput(_("Choose an inspection item of the list."), field="item") from None
    organizer_path = organizer.division.path
    if not organizer_path.startswith(item.division.path):
        raise InvalidInput(_("The item is not on the list of your region."), field="item")
    rules = current_rules(item)
    if rules is None:
        raise errors.RULES_NOT_CURRENT(field="item")
    try:
        division = AdminDivision.objects.get(pk=_pk(data.get("division")) or organizer.division_id)
    except (AdminDivision.DoesNotExist, TypeError, ValueError):
        raise errors.AREA_OUTSIDE(field="division") from None
    if not division.path.startswith(organizer_path):
        raise errors.AREA_OUTSIDE(field="division")
    reason = str(data.get("reason") or "").strip()
    if len(reason) > 500:
        raise InvalidInput(_("At most 500 characters."), field="reason")
    if kind == Batch.Kind.EMERGENCY and not reason:
        raise errors.REASON_REQUIRED(_("An emergency check states its reason."), field="reason")
    follow_up_of = None
    if kind == Batch.Kind.FOLLOW_UP:
        earlier = data.get("follow_up_of")
        follow_up_of = (
            Batch.objects.for_user(actor, "manage").filter(pk=_pk(earlier), item__category_id=item.category_id).first()
            if earlier not in (None, "")
            else None
        )
        if follow_up_of is None:
            raise errors.FOLLOW_UP_REQUIRED(field="follow_up_of")
    starts_on = _date(data.get("starts_on"), "starts_on")
    ends_on = _date(data.get("ends_on"), "ends_on")
    if ends_on < starts_on:
        raise InvalidInput(_("The batch cannot end before it starts."), field="ends_on")
    if starts_on.year != plan.year:
        raise InvalidInput(_("The batch starts in the plan's year %(year)s.") % {"year": plan.year}, field="starts_on")
    figures = batch_figures(kind=kind, item=item, division=division, follow_up_of=follow_up_of)
    if figures.pool == 0:
        raise errors.EMPTY_POOL(field="object_count")
    object_count = _count(data.get("object_count"), "object_count", low=1, high=1_000_000)
    if figures.minimum is not None and object_count < figures.minimum:
        raise errors.RATIO_TOO_LOW(
            field="object_count", percent=figures.min_percent, pool=figures.pool, minimum=figures.minimum
        )
    if figures.maximum is not None and object_count > figures.maximum:
        raise errors.RATIO_TOO_HIGH(
            field="object_count", percent=figures.cap_percent, pool=figures.pool, maximum=figures.maximum
        )
    minimum_inspectors = rule("min_inspectors")
    inspectors = data.get("inspectors_per_object") or minimum_inspectors
    inspectors = _count(
        inspectors, "inspectors_per_object", low=max(2, minimum_inspectors), high=MAX_INSPECTORS_PER_OBJECT
    )
    wanted = [_pk(i) for i in (data.get("institutions") or [])]
    if not wanted:
        raise errors.INSTITUTION_REQUIRED(field="institutions")
    qualified = qualified_institutions(item.category)
    try:
        chosen = list(qualified.filter(pk__in=wanted))
    except (TypeError, ValueError):
        raise errors.INSTITUTION_REQUIRED(field="institutions") from None
    if len(chosen) != len(set(map(str, wanted))):
        found = {str(o.pk) for o in chosen}
        names = [
            str(o)
            for o in Organization.objects.filter(pk__in=[w for w in wanted if str(w).isdigit() and str(w) not in found])
        ] or [str(w) for w in wanted if str(w) not in found]
        raise errors.INSTITUTION_NOT_QUALIFIED(
            field="institutions", category=str(item.category), names=", ".join(names)
        )
    risk_weighted = data.get("risk_weighted", True)
    return {
        "kind": kind,
        "title": title,
        "item": item,
        "rules": rules,
        "division": division,
        "object_count": object_count,
        "inspectors_per_object": inspectors,
        "risk_weighted": bool(risk_weighted) and risk_weighted not in ("false", "0", "off"),
        "follow_up_of": follow_up_of,
        "reason": reason,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "institutions": chosen,
        "figures": figures,
    }


@audited_service("sampling.batch_create", gettext_lazy("Sampling batch created"), check=_may_create, target="plan")
def batch_create(*, actor, plan, data) -> Batch:
    """Create a batch under ``plan`` (an approved plan of the acting regulator)."""
    locked = locked_for(
        AnnualPlan.objects.for_user(actor, "view"), AnnualPlan.objects.for_user(actor, "change"), _pk(plan)
    )
    if locked.case.state != "approved":
        raise errors.PLAN_NOT_APPROVED(number=locked.case.number)
    clean = _clean(actor, locked, data)
    institutions = clean.pop("institutions")
    figures = clean.pop("figures")
    batch = Batch.objects.create(
        plan=locked,
        number=_next_number(clean["starts_on"].year),
        organizer=locked.regulator,
        created_by=actor,
        **clean,
    )
    BatchInstitution.objects.bulk_create([BatchInstitution(batch=batch, institution=i) for i in institutions])
    audit_record(
        action="sampling.batch_create",
        actor=actor,
        target=batch,
        details={
            "number": batch.number,
            "kind": batch.kind,
            "item": clean["item"].code,
            "rules_version": clean["rules"].version,
            "division": batch.division_id,
            "object_count": batch.object_count,
            "eligible_pool": figures.pool,
            "institutions": [i.pk for i in institutions],
        },
    )
    return batch


def organiser_may_create(actor) -> bool:
    who = get_actor(actor)
    return who.is_regulator and who.can_work
