"""The draw of a batch (双随机): which objects are checked and by whom, reproducibly.

``batch_draw`` exports the batch's eligible pool in the published CSV format of
``nqihub.sampling.draw`` (kept as the draw's file with its SHA-256), makes a fresh seed, runs the
published algorithm (strata: the object's county × product category; quotas in proportion to
the strata's sizes; weights = the object's risk score when the batch is risk-weighted, else 1)
and keeps the Draw with its Selections. Anyone re-runs it with the stored file, seed and quotas
(``python -m nqihub.sampling.draw --pool … --seed … --quotas …``) and gets the same list.

The repeat rule (市场监管总局令第18号): an object whose same product (named producer, standard,
brand, model) was sampled within ``repeat_window_months`` by the same department, or by a
department at a higher level, is excluded with the reason, and the next object of its stratum in
key order takes its place; the draw's quotas then name how many of each stratum were examined,
so the verifier's list is exactly the list kept. Follow-up and emergency checks are exempt.

Then for each selected object ``inspectors_per_object`` inspectors are drawn (a second Draw of
purpose ``inspectors``, with its own seed and the file of eligible inspectors: the organiser's
jurisdiction, the category among their fields, available today), in the algorithm's fixed order
per object, skipping whoever must recuse — an inspector of the enterprise's own county office
when the batch is organised above county level (交叉检查: a prefecture or the region sends
inspectors from outside the county), a declared conflict with the enterprise, or a check of the
same enterprise within the repeat window. Each recusal is kept as an Assignment with its reason,
and the inspector drawn in its place points back to it.

A redraw states its reason, is a new Draw (seq + 1) and leaves the earlier ones as they were;
once sampling has started (``batch_confirm``) nothing is drawn again. Confirming opens one
sampling record (a case of kind ``sampling_record``) per selected object, checking the repeat
rule once more, so that no record is ever made for an object the rule excludes.
"""

from __future__ import annotations

import csv
import datetime
import io
import secrets
from collections import defaultdict
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.cases import services as cases
from nqihub.divisions.models import AdminDivision

from .. import draw as algorithm
from .. import errors
from ..casekinds import RECORD
from ..models import (
    Assignment,
    Batch,
    BatchInstitution,
    Draw,
    Inspector,
    InspectorConflict,
    PoolObject,
    SamplingRecord,
    Selection,
)
from .rules import rule

# The columns of the exported pool after the algorithm's own (carried along, ignored by the draw).
POOL_EXTRA_COLUMNS = ("division", "category", "enterprise", "product", "brand", "model", "standard")
INSPECTOR_COLUMNS = ("inspector_id", "office", "division")
# A risk score of zero still weighs a little: the algorithm takes weights above zero only.
MIN_WEIGHT = 0.01
REASON_LIMIT = 500


# --- The pool ------------------------------------------------------------------------------------


def eligible_pool(*, category_id, division: AdminDivision, follow_up_of: Batch | None = None) -> QuerySet:
    """The objects a batch draws from: the active pool objects of the category within the area;
    for a follow-up check, the objects of the earlier batch whose (final) conclusion failed."""
    if follow_up_of is not None:
        failed = SamplingRecord.objects.filter(batch=follow_up_of).filter(
            Q(final_conclusion="fail") | Q(final_conclusion="", conclusion="fail")
        )
        return PoolObject.objects.filter(pk__in=failed.values("pool_object_id"), category_id=category_id)
    return PoolObject.objects.filter(is_active=True, category_id=category_id, division__path__startswith=division.path)


def batch_pool(batch: Batch) -> QuerySet:
    return eligible_pool(category_id=batch.item.category_id, division=batch.division, follow_up_of=batch.follow_up_of)


def stratum_of(division_id: str, category_code: str) -> str:
    """The stratum key: the object's division code and its category code."""
    return f"{division_id}/{category_code}"


def _weight(batch: Batch, risk: Decimal) -> float:
    if not batch.risk_weighted:
        return 1.0
    return max(float(risk), MIN_WEIGHT)


def _pool_rows(batch: Batch) -> list[tuple]:
    rows = batch_pool(batch).values_list(
        "pk",
        "division_id",
        "category__code",
        "risk_score",
        "division__name",
        "category__name",
        "organization__name",
        "product_name",
        "brand",
        "model",
        "standard",
    )
    return [
        (pk, stratum_of(division, code), _weight(batch, risk), division_name, category, org, product, brand, model, std)
        for pk, division, code, risk, division_name, category, org, product, brand, model, std in rows
    ]


