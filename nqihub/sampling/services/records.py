"""Field work on a sampling record (抽样单): taking and sealing the samples or recording the
refusal, the institution's receipt, and the results per test item.

Who acts is the record's scope (``querysets.RecordQuerySet``): the organising regulator's
managers and clerks take the samples (``sample``), the record's testing institution receives
them and records the results (``test``). Every service looks the record up for the actor first
(404 outside their view, 403 when they see it but may not act), then reads the input, then
changes the record through its state machine, logs the step on the record's case and writes one
audit record. Pages, the API and any import call these same functions.

The numbers come from the rules as data (``services.rules.rule``) and from the batch's
implementation rules (test and spare quantities); none is written here.

Judgement of a range item: the value passes when ``lower <= value <= upper`` — both limits
inclusive (a requirement written "≥2.9" or "≤100000" is met by exactly 2.9 or 100000); a missing
limit does not bound. A text item is judged by the tester. The record fails when any item fails
(the 实施细则's usual rule: 任一项目不符合要求的，判定为不合格).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.cases import services as cases
from nqihub.core.errors import InvalidInput

from .. import errors
from ..models import Assignment, Conclusion, Draw, Inspector, SamplingRecord, TestItem, TestResult
from .rules import rule

MAX_TEXT = 300
_SEAL_SPLIT = re.compile(r"[\s,，;；、]+")
# The largest value a result holds (DecimalField(max_digits=14, decimal_places=4)).
_VALUE_PLACES = Decimal("0.0001")
_VALUE_LIMIT = Decimal("10000000000")


def _pk(record):
    return getattr(record, "pk", record)


def _target(actor, **kwargs):
    record = kwargs.get("record")
    if isinstance(record, SamplingRecord):
        return record
    return ("sampling.samplingrecord", str(record)[:64], "")


def locked_record(actor, record, step: str) -> SamplingRecord:
    """The record, locked, if ``actor`` may do ``step`` on it (404 before 403)."""
    return locked_for(
        SamplingRecord.objects.for_user(actor, "view"),
        SamplingRecord.objects.for_user(actor, step),
        _pk(record),
    )


def require_stage(record: SamplingRecord, *stages: str) -> None:
    if record.stage not in stages:
        raise errors.INVALID_STATE(what=str(record), state=record.get_stage_display())


# --- reading the input -----------------------------------------------------------------------


def _text(data: Mapping, name: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = data.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(_("This field is required."), code="required", field=name)
    if len(text) > limit:
        raise InvalidInput(
            _("At most %(max)d characters (%(count)d given).") % {"max": limit, "count": len(text)},
            code="max_length",
            field=name,
        )
    return text


def _count(data: Mapping, name: str, *, default: int | None = None) -> int:
    value = data.get(name)
    if value in (None, ""):
        if default is None:
            raise InvalidInput(_("This field is required."), code="required", field=name)
        return default
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(_("Enter a whole number."), code="invalid", field=name) from None
    if number < 0 or number > 10_000_000:
        raise InvalidInput(_("Enter a whole number between 0 and 10,000,000."), code="invalid", field=name)
    return number


def _money(data: Mapping, name: str) -> Decimal:
    value = data.get(name)
    if value in (None, ""):
        raise InvalidInput(_("This field is required."), code="required", field=name)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter an amount in yuan, e.g. 36.50."), code="invalid", field=name) from None
    if (
        not amount.is_finite()
        or amount < 0
        or amount >= Decimal("100000000")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise InvalidInput(_("Enter an amount in yuan, e.g. 36.50."), code="invalid", field=name)
    return amount


def _moment(data: Mapping, name: str) -> datetime.datetime:
    value = data.get(name)
    if value in (None, ""):
        raise InvalidInput(_("This field is required."), code="required", field=name)
    moment = value if isinstance(value, datetime.datetime) else parse_datetime(str(value).strip())
    if moment is None:
        raise InvalidInput(_("Enter a date and time, e.g. 2026-05-12 09:30."), code="invalid", field=name)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now() + datetime.timedelta(minutes=5):
        raise InvalidInput(_("The samples cannot have been taken in the future."), code="invalid", field=name)
    return moment


def _ids(value) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, (str, int)):
        value = [value]
    ids: list[int] = []
    for item in value:
        try:
            number = int(getattr(item, "pk", item))
        except (TypeError, ValueError):
            raise InvalidInput(_("Choose the samplers from the list."), code="invalid", field="samplers") from None
        if number not in ids:
            ids.append(number)
    return ids


def _files(files) -> list:
    return [f for f in (files or ()) if f is not None]


# --- who may sign as a sampler ---------------------------------------------------------------


def eligible_samplers(record: SamplingRecord):
    """The inspectors drawn for the record's object in the batch's latest draw of inspectors,
    without those recused: the only ones who may sign the 抽样单."""
    latest = (
        Draw.objects.filter(
            batch_id=record.batch_id, purpose=Draw.Purpose.INSPECTORS, assignments__selection_id=record.selection_id
        )
        .aggregate(last=Max("seq"))
        .get("last")
    )
    assignments = Assignment.objects.filter(selection_id=record.selection_id, recusal="")
    if latest is not None:
        assignments = assignments.filter(draw__purpose=Draw.Purpose.INSPECTORS, draw__seq=latest)
    return Inspector.objects.filter(pk__in=assignments.values("inspector_id")).order_by("name", "pk")


def _clean_samplers(record: SamplingRecord, value, *, on_day: datetime.date) -> list[Inspector]:
    """At least ``min_inspectors`` different inspectors, each drawn for the object and not
    recused, each with an enforcement certificate valid on the day of sampling."""
    ids = _ids(value)
    minimum = rule("min_inspectors")
    if len(ids) < minimum:
        raise errors.SAMPLERS_TOO_FEW(field="samplers", count=minimum, given=len(ids))
    eligible = {person.pk: person for person in eligible_samplers(record)}
    for pk in ids:
        if pk not in eligible:
            person = Inspector.objects.filter(pk=pk).only("name").first()
            raise errors.SAMPLER_NOT_ASSIGNED(field="samplers", name=person.name if person else f"#{pk}")
        valid_until = eligible[pk].certificate_valid_until
        if valid_until is not None and valid_until < on_day:
            raise errors.SAMPLER_CERTIFICATE_EXPIRED(
                field="samplers", name=eligible[pk].name, day=valid_until.isoformat()
            )
    return [eligible[pk] for pk in ids]


def split_seals(text: str) -> list[str]:
    seals: list[str] = []
    for seal in _SEAL_SPLIT.split(text or ""):
        if seal and seal not in seals:
            seals.append(seal)
    return seals


def clean_sampling(record: SamplingRecord, data: Mapping) -> dict:
    """The sampling input, checked against the rules and the batch's implementation rules."""
    rules = record.batch.rules
    sampled_at = _moment(data, "sampled_at")
    samplers = _clean_samplers(record, data.get("samplers"), on_day=timezone.localtime(sampled_at).date())
    values = {
        "notice_number": _text(data, "notice_number", limit=40),
        "sampled_at": sampled_at,
        "place": _text(data, "place"),
        "production_batch": _text(data, "production_batch", limit=100),
        "lot_size": _count(data, "lot_size"),
        "test_quantity": _count(data, "test_quantity", default=rules.test_quantity),
        "spare_quantity": _count(data, "spare_quantity", default=rules.spare_quantity),
        "sample_price": _money(data, "sample_price"),
        "party_signatory": _text(data, "party_signatory", limit=50),
    }
    for name, minimum in (("test_quantity", rules.test_quantity), ("spare_quantity", rules.spare_quantity)):
        if values[name] < minimum:
            raise errors.QUANTITY_TOO_SMALL(field=name, minimum=minimum, given=values[name])
    if values["lot_size"] < 1:
        raise InvalidInput(_("The lot holds at least one unit."), code="invalid", field="lot_size")
    if values["test_quantity"] + values["spare_quantity"] > values["lot_size"]:
        raise InvalidInput(
            _("The samples (%(taken)d units) cannot be more than the lot (%(lot)d units).")
            % {"taken": values["test_quantity"] + values["spare_quantity"], "lot": values["lot_size"]},
            code="invalid",
            field="lot_size",
        )
    seals = split_seals(_text(data, "seal_numbers"))
    needed = 2 if values["spare_quantity"] else 1
    if len(seals) < needed:
        raise errors.SEALS_REQUIRED(field="seal_numbers", count=needed)
    values["seal_numbers"] = ", ".join(seals)
    if len(values["seal_numbers"]) > MAX_TEXT:
        raise InvalidInput(
            _("At most %(max)d characters (%(count)d given).")
            % {"max": MAX_TEXT, "count": len(values["seal_numbers"])},
            code="max_length",
            field="seal_numbers",
        )
    return {"samplers": samplers, **values}


