"""After the result (产品质量监督抽查管理暂行办法 第36–49条, 18号令): the notice of the result to
the sampled party and the named producer, the objection (异议) within the period and the re-test
of the disputed items by another qualified institution (final), the conclusion made final when
no objection came, and the handling of an unqualified product: stop selling at once, correct,
re-check, the province's announcement and the second re-check in its window.

Every time limit is a named deadline on the record's case (``cases.CaseDeadline``), computed from
the rule data (``rules.rule``): the objection period, the correction, the re-check and the
window of the second re-check. The daily job (``services.escalation``) makes final what nobody
objected to and reports overdue steps to the regulator above the organiser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from nqihub.audit.service import audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.cases import services as cases
from nqihub.cases.models import Case, CaseDeadline
from nqihub.core.access import OrganizationKind, get_actor
from nqihub.notifications.models import Notice
from nqihub.organizations.models import Organization

from .. import errors
from ..models import Conclusion, Disposal, InspectionReport, Objection, SamplingRecord, TestItem, TestResult
from .pools import qualified_institutions
from .records import judge as judge_range
from .rules import rule

NOTICE_KIND = "sampling_result"
ORDER_NOTICE_KIND = "sampling_disposal"
OBJECTION = "objection"
CORRECTION = "correction"
RECHECK = "recheck"
SECOND_RECHECK = "second_recheck"
REASON_LIMIT = 2000
# The stages from which the record's page shows what follows the result.
AFTER_TEST_STAGES = ("tested", "notified", "objected", "final")


# --- Shared pieces ------------------------------------------------------------------------------


def record_url(record_id: int) -> str:
    return reverse("sampling:aftermath", args=[record_id])


def _pk(value) -> object:
    return getattr(value, "pk", value)


def _conclusion_label(code: str) -> str:
    return str(Conclusion(code).label) if code else ""


def _notify(org_ids: Iterable[int | None], *, kind: str, key: str, title: str, body: str, link: str) -> None:
    rows = [
        Notice(organization_id=org, kind=kind, key=key[:100], title=title[:200], body=body, link=link[:300])
        for org in dict.fromkeys(o for o in org_ids if o)
    ]
    Notice.objects.bulk_create(rows, ignore_conflicts=True)


def _locked_record(actor, record, step: str) -> SamplingRecord:
    return locked_for(
        SamplingRecord.objects.for_user(actor, "view"), SamplingRecord.objects.for_user(actor, step), _pk(record)
    )


def _open_deadline(case_id: int, code: str) -> CaseDeadline | None:
    return CaseDeadline.objects.filter(case_id=case_id, code=code, state=CaseDeadline.State.OPEN).first()


def _day(moment: datetime) -> str:
    return timezone.localdate(moment).isoformat()


def latest_report(record: SamplingRecord) -> InspectionReport | None:
    return (
        InspectionReport.objects.filter(record=record, kind=InspectionReport.Kind.REPORT)
        .order_by("-issued_at", "-pk")
        .first()
    )


def province_regulators(division_path: str) -> list[int]:
    """The region-level (province) regulators of the division whose path is ``division_path``."""
    province = division_path.split("/", 1)[0]
    return list(
        Organization.objects.filter(kind=OrganizationKind.REGULATOR, is_active=True, division_id=province).values_list(
            "pk", flat=True
        )
    )


# --- The conclusion made final (one set-based path for the services and the daily job) ----------


@dataclass(frozen=True)
class Final:
    record_id: int
    case_id: int
    conclusion: str
    organization_id: int
    producer_id: int | None
    number: str


def make_final(finals: list[Final], *, actor=None, at: datetime | None = None, note: str = "") -> int:
    """Make these conclusions final: the records → ``final`` with their final conclusion, a
    timeline step each, and for every unqualified product a disposal ordered (stop selling at
    once, the correction and re-check deadlines started, the enterprise told). A constant number
    of statements whatever the number of records; run inside the caller's transaction."""
    if not finals:
        return 0
    now = at or timezone.now()
    for conclusion in (Conclusion.PASS, Conclusion.FAIL):
        ids = [f.record_id for f in finals if f.conclusion == conclusion]
        if ids:
            SamplingRecord.objects.filter(pk__in=ids).update(
                stage=SamplingRecord.Stage.FINAL, final_conclusion=conclusion, final_at=now
            )
    steps = [(f.case_id, "final", note or _conclusion_label(f.conclusion)) for f in finals]
    failed = [f for f in finals if f.conclusion == Conclusion.FAIL]
    if failed:
        Disposal.objects.bulk_create([Disposal(record_id=f.record_id, ordered_at=now) for f in failed])
        correction_days = rule("correction_days")
        correction = cases.deadline_after(now, days=correction_days)
        recheck = cases.deadline_after(now, days=rule("recheck_days"))
        deadlines = []
        for f in failed:
            deadlines.append((f.case_id, CORRECTION, correction, None))
            deadlines.append((f.case_id, RECHECK, recheck, None))
            steps.append(
                (
                    f.case_id,
                    "ordered",
                    gettext("Stop selling at once; correct by %(correction)s; re-check by %(recheck)s.")
                    % {"correction": _day(correction), "recheck": _day(recheck)},
                )
            )
        cases.case_deadlines_start_many(deadlines, at=now)
        notices = []
        for f in failed:
            for org in dict.fromkeys(o for o in (f.organization_id, f.producer_id) if o):
                notices.append(
                    Notice(
                        organization_id=org,
                        kind=ORDER_NOTICE_KIND,
                        key=f"record:{f.record_id}:ordered",
                        title=(
                            gettext("Sampling %(number)s: unqualified — stop selling at once") % {"number": f.number}
                        )[:200],
                        body=gettext(
                            "The product was found unqualified; the conclusion is final. Stop selling it at once, "
                            "correct within %(days)s days (by %(correction)s) and report the correction; "
                            "the re-check is due by %(recheck)s."
                        )
                        % {"days": correction_days, "correction": _day(correction), "recheck": _day(recheck)},
                        link=record_url(f.record_id),
                    )
                )
        Notice.objects.bulk_create(notices, ignore_conflicts=True)
    cases.case_log_many(steps, actor=actor, at=now)
    return len(finals)


