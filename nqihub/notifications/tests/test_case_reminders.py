"""The daily reminder of cases due soon or overdue: the handling organisation is told once per
case and stage (and again only for a new deadline), nobody outside the case is told, decided
cases are not reminded, and the job is registered with run_daily."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.cases import kinds
from nqihub.cases import services as cases
from nqihub.cases.models import Case, CaseReminder
from nqihub.core.registries import daily_jobs
from nqihub.notifications.case_reminders import NOTICE_KIND, send_case_reminders
from nqihub.notifications.models import Notice

REMIND_KIND = kinds.register(
    kinds.CaseKind(
        code="test_remind",
        prefix="RMD",
        label="reminded test case",
        states=frozenset({kinds.SUBMITTED, kinds.RETURNED, kinds.APPROVED}),
        time_limit=lambda: 5,
    )
)


def _case(world, *, deadline, handler=True, division="150203"):
    regulator = world.kundulun_reg if division == "150203" else world.xincheng_reg
    case = cases.case_open(
        kind="test_remind",
        actor=world.users["ent_manager"],
        applicant_organization=world.ent_kundulun,
        handling_organization=world.institution if handler else None,
        division=regulator.division,
    )
    Case.objects.filter(pk=case.pk).update(deadline=deadline)
    case.refresh_from_db()
    return case


def _told(user):
    return {n.key.split(":")[1] for n in Notice.objects.for_user(user).filter(kind=NOTICE_KIND)}


def test_handlers_are_told_once_per_stage_and_outsiders_never(world):
    now = timezone.now()
    soon = _case(world, deadline=now + timedelta(hours=20))
    late = _case(world, deadline=now - timedelta(hours=3))
    later = _case(world, deadline=now + timedelta(days=9))  # not yet
    counts = send_case_reminders(now=now)
    assert counts["sent"] == {"test_remind": 2} and counts["notices"] == 2
    assert _told(world.users["inst"]) == {str(soon.pk), str(late.pk)}
    stages = dict(CaseReminder.objects.values_list("case_id", "stage"))
    assert stages == {soon.pk: "due_soon", late.pk: "overdue"}
    titles = set(Notice.objects.filter(kind=NOTICE_KIND).values_list("title", flat=True))
    assert titles == {f"办件 {soon.number} 即将到期", f"办件 {late.number} 已超期"}
    # The applicant, other enterprises, regulators and another organisation's people are not told.
    for outsider in ("ent_manager", "ent_other", "kundulun", "baotou", "region"):
        assert _told(world.users[outsider]) == set(), outsider
    # The next day: nothing new for the same stage; the due-soon case has become overdue.
    again = send_case_reminders(now=now + timedelta(hours=1))
    assert again["cases"] == 0
    next_day = send_case_reminders(now=now + timedelta(days=1))
    assert next_day["sent"] == {"test_remind": 1}
    assert set(CaseReminder.objects.filter(case=soon).values_list("stage", flat=True)) == {"due_soon", "overdue"}
    assert Notice.objects.filter(kind=NOTICE_KIND).count() == 3
    assert not CaseReminder.objects.filter(case=later).exists()
    assert AuditEvent.objects.filter(action="case_reminder.run").count() == 3


def test_a_decided_case_is_not_reminded_and_a_new_deadline_starts_again(world):
    now = timezone.now()
    decided = _case(world, deadline=now - timedelta(hours=1))
    cases.case_approve(decided, actor=world.users["inst"], at=now - timedelta(minutes=5))
    returned = _case(world, deadline=now - timedelta(hours=1))
    assert send_case_reminders(now=now)["sent"] == {"test_remind": 1}
    returned = cases.case_return(returned, actor=world.users["inst"], reason="补正", at=now)
    returned = cases.case_resubmit(returned, actor=world.users["ent_manager"], at=now)
    Case.objects.filter(pk=returned.pk).update(deadline=now + timedelta(hours=5))
    assert send_case_reminders(now=now)["sent"] == {"test_remind": 1}
    assert list(CaseReminder.objects.filter(case=returned).order_by("pk").values_list("stage", flat=True)) == [
        "overdue",
        "due_soon",
    ]
    assert not CaseReminder.objects.filter(case=decided).exists()


def test_without_a_handling_organisation_the_county_office_of_the_division_is_told(world):
    now = timezone.now()
    case = _case(world, deadline=now - timedelta(hours=1), handler=False)
    other = _case(world, deadline=now - timedelta(hours=1), handler=False, division="150102")
    send_case_reminders(now=now)
    assert _told(world.users["kundulun"]) == {str(case.pk)}
    assert _told(world.users["xincheng"]) == {str(other.pk)}
    for outsider in ("baotou", "region", "qingshan", "inst", "ent_manager"):
        assert _told(world.users[outsider]) == set(), outsider


def test_the_daily_job_is_registered_and_runs(world):
    assert "send_case_reminders" in daily_jobs()
    _case(world, deadline=timezone.now() - timedelta(hours=1))
    out = io.StringIO()
    call_command("send_case_reminders", "--json", stdout=out)
    assert json.loads(out.getvalue())["cases"] == 1
    assert Notice.objects.filter(kind=NOTICE_KIND, organization=world.institution).count() == 1
