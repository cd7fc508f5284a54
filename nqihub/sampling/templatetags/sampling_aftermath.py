"""``{% aftermath_panel record as panel %}``: what the record's page shows after the result (the
conclusion, the notice, an objection and its re-test with who pays, the handling of an
unqualified product and its windows) and what the reader may do there, for
``sampling/_record_aftermath.html``. Every "may" is asked of the same querysets the services use."""

from __future__ import annotations

from django import template
from django.utils import timezone

from nqihub.cases.models import CaseDeadline

from ..models import Conclusion, Disposal, Objection, SamplingRecord, TestResult
from ..services import aftermath
from ..services.pools import qualified_institutions

register = template.Library()


def _allowed(model, user, step: str, pk) -> bool:
    return model.objects.for_user(user, step).filter(pk=pk).exists()


@register.simple_tag(takes_context=True)
def aftermath_panel(context, record) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if record is None or user is None or record.stage not in aftermath.AFTER_TEST_STAGES:
        return {"record": None}
    Stage = SamplingRecord.Stage
    now = timezone.now()
    handle = _allowed(SamplingRecord, user, "handle", record.pk)
    objection_period = (
        CaseDeadline.objects.filter(case_id=record.case_id, code=aftermath.OBJECTION)
        .order_by("-started_at", "-pk")
        .first()
    )
    period_running = objection_period is not None and objection_period.due_at >= now
    results = list(
        TestResult.objects.filter(record=record).select_related("test_item").order_by("round", "test_item__seq")
    )
    panel = {
        "record": record,
        "case": record.case,
        "initial": [r for r in results if r.round == TestResult.Round.INITIAL],
        "retest_results": [r for r in results if r.round == TestResult.Round.RECHECK],
        "report": aftermath.latest_report(record),
        "objection_period": objection_period,
        "may_notify": handle and record.stage == Stage.TESTED and bool(record.conclusion),
        "may_finalize": handle and record.stage == Stage.NOTIFIED and not period_running,
        "may_object": record.stage == Stage.NOTIFIED
        and period_running
        and _allowed(SamplingRecord, user, "object", record.pk),
    }
    objection = Objection.objects.select_related("case", "recheck_institution").filter(record=record).first()
    panel["objection"] = objection
    if objection is not None:
        open_case = objection.case.state == "submitted"
        may_handle = _allowed(Objection, user, "handle", objection.pk)
        panel["disputed"] = list(objection.disputed_items.order_by("seq"))
        panel["may_decide"] = may_handle and open_case
        panel["institutions"] = (
            list(qualified_institutions(record.pool_object.category).exclude(pk=record.institution_id))
            if panel["may_decide"]
            else []
        )
        panel["may_retest"] = (
            objection.case.state == "accepted"
            and objection.concluded_at is None
            and _allowed(Objection, user, "retest", objection.pk)
        )
        agrees = aftermath.retest_agrees(objection)
        panel["agrees"] = agrees
    disposal = Disposal.objects.filter(record=record).first()
    panel["disposal"] = disposal
    if disposal is not None:
        State = Disposal.State
        may_handle = _allowed(Disposal, user, "handle", disposal.pk)
        window = CaseDeadline.objects.filter(
            case_id=record.case_id, code=aftermath.SECOND_RECHECK, state=CaseDeadline.State.OPEN
        ).first()
        panel["window"] = window
        panel["may_correct"] = disposal.state == State.ORDERED and _allowed(Disposal, user, "correct", disposal.pk)
        panel["may_recheck"] = may_handle and disposal.state in (State.ORDERED, State.CORRECTED)
        panel["may_second_recheck"] = may_handle and disposal.state == State.ANNOUNCED
        panel["window_open"] = window is None or window.not_before is None or window.not_before <= now
    panel["unqualified"] = record.final_conclusion == Conclusion.FAIL
    panel["conclusions"] = Conclusion.choices
    return panel