def _final_of(record: SamplingRecord, conclusion: str) -> Final:
    return Final(
        record_id=record.pk,
        case_id=record.case_id,
        conclusion=conclusion,
        organization_id=record.organization_id,
        producer_id=record.producer_id,
        number=record.case.number,
    )


# --- 1. Notice of the result --------------------------------------------------------------------


@audited_service(
    "sampling_record.notify",
    _("Sampling result notified"),
    check=may(SamplingRecord, "handle", "record"),
    target="record",
)
def record_notify(*, actor, record) -> SamplingRecord:
    """The organiser tells the sampled party (and the named producer, when the sample was taken
    from a seller) the conclusion and the report; the objection period starts."""
    locked = _locked_record(actor, record, "handle")
    if locked.stage != SamplingRecord.Stage.TESTED:
        raise errors.INVALID_STATE(what=gettext("The sampling record"), state=locked.get_stage_display())
    if not locked.conclusion:
        raise errors.NO_CONCLUSION()
    now = timezone.now()
    days = rule("objection_days")
    due = cases.deadline_after(now, days=days)
    report = latest_report(locked)
    locked.mark_notified()
    locked.notified_at = now
    locked.save(update_fields=["stage", "notified_at"])
    case = locked.case
    values = {
        "number": case.number,
        "conclusion": _conclusion_label(locked.conclusion),
        "product": locked.pool_object.product_name,
        "days": days,
        "due": _day(due),
        "report": report.number if report else gettext("(not yet issued)"),
    }
    _notify(
        [locked.organization_id, locked.producer_id],
        kind=NOTICE_KIND,
        key=f"record:{locked.pk}:notified",
        title=gettext("Sampling %(number)s: the product was found %(conclusion)s") % values,
        body=gettext(
            "%(product)s: %(conclusion)s. Inspection report %(report)s. An objection to the result may be "
            "raised within %(days)s days, until %(due)s."
        )
        % values,
        link=record_url(locked.pk),
    )
    cases.case_log(case, step="notified", actor=actor, at=now, note=values["conclusion"])
    cases.case_deadline_start(case, code=OBJECTION, due_at=due, actor=actor, at=now)
    audit_record(
        action="sampling_record.notify",
        actor=actor,
        target=locked,
        details={"conclusion": locked.conclusion, "objection_due": _day(due), "producer": locked.producer_id},
    )
    return locked