# --- sampling ----------------------------------------------------------------------------------


@audited_service(
    "sampling_record.sample",
    gettext_lazy("Samples taken and sealed"),
    check=may(SamplingRecord, "sample", "record"),
    target=_target,
)
def record_sample(*, actor, record, data: Mapping, files: Iterable = ()) -> SamplingRecord:
    """The samplers took and sealed the samples: at least ``min_inspectors`` samplers among the
    inspectors drawn for the object (not recused), the notice shown, when and where, the
    production batch, the lot, test and spare units (at least the implementation rules'),
    a seal number per sealed set, the price paid, who signed for the sampled party; the photos
    of the sealed samples and the signed 抽样单 become the case's attachments (at least one)."""
    locked = locked_record(actor, record, "sample")
    require_stage(locked, SamplingRecord.Stage.ASSIGNED)
    clean = clean_sampling(locked, data)
    uploads = _files(files)
    if not uploads:
        raise errors.EVIDENCE_REQUIRED(
            _("Attach the photos of the sealed samples and the signed sampling form."), field="files"
        )
    samplers = clean.pop("samplers")
    for name, value in clean.items():
        setattr(locked, name, value)
    locked.mark_sampled()
    locked.save()
    locked.samplers.set(samplers)
    attached = [cases.case_attach(locked.case, actor=actor, upload=upload) for upload in uploads]
    cases.case_log(
        locked.case,
        step="sampled",
        actor=actor,
        note=_("Notice %(notice)s; seals %(seals)s") % {"notice": locked.notice_number, "seals": locked.seal_numbers},
    )
    audit_record(
        action="sampling_record.sample",
        actor=actor,
        target=locked,
        details={
            "samplers": [person.pk for person in samplers],
            "notice_number": locked.notice_number,
            "sampled_at": locked.sampled_at.isoformat(),
            "lot_size": locked.lot_size,
            "test_quantity": locked.test_quantity,
            "spare_quantity": locked.spare_quantity,
            "seal_numbers": locked.seal_numbers,
            "sample_price": str(locked.sample_price),
            "attachments": [{"id": a.pk, "name": a.name, "sha256": a.sha256} for a in attached],
        },
    )
    return locked