# --- The repeat rule (18号令) ---------------------------------------------------------------------


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same day ``months`` calendar months earlier (the month's last day when it is shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = datetime.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - datetime.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _window_start(now: datetime.datetime | None = None) -> datetime.datetime:
    return months_before(now or timezone.now(), rule("repeat_window_months"))


def _same_product(obj: PoolObject) -> Q:
    """Records of the same product as ``obj``: same standard, brand and model, and the same named
    producer (the platform organisation when known, else the producer's name as printed)."""
    same = Q(pool_object__standard=obj.standard, pool_object__brand=obj.brand, pool_object__model=obj.model)
    producer_id = obj.producer_id or (obj.organization_id if obj.role == PoolObject.Role.PRODUCER else None)
    if producer_id is not None:
        return same & (
            Q(pool_object__producer_id=producer_id)
            | Q(pool_object__role=PoolObject.Role.PRODUCER, pool_object__organization_id=producer_id)
        )
    return same & Q(pool_object__producer_name=obj.producer_name, pool_object__producer__isnull=True)


def _departments_barred(organizer) -> Q:
    """The organiser itself, and every regulator of a division above it."""
    above = [code for code in organizer.division.path.split("/") if code and code != organizer.division_id]
    return Q(batch__organizer=organizer) | Q(batch__organizer__division_id__in=above)


def repeat_rule_reason(obj: PoolObject, *, batch: Batch, since: datetime.datetime | None = None) -> str:
    """Why the repeat rule bars ``obj`` from ``batch`` (empty when it does not): the record of the
    same product sampled (or about to be) within the window by the same or a higher department."""
    if batch.kind in Batch.EXEMPT_FROM_REPEAT_RULE:
        return ""
    since = since or _window_start()
    earlier = (
        SamplingRecord.objects.filter(_same_product(obj), _departments_barred(batch.organizer))
        .exclude(batch=batch)
        .filter(Q(sampled_at__gte=since) | Q(stage=SamplingRecord.Stage.ASSIGNED, case__opened_at__gte=since))
        .select_related("case", "batch__organizer")
        .order_by("-case__opened_at")
        .first()
    )
    if earlier is None:
        return ""
    when = timezone.localdate(earlier.sampled_at or earlier.case.opened_at)
    return _(
        "The same product was sampled by %(department)s on %(date)s (record %(number)s), within %(months)s months "
        "(SAMR Order No. 18)."
    ) % {
        "department": earlier.batch.organizer,
        "date": f"{when:%Y-%m-%d}",
        "number": earlier.case.number,
        "months": rule("repeat_window_months"),
    }


def _choose(batch, pool, seed, allocation, objects_by_id, since) -> tuple[dict, dict, dict]:
    """Run the draw, widening a stratum's quota by the objects the repeat rule excludes until it
    has its allocation or runs out. Returns (quotas examined, result, excluded id → reason)."""
    quotas = dict(allocation)
    excluded: dict[int, str] = {}
    sizes: dict[str, int] = defaultdict(int)
    for _id, stratum, _w in pool:
        sizes[stratum] += 1
    while True:
        result = algorithm.draw(pool, seed=seed, quotas=quotas)
        missing_ids = [i for ids in result.values() for i in ids if i not in objects_by_id]
        objects_by_id.update(PoolObject.objects.select_related("organization").in_bulk(missing_ids))
        short = False
        for stratum, ids in result.items():
            for object_id in ids:
                if object_id not in excluded:
                    reason = repeat_rule_reason(objects_by_id[object_id], batch=batch, since=since)
                    if reason:
                        excluded[object_id] = reason
            kept = sum(1 for object_id in ids if object_id not in excluded)
            missing = allocation.get(stratum, 0) - kept
            if missing > 0 and quotas[stratum] < sizes[stratum]:
                quotas[stratum] = min(sizes[stratum], quotas[stratum] + missing)
                short = True
        if not short:
            return quotas, result, excluded


# --- Inspectors ------------------------------------------------------------------------------------


def eligible_inspectors(batch: Batch) -> QuerySet:
    """The inspectors a batch draws from: of the organiser's jurisdiction, the category among
    their fields, available today (and their certificate valid)."""
    today = timezone.localdate()
    return (
        Inspector.objects.filter(
            division__path__startswith=batch.organizer.division.path,
            fields=batch.item.category_id,
            is_available=True,
        )
        .filter(Q(unavailable_until__isnull=True) | Q(unavailable_until__lt=today))
        .filter(Q(certificate_valid_until__isnull=True) | Q(certificate_valid_until__gte=today))
        .order_by("pk")
        .distinct()
    )


def _inspectors_file(inspectors: list[Inspector]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(INSPECTOR_COLUMNS)
    for person in sorted(inspectors, key=lambda p: p.pk):
        writer.writerow([person.pk, str(person.office), person.division_id])
    return out.getvalue().encode(algorithm.CSV_ENCODING)


class _Recusals:
    """Why an inspector recuses from an enterprise (or nothing), read once for the whole draw."""

    def __init__(self, batch: Batch, inspectors: list[Inspector], organizations: set, since) -> None:
        self.cross_check = batch.organizer.division.level != AdminDivision.Level.COUNTY
        ids = [p.pk for p in inspectors]
        self.division = {p.pk: p.division_id for p in inspectors}
        self.declared = set(
            InspectorConflict.objects.filter(inspector_id__in=ids, organization_id__in=organizations).values_list(
                "inspector_id", "organization_id"
            )
        )
        samplers = SamplingRecord.samplers.through.objects.filter(
            inspector_id__in=ids,
            samplingrecord__organization_id__in=organizations,
            samplingrecord__sampled_at__gte=since,
        ).values_list("inspector_id", "samplingrecord__organization_id")
        assigned = Assignment.objects.filter(
            inspector_id__in=ids,
            recusal="",
            selection__pool_object__organization_id__in=organizations,
            selection__record__case__opened_at__gte=since,
        ).values_list("inspector_id", "selection__pool_object__organization_id")
        self.recent = set(samplers) | set(assigned)

    def reason(self, inspector_id: int, obj: PoolObject) -> str:
        if self.cross_check and self.division[inspector_id] == obj.division_id:
            return Assignment.Recusal.SAME_OFFICE
        if (inspector_id, obj.organization_id) in self.declared:
            return Assignment.Recusal.DECLARED
        if (inspector_id, obj.organization_id) in self.recent:
            return Assignment.Recusal.RECENT_CHECK
        return ""


def _assign(batch, draw: Draw, selections: list[Selection], inspectors: list[Inspector], since) -> list[dict]:
    count = batch.inspectors_per_object
    ids = [p.pk for p in inspectors]
    recusals = _Recusals(batch, inspectors, {s.pool_object.organization_id for s in selections}, since)
    result = []
    for selection in selections:
        obj = selection.pool_object
        order = algorithm.rank_inspectors(obj.pk, ids, seed=draw.seed)
        chosen: list[int] = []
        recused: list[int] = []
        rows: list[tuple[int, int, str]] = []
        for rank, inspector_id in enumerate(order, start=1):
            reason = recusals.reason(inspector_id, obj)
            rows.append((rank, inspector_id, reason))
            (recused if reason else chosen).append(inspector_id)
            if len(chosen) == count:
                break
        if len(chosen) < count:
            raise errors.TOO_FEW_INSPECTORS(available=len(chosen), needed=count, object=f"{obj.organization} {obj}")
        waiting: list[Assignment] = []
        for rank, inspector_id, reason in rows:
            replaces = waiting.pop(0) if not reason and waiting else None
            row = Assignment.objects.create(
                selection=selection, draw=draw, inspector_id=inspector_id, rank=rank, recusal=reason, replaces=replaces
            )
            if reason:
                waiting.append(row)
        result.append({"object_id": obj.pk, "inspector_ids": chosen, "recused": recused})
    return result


# --- The services ----------------------------------------------------------------------------------


def _next_seq(batch: Batch, purpose: str) -> int:
    return (Draw.objects.filter(batch=batch, purpose=purpose).aggregate(m=Max("seq"))["m"] or 0) + 1


def latest_draw(batch: Batch, purpose: str = Draw.Purpose.OBJECTS) -> Draw | None:
    return Draw.objects.filter(batch=batch, purpose=purpose).order_by("-seq").first()


def effective_selections(batch: Batch) -> QuerySet:
    """The selections of the batch's latest object draw (earlier draws stay, not in use)."""
    latest = latest_draw(batch)
    if latest is None:
        return Selection.objects.none()
    return Selection.objects.filter(draw=latest)


@audited_service(
    "sampling.batch_draw",
    gettext_lazy("Sampling objects and inspectors drawn"),
    check=may(Batch, "manage", "batch"),
    target="batch",
    details=lambda actor, **kw: {"reason": str(kw.get("reason") or "")[:REASON_LIMIT]},
)
def batch_draw(*, actor, batch, reason: str = "") -> Draw:
    """Draw the batch's objects and their inspectors (a redraw when drawn already: with reason)."""
    locked = locked_for(
        Batch.objects.for_user(actor, "view"), Batch.objects.for_user(actor, "manage"), getattr(batch, "pk", batch)
    )
    if locked.state not in (Batch.State.DRAFT, Batch.State.DRAWN):
        raise errors.INVALID_STATE(what=locked.number, state=locked.get_state_display())
    reason = str(reason or "").strip()
    seq = _next_seq(locked, Draw.Purpose.OBJECTS)
    if seq > 1 and not reason:
        raise errors.REASON_REQUIRED(_("A redraw states its reason; the earlier draw stays on record."), field="reason")
    if len(reason) > REASON_LIMIT:
        raise errors.REASON_REQUIRED(_("At most 500 characters."), field="reason")
    rows = _pool_rows(locked)
    if not rows:
        raise errors.EMPTY_POOL()
    now = timezone.now()
    since = _window_start(now)
    pool = [(row[0], row[1], row[2]) for row in rows]
    pool_file = algorithm.pool_csv([(r[0], r[1], r[2], *r[3:]) for r in rows], extra_columns=POOL_EXTRA_COLUMNS)
    sizes: dict[str, int] = defaultdict(int)
    for _id, stratum, _w in pool:
        sizes[stratum] += 1
    allocation = algorithm.allocate(dict(sizes), locked.object_count)
    seed = secrets.token_hex(16)
    objects_by_id: dict[int, PoolObject] = {}
    quotas, result, excluded = _choose(locked, pool, seed, allocation, objects_by_id, since)
    draw = Draw(
        batch=locked,
        purpose=Draw.Purpose.OBJECTS,
        seq=seq,
        seed=seed,
        algorithm=algorithm.ALGORITHM,
        pool_size=len(pool),
        pool_sha256=algorithm.file_digest(pool_file),
        quotas=quotas,
        result=[{"stratum": s, "object_ids": ids} for s, ids in sorted(result.items())],
        reason=reason if seq > 1 else "",
        drawn_by=actor,
        drawn_at=now,
    )
    draw.pool_file.save(f"{locked.number}-objects-{seq}.csv", ContentFile(pool_file), save=False)
    draw.save()
    selections = []
    for stratum, ids in sorted(result.items()):
        for rank, object_id in enumerate(ids, start=1):
            why = excluded.get(object_id, "")
            selections.append(
                Selection(
                    batch=locked,
                    draw=draw,
                    pool_object=objects_by_id[object_id],
                    stratum=stratum,
                    rank=rank,
                    status=Selection.Status.EXCLUDED if why else Selection.Status.SELECTED,
                    excluded_reason=why,
                )
            )
    Selection.objects.bulk_create(selections)
    chosen = [
        s
        for s in Selection.objects.filter(draw=draw, status=Selection.Status.SELECTED).select_related(
            "pool_object__organization"
        )
    ]
    inspectors = list(eligible_inspectors(locked).select_related("office"))
    inspector_file = _inspectors_file(inspectors)
    inspector_seq = _next_seq(locked, Draw.Purpose.INSPECTORS)
    inspector_draw = Draw(
        batch=locked,
        purpose=Draw.Purpose.INSPECTORS,
        seq=inspector_seq,
        seed=secrets.token_hex(16),
        algorithm=algorithm.ALGORITHM,
        pool_size=len(inspectors),
        pool_sha256=algorithm.file_digest(inspector_file),
        quotas={"count": locked.inspectors_per_object},
        reason=reason if inspector_seq > 1 else "",
        drawn_by=actor,
        drawn_at=now,
    )
    inspector_draw.pool_file.save(
        f"{locked.number}-inspectors-{inspector_seq}.csv", ContentFile(inspector_file), save=False
    )
    inspector_draw.save()
    inspector_draw.result = _assign(locked, inspector_draw, chosen, inspectors, since)
    inspector_draw.save(update_fields=["result"])
    locked.drawn()
    locked.save(update_fields=["state"])
    audit_record(
        action="sampling.batch_draw",
        actor=actor,
        target=locked,
        details={
            "draw": draw.pk,
            "seq": seq,
            "reason": reason,
            "algorithm": algorithm.ALGORITHM,
            "seed": seed,
            "pool_size": len(pool),
            "pool_sha256": draw.pool_sha256,
            "quotas": quotas,
            "allocation": allocation,
            "selected": [s.pool_object_id for s in chosen],
            "excluded": {str(k): v for k, v in excluded.items()},
            "inspector_draw": inspector_draw.pk,
            "inspector_seed": inspector_draw.seed,
            "inspectors_sha256": inspector_draw.pool_sha256,
            "assignments": inspector_draw.result,
        },
    )
    return draw


@audited_service(
    "sampling.batch_confirm",
    gettext_lazy("Sampling started on the drawn objects"),
    check=may(Batch, "manage", "batch"),
    target="batch",
)
def batch_confirm(*, actor, batch) -> Batch:
    """Confirm the latest draw: one sampling record per selected object, handled by the batch's
    testing institutions in turn; the batch is then under way and is never drawn again."""
    locked = locked_for(
        Batch.objects.for_user(actor, "view"), Batch.objects.for_user(actor, "manage"), getattr(batch, "pk", batch)
    )
    if locked.state != Batch.State.DRAWN:
        if locked.state == Batch.State.DRAFT:
            raise errors.NOTHING_DRAWN()
        raise errors.INVALID_STATE(what=locked.number, state=locked.get_state_display())
    selections = list(
        effective_selections(locked)
        .filter(status=Selection.Status.SELECTED)
        .select_related("pool_object__organization", "pool_object__division")
        .order_by("stratum", "rank")
    )
    if not selections:
        raise errors.NOTHING_DRAWN(_("The latest draw selected no object: draw again."))
    since = _window_start()
    barred = [s for s in selections if repeat_rule_reason(s.pool_object, batch=locked, since=since)]
    if barred:
        raise errors.REPEAT_RULE(objects=", ".join(f"{s.pool_object.organization} {s.pool_object}" for s in barred))
    institutions = list(
        BatchInstitution.objects.filter(batch=locked).select_related("institution").order_by("institution_id")
    )
    if not institutions:
        raise errors.INSTITUTION_REQUIRED()
    records = []
    for n, selection in enumerate(selections):
        obj = selection.pool_object
        institution = institutions[n % len(institutions)].institution
        case = cases.case_open(
            kind=RECORD.code,
            actor=actor,
            applicant_organization=locked.organizer,
            handling_organization=institution,
            division=obj.division,
        )
        records.append(
            SamplingRecord.objects.create(
                case=case,
                batch=locked,
                selection=selection,
                pool_object=obj,
                organization=obj.organization,
                producer=obj.producer,
                division_id=obj.division_id,
                institution=institution,
            )
        )
    locked.start_sampling()
    locked.save(update_fields=["state"])
    audit_record(
        action="sampling.batch_confirm",
        actor=actor,
        target=locked,
        details={
            "draw": latest_draw(locked).pk,
            "records": [r.case.number for r in records],
            "institutions": {r.case.number: r.institution_id for r in records},
        },
    )
    return locked


def rerun_objects(draw: Draw) -> dict[str, list[int]]:
    """Re-run a stored object draw from its stored pool file, seed and quotas (what the verifier
    does): the list it gives must be the one kept."""
    with draw.pool_file.open("rb") as handle:
        data = handle.read()
    return algorithm.draw(algorithm.read_pool_csv(data), seed=draw.seed, quotas=draw.quotas)


def stored_result(draw: Draw) -> dict[str, list[int]]:
    return {row["stratum"]: list(row["object_ids"]) for row in draw.result}


def verifier_command(draw: Draw) -> str:
    """The command that re-runs ``draw`` from its published files."""
    if draw.purpose == Draw.Purpose.INSPECTORS:
        return (
            f"python draw.py --inspectors {draw.batch.number}-inspectors-{draw.seq}.csv --object OBJECT_ID "
            f"--seed {draw.seed} --count {draw.quotas.get('count', 2)} --exclude RECUSED_IDS"
        )
    return (
        f"python draw.py --pool {draw.batch.number}-objects-{draw.seq}.csv --seed {draw.seed} "
        f"--quotas {draw.batch.number}-quotas-{draw.seq}.csv"
    )