@audited_service(
    "sampling_record.finalize",
    _("Sampling conclusion made final (no objection)"),
    check=may(SamplingRecord, "handle", "record"),
    target="record",
)
def record_finalize(*, actor, record) -> SamplingRecord:
    """The organiser makes the conclusion final once the objection period ended without an
    objection (the daily job does the same for every such record)."""
    locked = _locked_record(actor, record, "handle")
    if locked.stage != SamplingRecord.Stage.NOTIFIED:
        raise errors.INVALID_STATE(what=gettext("The sampling record"), state=locked.get_stage_display())
    now = timezone.now()
    deadline = _open_deadline(locked.case_id, OBJECTION)
    if deadline is not None and deadline.due_at >= now:
        raise errors.OBJECTION_PERIOD_RUNNING(date=_day(deadline.due_at))
    if deadline is not None:
        cases.case_deadline_meet(locked.case, code=OBJECTION, note=gettext("Ended without an objection."), at=now)
    make_final([_final_of(locked, locked.conclusion)], actor=actor, at=now, note=gettext("No objection was raised."))
    audit_record(
        action="sampling_record.finalize", actor=actor, target=locked, details={"conclusion": locked.conclusion}
    )
    return SamplingRecord.objects.get(pk=locked.pk)


# --- 2. Objection and re-test -------------------------------------------------------------------


def _clean_ids(values) -> list[int]:
    if values is None or isinstance(values, (str, bytes, int)):
        values = [values] if values not in (None, "", b"") else []
    ids = []
    for value in values:
        try:
            ids.append(int(_pk(value)))
        except (TypeError, ValueError):
            raise errors.DISPUTED_ITEM_UNKNOWN(field="disputed_items") from None
    return list(dict.fromkeys(ids))