@audited_service(
    "sampling_record.refuse",
    gettext_lazy("Sampling refused by the sampled party"),
    check=may(SamplingRecord, "sample", "record"),
    target=_target,
)
def record_refuse(*, actor, record, reason, evidence: Iterable = ()) -> SamplingRecord:
    """The sampled party refused the sampling: the samplers record why, with at least one file of
    evidence (a photo, the notice they refused to sign …), which becomes the case's attachment."""
    locked = locked_record(actor, record, "sample")
    require_stage(locked, SamplingRecord.Stage.ASSIGNED)
    text = _text({"reason": reason}, "reason", required=False, limit=2000)
    if not text:
        raise errors.REASON_REQUIRED(_("Describe how the sampling was refused."), field="reason")
    uploads = _files(evidence)
    if not uploads:
        raise errors.EVIDENCE_REQUIRED(field="evidence")
    locked.refusal_reason = text
    locked.mark_refused()
    locked.save()
    attached = [cases.case_attach(locked.case, actor=actor, upload=upload) for upload in uploads]
    cases.case_log(locked.case, step="refused", actor=actor, note=text)
    audit_record(
        action="sampling_record.refuse",
        actor=actor,
        target=locked,
        details={"reason": text, "attachments": [{"id": a.pk, "name": a.name, "sha256": a.sha256} for a in attached]},
    )
    return locked


# --- at the institution ------------------------------------------------------------------------


@audited_service(
    "sampling_record.receive",
    gettext_lazy("Samples received by the testing institution"),
    check=may(SamplingRecord, "test", "record"),
    target=_target,
)
def record_receive(*, actor, record, condition) -> SamplingRecord:
    """The testing institution received the samples and checked them: the condition on receipt
    (seals intact, units as listed) is written down."""
    locked = locked_record(actor, record, "test")
    require_stage(locked, SamplingRecord.Stage.SAMPLED)
    text = _text({"condition": condition}, "condition")
    now = timezone.now()
    locked.sample_condition = text
    locked.received_at = now
    locked.received_by = actor
    locked.mark_received()
    locked.save()
    cases.case_log(locked.case, step="received", actor=actor, note=text, at=now)
    audit_record(action="sampling_record.receive", actor=actor, target=locked, details={"condition": text})
    return locked


def judge(item: TestItem, value: Decimal) -> str:
    """A range item's judgement: pass when ``lower <= value <= upper`` (both limits inclusive;
    a missing limit does not bound)."""
    if item.lower is not None and value < item.lower:
        return Conclusion.FAIL
    if item.upper is not None and value > item.upper:
        return Conclusion.FAIL
    return Conclusion.PASS


def item_label(item: TestItem) -> str:
    return f"{item.seq}. {item.name}"


