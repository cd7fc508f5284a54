"""Closing a batch and publishing its results (一公开).

- ``batch_close``: the organiser closes a batch under sampling once every record is final or
  refused; the results are then due for publication within the rule ``disclosure_working_days``
  (20 working days) counted on the work calendar from the day it closed (``disclosure_due``,
  stored, so a later calendar edit does not move it). The pool's risk scores are refreshed,
  since the batch's final failures count for the next draw.
- ``batch_disclose``: the organiser publishes the results; the public results page and API show
  the batch from then on.
- ``disclosure_reminders_send``: the daily job's part: one notice to the organiser per batch
  whose publication is overdue (once per batch), and the risk scores refreshed.
- ``overdue_disclosures(user)``: the closed batches past their due day that the user may see.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from nqihub.audit.actions import register as register_audit_action
from nqihub.audit.service import audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.notifications.models import Notice
from nqihub.workcalendar.services import add_working_days

from .. import errors
from ..models import Batch, SamplingRecord
from .analysis import bad_filter, refresh_risk_scores
from .rules import rule

# A record is settled for closing once it is final (after any objection) or sampling was refused.
SETTLED_STAGES = (SamplingRecord.Stage.FINAL, SamplingRecord.Stage.REFUSED)
NOTICE_KIND = "sampling_disclosure"
DAILY_ACTION = "sampling_disclosure.daily"
register_audit_action(DAILY_ACTION, gettext_lazy("Overdue publications of sampling results reminded"))


def disclosure_due_on(closed_on: datetime.date) -> datetime.date:
    """The last day to publish the results of a batch closed on ``closed_on``."""
    return add_working_days(closed_on, rule("disclosure_working_days"))


def _locked_batch(actor, batch) -> Batch:
    return locked_for(
        Batch.objects.for_user(actor, "view"),
        Batch.objects.for_user(actor, "manage"),
        getattr(batch, "pk", batch),
    )


def _state_error(batch: Batch):
    return errors.INVALID_STATE(
        what=gettext("Batch %(number)s") % {"number": batch.number}, state=batch.get_state_display()
    )


@audited_service(
    "sampling_batch.close",
    gettext_lazy("Sampling batch closed"),
    check=may(Batch, "manage", "batch"),
    target="batch",
)
def batch_close(*, actor, batch, now: datetime.datetime | None = None) -> Batch:
    """Close ``batch`` (testing finished): every record final or refused, else refused with the
    number still open. Sets the day by which the results must be published."""
    locked = _locked_batch(actor, batch)
    if locked.state != Batch.State.SAMPLING:
        raise _state_error(locked)
    open_records = SamplingRecord.objects.filter(batch=locked).exclude(stage__in=SETTLED_STAGES).count()
    if open_records:
        raise errors.RECORDS_OPEN(count=open_records)
    moment = now or timezone.now()
    locked.close()
    locked.closed_at = moment
    locked.disclosure_due = disclosure_due_on(timezone.localdate(moment))
    locked.save(update_fields=["state", "closed_at", "disclosure_due"])
    objects = SamplingRecord.objects.filter(batch=locked).values("pool_object_id")
    refreshed = refresh_risk_scores(objects=objects)
    audit_record(
        action="sampling_batch.close",
        actor=actor,
        target=locked,
        details={
            "number": locked.number,
            "disclosure_due": locked.disclosure_due.isoformat(),
            "records": SamplingRecord.objects.filter(batch=locked).count(),
            "risk_scores_refreshed": refreshed,
        },
    )
    return locked


@audited_service(
    "sampling_batch.disclose",
    gettext_lazy("Sampling results published"),
    check=may(Batch, "manage", "batch"),
    target="batch",
)
def batch_disclose(*, actor, batch, now: datetime.datetime | None = None) -> Batch:
    """Publish the results of a closed ``batch`` on the public results page."""
    locked = _locked_batch(actor, batch)
    if locked.state != Batch.State.CLOSED:
        raise _state_error(locked)
    moment = now or timezone.now()
    locked.disclose()
    locked.disclosed_at = moment
    locked.save(update_fields=["state", "disclosed_at"])
    late = locked.disclosure_due is not None and timezone.localdate(moment) > locked.disclosure_due
    audit_record(
        action="sampling_batch.disclose",
        actor=actor,
        target=locked,
        details={
            "number": locked.number,
            "disclosure_due": locked.disclosure_due.isoformat() if locked.disclosure_due else None,
            "late": late,
        },
    )
    return locked


def overdue_batches(today: datetime.date | None = None):
    """Closed batches whose results should have been published before ``today`` (all of them:
    the daily job's read; people read through :func:`overdue_disclosures`)."""
    today = today or timezone.localdate()
    return Batch.objects.filter(state=Batch.State.CLOSED, disclosure_due__lt=today)


def overdue_disclosures(user, today: datetime.date | None = None):
    """The overdue publications ``user`` may see (the organiser's and the levels above)."""
    return overdue_batches(today).filter(pk__in=Batch.objects.for_user(user, "view").values("pk"))


def disclosure_overdue(batch: Batch, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return batch.state == Batch.State.CLOSED and batch.disclosure_due is not None and batch.disclosure_due < today


def disclosure_reminders_send(*, now: datetime.datetime | None = None) -> dict:
    """The daily job: a notice to each organiser whose batch's results are overdue (one per
    batch, never twice), then every pool object's risk score refreshed. One audit record."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    batches = list(overdue_batches(today).select_related("organizer").order_by("pk"))
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        notices = [
            Notice(
                organization_id=batch.organizer_id,
                kind=NOTICE_KIND,
                key=f"batch:{batch.pk}:overdue",
                title=(gettext("Results of batch %(number)s are overdue for publication") % {"number": batch.number})[
                    :200
                ],
                body=gettext("Testing finished on %(closed)s; the results were due to be published by %(due)s.")
                % {
                    "closed": timezone.localdate(batch.closed_at).isoformat() if batch.closed_at else "-",
                    "due": batch.disclosure_due.isoformat(),
                },
                link=reverse("sampling:disclosure_list"),
            )
            for batch in batches
        ]
        sent = set(
            Notice.objects.filter(kind=NOTICE_KIND, key__in=[n.key for n in notices]).values_list(
                "organization_id", "key"
            )
        )
        created = [n for n in notices if (n.organization_id, n.key) not in sent]
        Notice.objects.bulk_create(created, ignore_conflicts=True)
        refreshed = refresh_risk_scores()
        summary = {
            "at": now.isoformat(),
            "overdue": [batch.number for batch in batches],
            "notices": len(created),
            "risk_scores_refreshed": refreshed,
        }
        audit_record(
            action=DAILY_ACTION,
            target=("sampling.batch", "", now.isoformat()),
            details=summary,
        )
    return summary


# --------------------------------------------------------------------------- public results

#: The fields the public sees of a published record, in order: what the law asks to publish
#: (被抽样单位名称, 标称生产者, 产品名称, 商标, 规格型号, 生产日期/批号, 抽查结论, 不合格项目, 检验机构,
#: 抽查类型, 组织部门, 公布日期) and where to find it (category, region, batch). Nothing else of a
#: record leaves the platform this way: no person's name, phone or address, seal numbers, prices
#: or notes. The page, the export and the API all use this list.
PUBLIC_FIELDS = (
    ("sampled_party", pgettext_lazy("published result", "Sampled party")),
    ("producer", pgettext_lazy("published result", "Named producer")),
    ("product", pgettext_lazy("published result", "Product")),
    ("brand", pgettext_lazy("published result", "Brand")),
    ("model", pgettext_lazy("published result", "Model or specification")),
    ("production_batch", pgettext_lazy("published result", "Production date or batch")),
    ("conclusion", pgettext_lazy("published result", "Conclusion")),
    ("failed_items", pgettext_lazy("published result", "Unqualified items")),
    ("institution", pgettext_lazy("published result", "Testing institution")),
    ("batch_kind", pgettext_lazy("published result", "Type of check")),
    ("organizer", pgettext_lazy("published result", "Organised by")),
    ("published_on", pgettext_lazy("published result", "Published")),
    ("category", pgettext_lazy("published result", "Product category")),
    ("region", pgettext_lazy("published result", "Region")),
    ("batch_number", pgettext_lazy("published result", "Batch")),
)
PUBLIC_STAGES = (SamplingRecord.Stage.FINAL, SamplingRecord.Stage.REFUSED)


def clean_public_filters(params) -> dict:
    """The public search: ``q`` (enterprise: the sampled party or the named producer),
    ``product``, ``category`` (code, its sub-categories included), ``region`` (division code,
    everything below it included) and ``year``. A bad value is refused with the field named."""
    from nqihub.divisions.models import AdminDivision

    from ..models import ProductCategory

    cleaned: dict = {}
    for name in ("q", "product"):
        value = (params.get(name) or "").strip()[:100]
        if value:
            cleaned[name] = value
    year = (params.get("year") or "").strip()
    if year:
        if not year.isdigit() or not 2000 <= int(year) <= 2200:
            raise bad_filter("year", year)
        cleaned["year"] = int(year)
    code = (params.get("category") or "").strip()
    if code:
        category = ProductCategory.objects.filter(code=code).first()
        if category is None:
            raise bad_filter("category", code)
        cleaned["category"] = category
    region = (params.get("region") or "").strip()
    if region:
        division = AdminDivision.objects.filter(code=region).first() if region.isdigit() else None
        if division is None:
            raise bad_filter("region", region)
        cleaned["region"] = division
    return cleaned


def public_results(filters: dict | None = None):
    """The published records (final or refused, of a disclosed batch), newest publication first,
    searched by ``filters`` (from :func:`clean_public_filters`). A read open to everyone, like the
    public check of a document: only what :data:`PUBLIC_FIELDS` names is shown of it."""
    from django.db.models import Q

    filters = filters or {}
    records = SamplingRecord.objects.filter(batch__state=Batch.State.DISCLOSED, stage__in=PUBLIC_STAGES)
    if "q" in filters:
        q = filters["q"]
        records = records.filter(
            Q(organization__name__icontains=q)
            | Q(producer__name__icontains=q)
            | Q(pool_object__producer_name__icontains=q)
        )
    if "product" in filters:
        records = records.filter(pool_object__product_name__icontains=filters["product"])
    if "category" in filters:
        category = filters["category"]
        records = records.filter(Q(pool_object__category=category) | Q(pool_object__category__parent=category))
    if "region" in filters:
        records = records.filter(division__path__startswith=filters["region"].path)
    if "year" in filters:
        records = records.filter(batch__plan__year=filters["year"])
    return records.select_related(
        "batch__organizer",
        "organization",
        "producer",
        "pool_object__category",
        "pool_object__organization",
        "pool_object__producer",
        "institution",
        "division",
    ).order_by("-batch__disclosed_at", "batch_id", "pk")


def public_rows(records) -> list[dict]:
    """The public fields of ``records`` (a page of :func:`public_results`), as plain values."""
    from .analysis import failed_items_by_record

    records = list(records)
    failed = failed_items_by_record(r.pk for r in records)
    rows = []
    for record in records:
        obj = record.pool_object
        if record.stage == SamplingRecord.Stage.REFUSED:
            conclusion = gettext("Sampling refused")
        else:
            conclusion = record.get_final_conclusion_display() or record.get_conclusion_display()
        producer = record.producer.name if record.producer_id else obj.producer_display
        rows.append(
            {
                "sampled_party": record.organization.name,
                "producer": producer,
                "product": obj.product_name,
                "brand": obj.brand,
                "model": obj.model,
                "production_batch": record.production_batch,
                "conclusion": conclusion,
                "conclusion_code": "refused"
                if record.stage == SamplingRecord.Stage.REFUSED
                else record.final_conclusion,
                "failed_items": "、".join(failed.get(record.pk, [])),
                "institution": record.institution.name,
                "batch_kind": record.batch.get_kind_display(),
                "organizer": record.batch.organizer.name,
                "published_on": timezone.localdate(record.batch.disclosed_at).isoformat(),
                "category": obj.category.name,
                "region": record.division.name,
                "batch_number": record.batch.number,
            }
        )
    return rows