@audited_service(
    "sampling_objection.submit",
    _("Objection to a sampling result submitted"),
    check=may(SamplingRecord, "object", "record"),
    target="record",
)
def objection_submit(*, actor, record, reason, disputed_items) -> Objection:
    """The sampled party (or the named producer) objects to the result within the period,
    naming the disputed test items; the objection is a case the organiser decides."""
    locked = _locked_record(actor, record, "object")
    now = timezone.now()
    deadline = (
        CaseDeadline.objects.filter(case_id=locked.case_id, code=OBJECTION).order_by("-started_at", "-pk").first()
    )
    if locked.stage == SamplingRecord.Stage.NOTIFIED and deadline is not None and deadline.due_at < now:
        raise errors.OBJECTION_PERIOD_OVER(date=_day(deadline.due_at))
    if locked.stage != SamplingRecord.Stage.NOTIFIED:
        if locked.stage == SamplingRecord.Stage.FINAL and deadline is not None:
            raise errors.OBJECTION_PERIOD_OVER(date=_day(deadline.due_at))
        raise errors.INVALID_STATE(what=gettext("The sampling record"), state=locked.get_stage_display())
    reason = str(reason or "").strip()
    if not reason:
        raise errors.REASON_REQUIRED(field="reason")
    ids = _clean_ids(disputed_items)
    if not ids:
        raise errors.DISPUTED_ITEMS_REQUIRED(field="disputed_items")
    tested = set(
        TestResult.objects.filter(record=locked, round=TestResult.Round.INITIAL).values_list("test_item_id", flat=True)
    )
    if not set(ids) <= tested:
        raise errors.DISPUTED_ITEM_UNKNOWN(field="disputed_items")
    organization = get_actor(actor).organization
    case = cases.case_open(
        kind="sampling_objection",
        actor=actor,
        applicant_organization=organization,
        handling_organization=locked.batch.organizer,
        division=locked.division,
        at=now,
    )
    objection = Objection.objects.create(case=case, record=locked, reason=reason[:REASON_LIMIT])
    objection.disputed_items.set(ids)
    locked.mark_objected()
    locked.save(update_fields=["stage"])
    cases.case_deadline_meet(locked.case, code=OBJECTION, note=case.number, at=now)
    cases.case_log(locked.case, step="objected", actor=actor, at=now, note=case.number)
    _notify(
        [locked.batch.organizer_id],
        kind=NOTICE_KIND,
        key=f"objection:{objection.pk}:submitted",
        title=gettext("Objection %(number)s to sampling %(record)s")
        % {"number": case.number, "record": locked.case.number},
        body=reason[:500],
        link=record_url(locked.pk),
    )
    audit_record(
        action="sampling_objection.submit",
        actor=actor,
        target=objection,
        details={"record": locked.pk, "disputed_items": ids},
    )
    return objection


def _locked_objection(actor, objection, step: str) -> Objection:
    return locked_for(
        Objection.objects.for_user(actor, "view"), Objection.objects.for_user(actor, step), _pk(objection)
    )


def _refuse_objection_state(objection: Objection) -> None:
    raise errors.INVALID_STATE(what=gettext("The objection"), state=objection.case.get_state_display())


@audited_service(
    "sampling_objection.accept",
    _("Objection accepted: re-test ordered"),
    check=may(Objection, "handle", "objection"),
    target="objection",
)
def objection_accept(*, actor, objection, institution) -> Objection:
    """The organiser accepts the objection and names the re-testing institution: qualified for
    the product category, and not the institution of the first test."""
    locked = _locked_objection(actor, objection, "handle")
    if locked.case.state != Case.State.SUBMITTED:
        _refuse_objection_state(locked)
    record = locked.record
    category = record.pool_object.category
    try:
        institution_id = int(_pk(institution))
    except (TypeError, ValueError):
        raise errors.RETEST_NOT_QUALIFIED(field="institution", category=category.name) from None
    if institution_id == record.institution_id:
        raise errors.RETEST_SAME_INSTITUTION(field="institution")
    chosen = qualified_institutions(category).filter(pk=institution_id).first()
    if chosen is None:
        raise errors.RETEST_NOT_QUALIFIED(field="institution", category=category.name)
    locked.recheck_institution = chosen
    locked.save(update_fields=["recheck_institution"])
    locked.case = cases.case_accept(locked.case, actor=actor, note=chosen.name)
    _notify(
        [chosen.pk],
        kind=NOTICE_KIND,
        key=f"objection:{locked.pk}:retest",
        title=gettext("Re-test ordered for objection %(number)s") % {"number": locked.case.number},
        body=gettext("Re-test the disputed items on the spare sample of %(record)s.") % {"record": record.case.number},
        link=record_url(record.pk),
    )
    audit_record(action="sampling_objection.accept", actor=actor, target=locked, details={"institution": chosen.pk})
    return locked


