"""The acceptance time limit of a verification application counts working days by the calendar:
a holiday is skipped, a make-up working day counts, and the pages show the stored deadline.

Relative to today, so it holds whenever it runs: the calendar is emptied and the test's own
holiday is put on the next weekday.
"""

# ruff: noqa: F811 - the fixtures imported from metrology's tests are used as arguments

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from nqihub.metrology.models import MetrologyPolicy
from nqihub.metrology.services import applications as services
from nqihub.metrology.tests.conftest import instruments, scale  # noqa: F401 - fixtures
from nqihub.metrology.tests.test_applications import metrology_institution, signers, submit  # noqa: F401
from nqihub.workcalendar import services as workcalendar
from nqihub.workcalendar.models import DayKind

from .conftest import add_entry


def following(start: datetime.date, count: int, test) -> list[datetime.date]:
    days, day = [], start
    while len(days) < count:
        day += datetime.timedelta(days=1)
        if test(day):
            days.append(day)
    return days


@pytest.fixture
def two_days(db):
    MetrologyPolicy.objects.update_or_create(pk=1, defaults={"acceptance_working_days": 2})


def test_a_holiday_moves_the_acceptance_deadline(world, web, instruments, signers, empty_calendar, two_days):
    today = timezone.localdate()
    first, _second, third = following(today, 3, lambda d: d.weekday() < 5)
    add_entry(first)  # the next weekday is a public holiday: the two working days are the 2nd and 3rd

    application = submit(world, instruments)

    deadline = timezone.localtime(application.accept_by)
    submitted = timezone.localtime(application.submitted_at)
    assert deadline.date() == third
    assert deadline.time() == submitted.time()
    assert application.accept_by == workcalendar.add_working_days(application.submitted_at, 2)
    assert not services.is_overdue(application)

    page = web(world.users["ent_manager"]).get(f"/metrology/applications/{application.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert deadline.strftime("%Y-%m-%d %H:%M") in html and 'data-testid="overdue"' not in html


def test_a_make_up_saturday_counts(world, instruments, signers, empty_calendar, two_days):
    today = timezone.localdate()
    saturday = following(today, 1, lambda d: d.weekday() == 5)[0]
    add_entry(saturday, DayKind.WORKING_DAY)
    expected = following(today, 2, lambda d: d.weekday() < 5 or d == saturday)[-1]

    application = submit(world, instruments)

    assert timezone.localtime(application.accept_by).date() == expected


def test_without_entries_weekends_only(world, instruments, signers, empty_calendar, two_days):
    today = timezone.localdate()
    application = submit(world, instruments)
    assert timezone.localtime(application.accept_by).date() == following(today, 2, lambda d: d.weekday() < 5)[-1]
