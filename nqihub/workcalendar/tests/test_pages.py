"""The calendar's pages: everyone signed in reads a year; only the system administrator adds,
changes and deletes; forged posts and bad input change nothing and say why."""

from __future__ import annotations

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.workcalendar.models import CalendarEntry, DayKind

from .conftest import D, add_entry

NOTICE = "国务院办公厅关于2027年部分节假日安排的通知（测试）"
READERS = ["sysadmin", "secadmin", "auditor", "region", "kundulun", "ent_manager", "ent_clerk", "inst", "applicant"]


def snapshot():
    return sorted(CalendarEntry.objects.values_list("pk", "date", "kind", "name", "source"))


def english(client):
    client.cookies["nqi_language"] = "en"
    return client


# --- reading -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", READERS)
def test_everyone_signed_in_reads_a_year(world, web, who):
    client = english(web(world.users[who]))
    page = client.get("/calendar/?year=2026")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-date="2026-02-14"' in html and 'data-date="2026-10-07"' in html  # 春节 make-up day, 国庆
    assert "国务院办公厅关于2026年部分节假日安排的通知" in html
    assert page.context["weekdays_off"] == 19 and page.context["make_up_days"] == 6
    editable = who == "sysadmin"
    assert ('data-testid="calendar-create"' in html) is editable
    assert ("/calendar/" + str(CalendarEntry.objects.get(date=D(2026, 2, 14)).pk) + "/edit/" in html) is editable


def test_signed_out_is_sent_to_sign_in(client, db):
    page = client.get("/calendar/")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


def test_a_year_without_entries_says_weekends_only(world, web):
    page = english(web(world.users["ent_manager"])).get("/calendar/?year=2031")
    assert page.status_code == 200
    assert "No public holidays or make-up working days are recorded for 2031" in page.content.decode()
    assert page.context["entries"] == []


@pytest.mark.parametrize("raw", ["", "abc", "99999", "-1"])
def test_a_bad_year_shows_the_current_one(world, web, raw):
    page = web(world.users["region"]).get(f"/calendar/?year={raw}")
    assert page.status_code == 200 and 1949 <= page.context["year"] <= 2200


def test_linked_next_to_the_catalogue(world, web):
    html = web(world.users["ent_manager"]).get("/metrology/catalogue/").content.decode()
    assert 'href="/calendar/"' in html


# --- the system administrator ----------------------------------------------------------------------


def test_sysadmin_adds_a_holiday_period_through_the_page(world, web):
    client = web(world.users["sysadmin"])
    assert client.get("/calendar/new/?date=2027-10-01").status_code == 200
    response = client.post(
        "/calendar/new/",
        {"date": "2027-10-01", "date_until": "2027-10-07", "kind": "day_off", "name": "国庆节", "source": NOTICE},
    )
    assert response.status_code == 302 and response["Location"] == "/calendar/?year=2027"
    assert CalendarEntry.objects.in_year(2027).count() == 7
    page = client.get("/calendar/?year=2027")
    assert page.context["weekdays_off"] == 5


def test_sysadmin_edits_and_deletes_through_the_page(world, web):
    client = web(world.users["sysadmin"])
    entry = add_entry(D(2027, 9, 26), DayKind.WORKING_DAY, name="国庆节")
    form = client.get(f"/calendar/{entry.pk}/edit/")
    assert form.status_code == 200 and "date_until" not in form.context["form"].fields
    response = client.post(
        f"/calendar/{entry.pk}/edit/", {"date": "2027-09-26", "kind": "working_day", "name": "国庆节", "source": NOTICE}
    )
    assert response.status_code == 302
    assert CalendarEntry.objects.get(pk=entry.pk).source == NOTICE
    assert client.get(f"/calendar/{entry.pk}/delete/").status_code == 200  # the confirmation page
    assert CalendarEntry.objects.filter(pk=entry.pk).exists()
    response = client.post(f"/calendar/{entry.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/calendar/?year=2027"
    assert not CalendarEntry.objects.filter(pk=entry.pk).exists()


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "post, message",
    [
        ({"date": ""}, "Enter the date."),
        ({"date": "2027-02-30"}, "Enter a date as YYYY-MM-DD, e.g. 2026-10-01."),
        ({"kind": ""}, "Choose whether the date is a day off or a make-up working day."),
        ({"date": "2027-10-08", "kind": "working_day"}, "2027-10-08 is a Friday: a make-up working day can only be"),
        ({"date": "2026-02-16"}, "2026-02-16 already has an entry (春节, Day off (public holiday))"),
        ({"date_until": "2027-09-01"}, "The last day must not be before the first."),
    ],
)
def test_bad_input_says_why_and_changes_nothing(world, web, post, message):
    client = english(web(world.users["sysadmin"]))
    before = snapshot()
    data = {"date": "2027-10-01", "kind": "day_off", "name": "国庆节", "source": NOTICE, **post}
    response = client.post("/calendar/new/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot() == before


def test_bad_input_on_edit_changes_nothing(world, web):
    client = english(web(world.users["sysadmin"]))
    entry = add_entry(D(2027, 10, 4))  # a Monday
    before = snapshot()
    data = {"date": "2027-10-04", "kind": "working_day", "name": "国庆节", "source": NOTICE}
    response = client.post(f"/calendar/{entry.pk}/edit/", data)
    assert response.status_code == 200 and "2027-10-04 is a Monday" in response.content.decode()
    assert snapshot() == before


# --- crossing the line -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ent_manager", "region", "kundulun", "inst", "secadmin", "auditor", "applicant"])
def test_others_cannot_edit_even_with_a_forged_post(world, web, who):
    user = world.users[who]
    client = english(web(user))
    entry = CalendarEntry.objects.get(date=D(2026, 2, 14))
    before = snapshot()
    assert client.get("/calendar/new/").status_code == 403
    assert client.get(f"/calendar/{entry.pk}/edit/").status_code == 404
    assert client.get(f"/calendar/{entry.pk}/delete/").status_code == 404

    created = client.post(
        "/calendar/new/", {"date": "2027-10-01", "kind": "day_off", "name": "国庆节", "source": NOTICE}
    )
    assert created.status_code == 403
    assert "You do not have permission to do this." in created.content.decode()
    changed = client.post(
        f"/calendar/{entry.pk}/edit/", {"date": "2026-02-14", "kind": "day_off", "name": "改", "source": "x"}
    )
    assert changed.status_code == 404
    deleted = client.post(f"/calendar/{entry.pk}/delete/")
    assert deleted.status_code == 404
    assert snapshot() == before
    denied = AuditEvent.objects.filter(actor=user, outcome="denied").values_list("action", flat=True)
    assert sorted(denied) == ["calendar_entry.create", "calendar_entry.delete", "calendar_entry.update"]