def _rows_by_item(rows) -> dict[int, Mapping]:
    """The rows given, keyed by test item id: a list of mappings each naming ``test_item``, or a
    mapping of item id to row."""
    if isinstance(rows, Mapping):
        rows = [{**(row if isinstance(row, Mapping) else {}), "test_item": key} for key, row in rows.items()]
    if not isinstance(rows, (list, tuple)):
        raise InvalidInput(_("Give the results as a list, one per test item."), code="invalid", field="rows")
    by_item: dict[int, Mapping] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            raise InvalidInput(_("Give the results as a list, one per test item."), code="invalid", field="rows")
        try:
            key = int(str(row.get("test_item")).strip())
        except (TypeError, ValueError):
            raise InvalidInput(_("Each result names its test item."), code="invalid", field="rows") from None
        by_item[key] = row
    return by_item


def _value(item: TestItem, row: Mapping) -> Decimal:
    raw = row.get("value")
    if raw in (None, ""):
        raw = row.get("measured")
    if raw in (None, ""):
        raise errors.RESULT_MISSING(field=f"item_{item.pk}", item=item_label(item))
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise errors.RESULT_INVALID(
            field=f"item_{item.pk}", item=item_label(item), problem=_("enter the measured value as a number.")
        ) from None
    if not value.is_finite() or abs(value) >= _VALUE_LIMIT or value != value.quantize(_VALUE_PLACES):
        raise errors.RESULT_INVALID(
            field=f"item_{item.pk}",
            item=item_label(item),
            problem=_("enter a number below 10,000,000,000 with at most four decimal places."),
        )
    return value


def clean_results(record: SamplingRecord, rows) -> list[dict]:
    """One cleaned result per test item of the batch's rules version (all required), judged."""
    items = list(TestItem.objects.filter(rules_id=record.batch.rules_id).order_by("seq"))
    by_item = _rows_by_item(rows)
    known = {item.pk for item in items}
    for key in by_item:
        if key not in known:
            raise errors.RESULT_INVALID(
                field="rows", item=f"#{key}", problem=_("not a test item of this record's implementation rules.")
            )
    cleaned = []
    for item in items:
        row = by_item.get(item.pk)
        if row is None:
            raise errors.RESULT_MISSING(field=f"item_{item.pk}", item=item_label(item))
        note = _text(row, "note", required=False)
        measured = str(row.get("measured") or "").strip()
        if item.judgement == TestItem.Judgement.RANGE:
            value = _value(item, row)
            conclusion = judge(item, value)
            measured = measured or f"{value.normalize():f}"
        else:
            value = None
            conclusion = str(row.get("conclusion") or "").strip()
            if not measured:
                raise errors.RESULT_MISSING(field=f"item_{item.pk}", item=item_label(item))
            if conclusion not in Conclusion.values:
                raise errors.RESULT_INVALID(
                    field=f"item_{item.pk}",
                    item=item_label(item),
                    problem=_("say whether it meets the requirement."),
                )
        if len(measured) > 100:
            raise errors.RESULT_INVALID(
                field=f"item_{item.pk}", item=item_label(item), problem=_("at most 100 characters.")
            )
        cleaned.append(
            {"test_item": item, "measured": measured, "value": value, "conclusion": conclusion, "note": note}
        )
    return cleaned


@audited_service(
    "sampling_record.results",
    gettext_lazy("Test results recorded"),
    check=may(SamplingRecord, "test", "record"),
    target=_target,
)
def record_results(*, actor, record, rows) -> SamplingRecord:
    """The institution records the result of every test item (again, until the report is
    issued: the earlier entry is replaced); range items are judged against their limits, text
    items by the tester; the record's conclusion is a fail when any item fails."""
    locked = locked_record(actor, record, "test")
    require_stage(locked, SamplingRecord.Stage.RECEIVED)
    cleaned = clean_results(locked, rows)
    now = timezone.now()
    replaced = TestResult.objects.filter(record=locked, round=TestResult.Round.INITIAL).delete()[0]
    TestResult.objects.bulk_create(
        [
            TestResult(record=locked, round=TestResult.Round.INITIAL, recorded_by=actor, recorded_at=now, **row)
            for row in cleaned
        ]
    )
    failed = [row for row in cleaned if row["conclusion"] == Conclusion.FAIL]
    locked.conclusion = Conclusion.FAIL if failed else Conclusion.PASS
    locked.save(update_fields=["conclusion"])
    cases.case_log(
        locked.case,
        step="result",
        actor=actor,
        note=_("%(count)d test items; %(conclusion)s")
        % {"count": len(cleaned), "conclusion": locked.get_conclusion_display()},
        at=now,
    )
    audit_record(
        action="sampling_record.results",
        actor=actor,
        target=locked,
        details={
            "conclusion": locked.conclusion,
            "replaced": replaced,
            "results": [
                {
                    "test_item": row["test_item"].pk,
                    "measured": row["measured"],
                    "value": None if row["value"] is None else str(row["value"]),
                    "conclusion": row["conclusion"],
                }
                for row in cleaned
            ],
        },
    )
    return locked