@audited_service(
    "sampling_objection.reject",
    _("Objection not accepted"),
    check=may(Objection, "handle", "objection"),
    target="objection",
)
def objection_reject(*, actor, objection, reason) -> Objection:
    """The organiser does not accept the objection, saying why; the first conclusion is final."""
    locked = _locked_objection(actor, objection, "handle")
    if locked.case.state != Case.State.SUBMITTED:
        _refuse_objection_state(locked)
    reason = str(reason or "").strip()
    if not reason:
        raise errors.REASON_REQUIRED(field="reason")
    now = timezone.now()
    locked.case = cases.case_reject(locked.case, actor=actor, reason=reason[:500], at=now)
    record = SamplingRecord.objects.select_for_update().select_related("case").get(pk=locked.record_id)
    make_final([_final_of(record, record.conclusion)], actor=actor, at=now, note=gettext("Objection not accepted."))
    _notify(
        [locked.case.applicant_organization_id],
        kind=NOTICE_KIND,
        key=f"objection:{locked.pk}:rejected",
        title=gettext("Objection %(number)s was not accepted") % {"number": locked.case.number},
        body=reason[:500],
        link=record_url(record.pk),
    )
    audit_record(action="sampling_objection.reject", actor=actor, target=locked, details={"reason": reason[:500]})
    return locked


def judge(item: TestItem, row: dict) -> tuple[str, Decimal | None, str]:
    """A result row judged like the first test: a range item by its limits (the value as a
    number), a text item by the tester's judgement. Returns (conclusion, value, measured)."""
    measured = str(row.get("measured") or "").strip()[:100]
    if item.judgement == TestItem.Judgement.RANGE:
        raw = row.get("value")
        if raw in (None, ""):
            raw = measured
        try:
            value = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            raise errors.RESULT_VALUE_REQUIRED(field="rows", item=item.name) from None
        if not value.is_finite():
            raise errors.RESULT_VALUE_REQUIRED(field="rows", item=item.name)
        return judge_range(item, value), value, measured or str(value)
    conclusion = str(row.get("conclusion") or "")
    if conclusion not in Conclusion.values:
        raise errors.RESULT_JUDGEMENT_REQUIRED(field="rows", item=item.name)
    return conclusion, None, measured or _conclusion_label(conclusion)


@audited_service(
    "sampling_objection.retest",
    _("Re-test results recorded (final)"),
    check=may(Objection, "retest", "objection"),
    target="objection",
)
def objection_retest(*, actor, objection, rows) -> Objection:
    """The re-testing institution records the results of the disputed items (and only those),
    judged like the first test. The re-test's conclusion is final: the product is unqualified
    when a re-tested item fails or an undisputed item of the first test failed."""
    locked = _locked_objection(actor, objection, "retest")
    if locked.case.state != Case.State.ACCEPTED or locked.concluded_at is not None:
        _refuse_objection_state(locked)
    disputed = {item.pk: item for item in locked.disputed_items.all()}
    rows = list(rows or []) if not isinstance(rows, (str, bytes, dict)) else []
    given: dict[int, dict] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise errors.RETEST_ROWS(field="rows")
        try:
            key = int(_pk(row.get("test_item")))
        except (TypeError, ValueError):
            raise errors.RETEST_ROWS(field="rows") from None
        if key in given:
            raise errors.RETEST_ROWS(field="rows")
        given[key] = row
    if set(given) != set(disputed):
        raise errors.RETEST_ROWS(field="rows")
    now = timezone.now()
    judged = {key: judge(disputed[key], given[key]) for key in sorted(given)}
    TestResult.objects.bulk_create(
        [
            TestResult(
                record_id=locked.record_id,
                test_item_id=key,
                round=TestResult.Round.RECHECK,
                measured=measured,
                value=value,
                conclusion=conclusion,
                note=str(given[key].get("note") or "")[:300],
                recorded_by=actor,
                recorded_at=now,
            )
            for key, (conclusion, value, measured) in judged.items()
        ]
    )
    retest = Conclusion.FAIL if any(c == Conclusion.FAIL for c, _v, _m in judged.values()) else Conclusion.PASS
    undisputed_failed = (
        TestResult.objects.filter(
            record_id=locked.record_id, round=TestResult.Round.INITIAL, conclusion=Conclusion.FAIL
        )
        .exclude(test_item_id__in=list(disputed))
        .exists()
    )
    final = Conclusion.FAIL if retest == Conclusion.FAIL or undisputed_failed else Conclusion.PASS
    locked.conclusion, locked.concluded_at = retest, now
    locked.save(update_fields=["conclusion", "concluded_at"])
    locked.case = cases.case_close(locked.case, actor=actor, step="closed", note=_conclusion_label(retest), at=now)
    record = SamplingRecord.objects.select_for_update().select_related("case").get(pk=locked.record_id)
    cases.case_log(record.case, step="recheck", actor=actor, at=now, note=_conclusion_label(retest))
    make_final([_final_of(record, final)], actor=actor, at=now, note=gettext("Conclusion of the re-test."))
    _notify(
        [record.organization_id, record.producer_id, record.batch.organizer_id],
        kind=NOTICE_KIND,
        key=f"objection:{locked.pk}:retested",
        title=gettext("Re-test of %(record)s: %(conclusion)s (final)")
        % {"record": record.case.number, "conclusion": _conclusion_label(final)},
        body=gettext("Re-test by %(institution)s.") % {"institution": locked.recheck_institution.name},
        link=record_url(record.pk),
    )
    audit_record(
        action="sampling_objection.retest",
        actor=actor,
        target=locked,
        details={"retest": retest, "final": final, "items": {str(k): v[0] for k, v in judged.items()}},
    )
    return locked


