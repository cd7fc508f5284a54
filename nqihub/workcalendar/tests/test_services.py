"""Changing the calendar: only the system administrator; every change and every refusal is
recorded; a refusal changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.workcalendar.models import CalendarEntry, DayKind
from nqihub.workcalendar.services import (
    MAX_PERIOD_DAYS,
    calendar_entry_create,
    calendar_entry_delete,
    calendar_entry_update,
)

from .conftest import D, add_entry

NOTICE = "国务院办公厅关于2027年部分节假日安排的通知（测试）"


def data(**overrides) -> dict:
    values = {"date": "2027-10-01", "kind": DayKind.DAY_OFF, "name": "国庆节", "source": NOTICE}
    values.update(overrides)
    return values


def snapshot():
    return sorted(CalendarEntry.objects.values_list("date", "kind", "name", "source"))


def refused(call, error, field: str | None, action: str, outcome: str = "failure"):
    before = snapshot()
    with pytest.raises(error) as exc:
        call()
    assert snapshot() == before
    if field is not None:
        assert exc.value.field == field or field in (exc.value.errors or {})
    assert AuditEvent.objects.filter(action=action).latest("seq").outcome == outcome
    return exc.value


# --- the system administrator -------------------------------------------------------------------


def test_sysadmin_adds_changes_and_deletes_audited(world):
    admin = world.users["sysadmin"]
    [entry] = calendar_entry_create(actor=admin, data=data())
    assert (entry.date, entry.kind, entry.name, entry.source) == (D(2027, 10, 1), "day_off", "国庆节", NOTICE)
    entry = calendar_entry_update(actor=admin, entry=entry, data={"name": "国庆节、中秋节"})
    assert CalendarEntry.objects.get(date=D(2027, 10, 1)).name == "国庆节、中秋节"
    calendar_entry_delete(actor=admin, entry=entry.pk)
    assert not CalendarEntry.objects.filter(date=D(2027, 10, 1)).exists()
    records = {e.action: e for e in AuditEvent.objects.filter(action__startswith="calendar_entry.")}
    assert set(records) == {"calendar_entry.create", "calendar_entry.update", "calendar_entry.delete"}
    assert all(r.outcome == "success" and r.actor == admin for r in records.values())
    assert records["calendar_entry.update"].details["changes"] == {"name": ["国庆节", "国庆节、中秋节"]}
    assert records["calendar_entry.delete"].details["date"] == "2027-10-01"
    assert records["calendar_entry.delete"].target_id == str(entry.pk)


def test_a_period_makes_one_entry_per_day_in_one_record(world):
    entries = calendar_entry_create(actor=world.users["sysadmin"], data=data(date_until="2027-10-07"))
    assert [e.date.day for e in entries] == [1, 2, 3, 4, 5, 6, 7]
    assert {e.name for e in entries} == {"国庆节"}
    record = AuditEvent.objects.get(action="calendar_entry.create")
    assert len(record.details["dates"]) == 7 and record.details["dates"][-1] == "2027-10-07"


def test_make_up_weekend_day(world):
    [entry] = calendar_entry_create(
        actor=world.users["sysadmin"], data=data(date="2027-09-26", kind=DayKind.WORKING_DAY)
    )
    assert entry.kind == DayKind.WORKING_DAY


def test_a_holiday_may_fall_on_a_weekend(world):
    # The notices name whole periods (“4月4日（周六）至6日（周一）”); a weekend day off is allowed.
    calendar_entry_create(actor=world.users["sysadmin"], data=data(date="2027-10-02"))
    assert CalendarEntry.objects.get(date=D(2027, 10, 2)).kind == DayKind.DAY_OFF


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"date": ""}, "date"),
        ({"date": None}, "date"),
        ({"date": "2027-13-01"}, "date"),
        ({"date": "1 October"}, "date"),
        ({"kind": ""}, "kind"),
        ({"kind": "half_day"}, "kind"),
        ({"name": "  "}, "name"),
        ({"name": "节" * 51}, "name"),
        ({"source": ""}, "source"),
        ({"source": "x" * 301}, "source"),
        ({"date_until": "2027-09-30"}, "date_until"),  # before the first day
        ({"date_until": "2027-11-01"}, "date_until"),  # 32 days
        ({"date_until": "soon"}, "date_until"),
    ],
)
def test_bad_input_refused_and_recorded(world, change, field):
    refused(
        lambda: calendar_entry_create(actor=world.users["sysadmin"], data=data(**change)),
        InvalidInput,
        field,
        "calendar_entry.create",
    )
    assert MAX_PERIOD_DAYS == 31


def test_missing_date_says_so(world, settings):
    from django.utils import translation

    with translation.override("en"):
        exc = refused(
            lambda: calendar_entry_create(actor=world.users["sysadmin"], data=data(date="")),
            InvalidInput,
            "date",
            "calendar_entry.create",
        )
        assert exc.errors["date"] == ["Enter the date."]


def test_make_up_working_day_on_a_weekday_refused(world):
    from django.utils import translation

    with translation.override("en"):
        exc = refused(
            lambda: calendar_entry_create(
                actor=world.users["sysadmin"], data=data(date="2027-10-08", kind=DayKind.WORKING_DAY)
            ),
            InvalidInput,
            "date",
            "calendar_entry.create",
        )
    assert "2027-10-08 is a Friday" in exc.errors["date"][0]


def test_make_up_period_with_a_weekday_refused(world):
    refused(
        lambda: calendar_entry_create(
            actor=world.users["sysadmin"],
            data=data(date="2027-09-25", date_until="2027-09-27", kind=DayKind.WORKING_DAY),
        ),
        InvalidInput,
        "date",
        "calendar_entry.create",
    )


def test_second_entry_on_a_date_refused(world):
    add_entry(D(2027, 10, 1), name="已有")
    exc = refused(
        lambda: calendar_entry_create(actor=world.users["sysadmin"], data=data()),
        Conflict,
        "date",
        "calendar_entry.create",
    )
    assert exc.code == "calendar_date_taken" and "2027-10-01" in exc.message and "已有" in exc.message


def test_a_period_overlapping_an_entry_adds_nothing(world):
    add_entry(D(2027, 10, 5))
    refused(
        lambda: calendar_entry_create(actor=world.users["sysadmin"], data=data(date_until="2027-10-07")),
        Conflict,
        "date",
        "calendar_entry.create",
    )
    assert not CalendarEntry.objects.filter(date=D(2027, 10, 1)).exists()


def test_moving_an_entry_onto_a_taken_date_refused(world):
    add_entry(D(2027, 10, 1))
    other = add_entry(D(2027, 10, 2))
    refused(
        lambda: calendar_entry_update(actor=world.users["sysadmin"], entry=other, data={"date": "2027-10-01"}),
        Conflict,
        "date",
        "calendar_entry.update",
    )


def test_changing_a_day_off_into_a_weekday_make_up_day_refused(world):
    entry = add_entry(D(2027, 10, 4))  # a Monday
    refused(
        lambda: calendar_entry_update(actor=world.users["sysadmin"], entry=entry, data={"kind": DayKind.WORKING_DAY}),
        InvalidInput,
        "date",
        "calendar_entry.update",
    )


# --- everyone else --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["region", "kundulun", "ent_manager", "inst", "applicant", "secadmin", "auditor"])
def test_others_refused_and_recorded(world, who):
    user = world.users[who]
    entry = add_entry(D(2027, 10, 1))
    refused(lambda: calendar_entry_create(actor=user, data=data(date="2027-10-02")), Forbidden, None,
            "calendar_entry.create", "denied")  # fmt: skip
    refused(lambda: calendar_entry_update(actor=user, entry=entry, data={"name": "改"}), Forbidden, None,
            "calendar_entry.update", "denied")  # fmt: skip
    refused(lambda: calendar_entry_delete(actor=user, entry=entry), Forbidden, None,
            "calendar_entry.delete", "denied")  # fmt: skip
    assert AuditEvent.objects.filter(action__startswith="calendar_entry.", actor=user, outcome="denied").count() == 3


def test_anonymous_and_missing_entries_are_not_found(world):
    entry = add_entry(D(2027, 10, 1))
    with pytest.raises(NotFound):
        calendar_entry_delete(actor=AnonymousUser(), entry=entry)
    with pytest.raises(NotFound):
        calendar_entry_update(actor=world.users["sysadmin"], entry=999_999, data={"name": "x"})
    with pytest.raises(Forbidden):
        calendar_entry_create(actor=AnonymousUser(), data=data())
    assert CalendarEntry.objects.filter(pk=entry.pk).exists()


def test_everyone_signed_in_reads_nobody_else_changes(world):
    add_entry(D(2027, 10, 1))
    for who, user in world.users.items():
        assert CalendarEntry.objects.for_user(user, "view").count() == CalendarEntry.objects.count(), who
        may_change = who == "sysadmin"
        for action in ("create", "change", "delete"):
            assert CalendarEntry.objects.for_user(user, action).exists() is may_change, (who, action)
    assert not CalendarEntry.objects.for_user(AnonymousUser(), "view").exists()
    assert not CalendarEntry.objects.for_user(world.users["sysadmin"], "approve").exists()
