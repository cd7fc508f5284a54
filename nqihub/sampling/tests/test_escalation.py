"""The daily job of sampling's time limits: conclusions nobody objected to are made final, and
overdue steps are reported once to the regulator above the organiser — set-based, with one audit
record per run and the same number of queries for 1 record as for 20."""

from __future__ import annotations

import datetime

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.cases.models import CaseDeadline, CaseEvent
from nqihub.core.registries import daily_jobs
from nqihub.notifications.models import Notice
from nqihub.sampling.models import Conclusion, Disposal, PoolObject, SamplingRecord
from nqihub.sampling.services import aftermath
from nqihub.sampling.services.escalation import ESCALATION_NOTICE_KIND, run_sampling_deadlines

from .aftermath_setup import record_at_result

DAY = datetime.timedelta(days=1)


def _notified(world, sampling, n=1, *, failing=(2,)):
    records = []
    base = sampling.objects["more1"]
    for _ in range(n):
        i = PoolObject.objects.count()
        obj = PoolObject.objects.create(
            organization=base.organization,
            division_id=base.division_id,
            category=base.category,
            product_name="调制乳",
            brand=f"批量{i}",
            model="200mL",
        )
        record = record_at_result(world, sampling, obj=obj, failing=failing)
        records.append(aftermath.record_notify(actor=world.users["baotou"], record=record))
    return records


def test_the_job_is_registered_daily():
    assert "escalate_sampling_deadlines" in daily_jobs()


def test_unobjected_conclusions_become_final_after_the_period(world, sampling):
    passed = _notified(world, sampling, failing=())[0]
    failed = _notified(world, sampling)[0]
    now = timezone.now()
    assert run_sampling_deadlines(now=now + 14 * DAY)["made_final"] == 0
    result = run_sampling_deadlines(now=now + 16 * DAY)
    assert result["made_final"] == 2
    passed.refresh_from_db()
    failed.refresh_from_db()
    assert passed.stage == failed.stage == SamplingRecord.Stage.FINAL
    assert passed.final_conclusion == Conclusion.PASS and failed.final_conclusion == Conclusion.FAIL
    assert not Disposal.objects.filter(record=passed).exists()
    disposal = Disposal.objects.get(record=failed)
    codes = set(
        CaseDeadline.objects.filter(case_id=failed.case_id, state=CaseDeadline.State.OPEN).values_list(
            "code", flat=True
        )
    )
    assert codes == {aftermath.CORRECTION, aftermath.RECHECK}
    correction = CaseDeadline.objects.get(case_id=failed.case_id, code=aftermath.CORRECTION, state="open")
    assert correction.due_at == disposal.ordered_at + 60 * DAY
    # The objection period is not an office's step: it is never reported to the level above.
    assert not Notice.objects.filter(kind=ESCALATION_NOTICE_KIND).exists()


def test_overdue_steps_are_reported_once_to_the_level_above(world, sampling):
    record = _notified(world, sampling)[0]
    now = timezone.now()
    run_sampling_deadlines(now=now + 16 * DAY)
    runs = AuditEvent.objects.filter(action="sampling_deadline.run").count()
    result = run_sampling_deadlines(now=now + 16 * DAY + 61 * DAY)  # the correction is overdue
    assert result["escalated"] == 1
    assert AuditEvent.objects.filter(action="sampling_deadline.run").count() == runs + 1
    told = list(Notice.objects.filter(kind=ESCALATION_NOTICE_KIND).values_list("organization_id", flat=True))
    # 包头市 organised the batch: the region's bureau above it is told, not 包头市 itself, nor
    # its peers (呼和浩特市) or the counties below.
    assert told == [world.region_reg.pk]
    assert CaseEvent.objects.filter(case_id=record.case_id, kind="escalated").count() == 1
    correction = CaseDeadline.objects.get(case_id=record.case_id, code=aftermath.CORRECTION)
    assert correction.escalated_at is not None
    # Again: nothing new for the same deadline.
    assert run_sampling_deadlines(now=now + 16 * DAY + 62 * DAY)["escalated"] == 0
    # The re-check, later overdue, is reported once too.
    assert run_sampling_deadlines(now=now + 16 * DAY + 76 * DAY)["escalated"] == 1
    assert Notice.objects.filter(kind=ESCALATION_NOTICE_KIND).count() == 2
    assert CaseEvent.objects.filter(case_id=record.case_id, kind="escalated").count() == 2


def _queries(now) -> int:
    with CaptureQueriesContext(connection) as ctx:
        run_sampling_deadlines(now=now)
    return len(ctx.captured_queries)


def test_the_jobs_query_count_is_the_same_for_1_and_20_records(world, sampling):
    now = timezone.now()
    _notified(world, sampling, 1)
    final_one = _queries(now + 16 * DAY)
    escalate_one = _queries(now + 16 * DAY + 61 * DAY)
    _notified(world, sampling, 20)
    final_twenty = _queries(now + 16 * DAY)
    escalate_twenty = _queries(now + 16 * DAY + 61 * DAY)
    assert SamplingRecord.objects.filter(stage="final").count() == 21
    assert Notice.objects.filter(kind=ESCALATION_NOTICE_KIND).count() == 21
    assert final_one == final_twenty
    assert escalate_one == escalate_twenty


def test_the_command_runs_the_job(world, sampling, capsys):
    call_command("escalate_sampling_deadlines", "--json")
    assert '"made_final": 0' in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="sampling_deadline.run").exists()