def retest_agrees(objection: Objection) -> bool | None:
    """Whether the re-test agrees with the first test on the disputed items (None before it)."""
    if not objection.conclusion:
        return None
    first_failed = TestResult.objects.filter(
        record_id=objection.record_id,
        round=TestResult.Round.INITIAL,
        conclusion=Conclusion.FAIL,
        test_item__in=objection.disputed_items.all(),
    ).exists()
    return (Conclusion.FAIL if first_failed else Conclusion.PASS) == objection.conclusion


# --- 3. Handling of an unqualified product ------------------------------------------------------


def _locked_disposal(actor, disposal, step: str) -> Disposal:
    return locked_for(Disposal.objects.for_user(actor, "view"), Disposal.objects.for_user(actor, step), _pk(disposal))


def _refuse_disposal_state(disposal: Disposal) -> None:
    raise errors.INVALID_STATE(
        what=gettext("The handling of the unqualified product"), state=disposal.get_state_display()
    )


@audited_service(
    "sampling_disposal.correction",
    _("Correction of an unqualified product reported"),
    check=may(Disposal, "correct", "disposal"),
    target="disposal",
)
def disposal_report_correction(*, actor, disposal, report) -> Disposal:
    """The enterprise reports the correction it made (整改报告)."""
    locked = _locked_disposal(actor, disposal, "correct")
    if locked.state != Disposal.State.ORDERED:
        _refuse_disposal_state(locked)
    report = str(report or "").strip()
    if not report:
        raise errors.CORRECTION_REPORT_REQUIRED(field="report")
    now = timezone.now()
    locked.report_correction()
    locked.correction_report, locked.corrected_at = report[:REASON_LIMIT], now
    locked.save(update_fields=["state", "correction_report", "corrected_at"])
    case = locked.record.case
    cases.case_deadline_meet(case, code=CORRECTION, at=now)
    cases.case_log(case, step="corrected", actor=actor, at=now, note=report[:500])
    audit_record(action="sampling_disposal.correction", actor=actor, target=locked)
    return locked


