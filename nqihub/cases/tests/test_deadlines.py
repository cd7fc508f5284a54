"""Named deadlines of a case (countdowns after a decision): started, replaced, met, cancelled,
windows, the daily selection of overdue ones and the countdown panel."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.template import Context, Template
from django.utils import timezone, translation

from nqihub.cases import kinds
from nqihub.cases import selectors as case_selectors
from nqihub.cases import services as cases
from nqihub.cases.models import CaseDeadline
from nqihub.testing.factories import UserFactory

KIND = kinds.register(
    kinds.CaseKind(
        code="test_deadlines",
        prefix="TD",
        label="test deadlines",
        states=frozenset({kinds.SUBMITTED}),
        deadlines={"correction": "Correction (test)"},
    )
)


@pytest.fixture
def case(db):
    return cases.case_open(kind="test_deadlines", actor=UserFactory(username="deadline_clerk"))


def test_calendar_and_working_day_deadlines(db):
    start = timezone.make_aware(datetime.datetime(2026, 12, 4, 10, 0))  # a Friday
    assert cases.deadline_after(start, days=60) == start + datetime.timedelta(days=60)
    # Three working days from a Friday skip the weekend.
    assert timezone.localdate(cases.deadline_after(start, days=3, working=True)) == datetime.date(2026, 12, 9)


def test_start_replace_meet_and_history(case):
    now = timezone.now()
    first = cases.case_deadline_start(case, code="correction", due_at=now + datetime.timedelta(days=60))
    second = cases.case_deadline_start(case, code="correction", due_at=now + datetime.timedelta(days=30))
    first.refresh_from_db()
    assert first.state == CaseDeadline.State.CANCELLED
    assert [d.pk for d in case_selectors.running_deadlines(case)] == [second.pk]
    assert second.label() == "Correction (test)"
    assert 29 <= second.days_left() <= 30 and second.days_overdue == 0
    met = cases.case_deadline_meet(case, code="correction", note="done")
    assert met.state == CaseDeadline.State.MET and met.closed_note == "done"
    assert case_selectors.running_deadlines(case) == []
    # Meeting a step that is not running changes nothing.
    assert cases.case_deadline_meet(case, code="correction") is None
    # The timeline says when each countdown started, in words (here in English).
    with translation.override("en"):
        labels = [str(e.label_for(case.kind)) for e in case.events.all()]
    assert labels.count("Time limit started: Correction (test)") == 2


def test_one_running_countdown_per_step_is_a_constraint(case):
    now = timezone.now()
    cases.case_deadline_start(case, code="correction", due_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseDeadline.objects.create(case=case, code="correction", started_at=now, due_at=now)


def test_a_window_must_open_before_it_closes(case):
    now = timezone.now()
    with pytest.raises(ValueError):
        cases.case_deadline_start(case, code="correction", due_at=now, not_before=now + datetime.timedelta(days=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseDeadline.objects.create(
            case=case, code="x", started_at=now, due_at=now, not_before=now + datetime.timedelta(days=1)
        )


def test_overdue_deadlines_are_selected_once_for_escalation(case):
    now = timezone.now()
    late = cases.case_deadline_start(case, code="correction", due_at=now - datetime.timedelta(days=2))
    cases.case_deadline_start(case, code="other", due_at=now + datetime.timedelta(days=2))
    assert [d.pk for d in case_selectors.deadlines_to_escalate("test_deadlines")] == [late.pk]
    assert cases.case_deadlines_mark_escalated([late.pk]) == 1
    assert list(case_selectors.deadlines_to_escalate("test_deadlines")) == []
    assert cases.case_deadlines_mark_escalated([late.pk]) == 0
    late.refresh_from_db()
    assert late.is_overdue and late.days_overdue >= 2


def test_countdown_panel(case):
    now = timezone.now()
    cases.case_deadline_start(case, code="correction", due_at=now - datetime.timedelta(days=3))
    with translation.override("en"):
        html = Template('{% include "cases/_deadlines.html" %}').render(Context({"case": case}))
    assert "Correction (test)" in html
    assert "3 days overdue" in html
    # Chinese by default.
    assert "逾期 3 天" in Template('{% include "cases/_deadlines.html" %}').render(Context({"case": case}))
    cases.case_deadline_cancel(case, code="correction")
    assert Template('{% include "cases/_deadlines.html" %}').render(Context({"case": case})).strip() == ""