@audited_service(
    "sampling_disposal.recheck",
    _("Re-check of an unqualified product recorded"),
    check=may(Disposal, "handle", "disposal"),
    target="disposal",
)
def disposal_recheck(*, actor, disposal, passed, note="", announcement="") -> Disposal:
    """The organiser's re-check (复查): passed → closed; failed → announced by the province (the
    region-level regulator is told) and the second re-check's window starts."""
    locked = _locked_disposal(actor, disposal, "handle")
    if locked.state not in (Disposal.State.ORDERED, Disposal.State.CORRECTED):
        _refuse_disposal_state(locked)
    note = str(note or "").strip()[:500]
    now = timezone.now()
    record = locked.record
    case = record.case
    if passed:
        locked.recheck_passed()
        locked.rechecked_at = now
        locked.save(update_fields=["state", "rechecked_at"])
        cases.case_deadline_meet(case, code=RECHECK, note=note, at=now)
        cases.case_deadline_cancel(case, code=CORRECTION, at=now)
        cases.case_log(case, step="recheck_pass", actor=actor, at=now, note=note)
    else:
        announcement = str(announcement or "").strip()
        if not announcement:
            raise errors.ANNOUNCEMENT_REQUIRED(field="announcement")
        locked.recheck_failed()
        locked.rechecked_at = locked.announced_at = now
        locked.announcement = announcement[:300]
        locked.save(update_fields=["state", "rechecked_at", "announced_at", "announcement"])
        cases.case_deadline_meet(case, code=RECHECK, note=note, at=now)
        cases.case_deadline_cancel(case, code=CORRECTION, at=now)
        cases.case_log(case, step="recheck_fail", actor=actor, at=now, note=note)
        cases.case_log(case, step="announced", actor=actor, at=now, note=locked.announcement)
        opens = cases.deadline_after(now, days=rule("second_recheck_from_days"))
        due = cases.deadline_after(now, days=rule("second_recheck_until_days"))
        cases.case_deadline_start(case, code=SECOND_RECHECK, due_at=due, not_before=opens, actor=actor, at=now)
        values = {"record": case.number, "name": record.organization.name, "product": record.pool_object.product_name}
        _notify(
            province_regulators(record.division.path),
            kind=NOTICE_KIND,
            key=f"disposal:{locked.pk}:announced",
            title=gettext("Re-check failed: %(name)s, %(product)s (%(record)s) to be announced") % values,
            body=locked.announcement,
            link=record_url(record.pk),
        )
        _notify(
            [record.organization_id],
            kind=NOTICE_KIND,
            key=f"disposal:{locked.pk}:announced",
            title=gettext("Re-check of %(record)s failed") % values,
            body=gettext("The failure is announced. The second re-check takes place between %(opens)s and %(due)s.")
            % {"opens": _day(opens), "due": _day(due)},
            link=record_url(record.pk),
        )
    audit_record(
        action="sampling_disposal.recheck", actor=actor, target=locked, details={"passed": bool(passed), "note": note}
    )
    return locked


@audited_service(
    "sampling_disposal.second_recheck",
    _("Second re-check after an announcement recorded"),
    check=may(Disposal, "handle", "disposal"),
    target="disposal",
)
def disposal_second_recheck(*, actor, disposal, passed, note="") -> Disposal:
    """The second re-check in its window after the announcement: not before it opens."""
    locked = _locked_disposal(actor, disposal, "handle")
    if locked.state != Disposal.State.ANNOUNCED:
        _refuse_disposal_state(locked)
    now = timezone.now()
    case = locked.record.case
    window = _open_deadline(case.pk, SECOND_RECHECK)
    if window is not None and window.not_before is not None and now < window.not_before:
        raise errors.SECOND_RECHECK_TOO_EARLY(date=_day(window.not_before))
    note = str(note or "").strip()[:500]
    if passed:
        locked.second_recheck_passed()
    else:
        locked.second_recheck_failed()
    locked.second_rechecked_at = now
    locked.save(update_fields=["state", "second_rechecked_at"])
    cases.case_deadline_meet(case, code=SECOND_RECHECK, note=note, at=now)
    cases.case_log(
        case, step="second_recheck_pass" if passed else "second_recheck_fail", actor=actor, at=now, note=note
    )
    audit_record(
        action="sampling_disposal.second_recheck",
        actor=actor,
        target=locked,
        details={"passed": bool(passed), "note": note},
    )
    return locked
