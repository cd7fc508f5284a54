"""Closing a batch and publishing its results: who may, when, the due day from the rule and the
work calendar, the overdue reminders, and the panel on the batch page."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Conflict, Forbidden, NotFound
from nqihub.notifications.models import Notice
from nqihub.sampling.models import Batch, SamplingRecord, SamplingRule
from nqihub.sampling.services.disclosure import (
    batch_close,
    batch_disclose,
    disclosure_due_on,
    disclosure_reminders_send,
    overdue_disclosures,
)
from nqihub.workcalendar.models import CalendarEntry

from .disclosure_records import make_record, set_state

TZ = timezone.get_current_timezone()


@pytest.fixture
def sampling_batch(sampling, world):
    """The fixture's batch under sampling, with one final record and one refused."""
    batch = set_state(sampling.batch, Batch.State.SAMPLING)
    actor = world.users["baotou"]
    make_record(sampling, sampling.objects["kundulun"], actor=actor, batch=batch, fails=(1,))
    make_record(sampling, sampling.objects["qingshan"], actor=actor, batch=batch, stage=SamplingRecord.Stage.REFUSED)
    return batch


def test_close_sets_the_due_day_from_the_rule_and_the_calendar(sampling_batch, world):
    # Closed on Friday 25 September 2026; the National Day holiday (1–8 October) and the make-up
    # working day (Saturday 10 October) come from the calendar, whatever the shipped data says.
    CalendarEntry.objects.filter(date__range=("2026-09-20", "2026-11-30")).delete()
    for day in range(1, 9):
        CalendarEntry.objects.create(
            date=datetime.date(2026, 10, day), kind="day_off", name="国庆节、中秋节", source="test"
        )
    CalendarEntry.objects.create(date=datetime.date(2026, 10, 10), kind="working_day", name="调休", source="test")
    closed = datetime.datetime(2026, 9, 25, 16, 0, tzinfo=TZ)
    batch = batch_close(actor=world.users["baotou"], batch=sampling_batch, now=closed)
    # 28–30 Sep (3), 9 Oct (4), 10 Oct Saturday worked (5), 12–16 Oct (10), 19–23 (15), 26–30 (20).
    assert batch.disclosure_due == datetime.date(2026, 10, 30)
    assert batch.state == Batch.State.CLOSED
    assert batch.closed_at == closed
    event = AuditEvent.objects.filter(action="sampling_batch.close").latest("seq")
    assert event.details["disclosure_due"] == "2026-10-30"


def test_the_due_day_follows_the_rule_as_data(sampling, world):
    CalendarEntry.objects.filter(date__range=("2026-03-01", "2026-03-31")).delete()
    assert disclosure_due_on(datetime.date(2026, 3, 2)) == datetime.date(2026, 3, 30)  # Mon + 20 working days
    SamplingRule.objects.filter(code="disclosure_working_days").update(value=5)
    assert disclosure_due_on(datetime.date(2026, 3, 2)) == datetime.date(2026, 3, 9)


def test_close_is_refused_while_a_record_is_open(sampling_batch, sampling, world):
    make_record(sampling, sampling.objects["more1"], actor=world.users["baotou"], stage=SamplingRecord.Stage.NOTIFIED)
    with pytest.raises(Conflict) as refused:
        batch_close(actor=world.users["baotou"], batch=sampling_batch)
    assert refused.value.code == "records_open"
    assert "1" in str(refused.value.message)
    assert Batch.objects.get(pk=sampling_batch.pk).state == Batch.State.SAMPLING
    assert AuditEvent.objects.filter(action="sampling_batch.close", outcome="failure").exists()


def test_close_and_disclose_only_in_their_state(sampling, world):
    with pytest.raises(Conflict):
        batch_close(actor=world.users["baotou"], batch=sampling.batch)  # still a draft
    with pytest.raises(Conflict):
        batch_disclose(actor=world.users["baotou"], batch=sampling.batch)


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("kundulun", NotFound),
        ("xincheng", NotFound),
        ("ent_manager", NotFound),
        ("region", Forbidden),
        ("inst", Forbidden),
    ],
)
def test_only_the_organiser_closes_and_publishes(sampling_batch, world, who, error):
    with pytest.raises(error):
        batch_close(actor=world.users[who], batch=sampling_batch)
    set_state(sampling_batch, Batch.State.CLOSED, disclosure_due=datetime.date(2026, 1, 1))
    with pytest.raises(error):
        batch_disclose(actor=world.users[who], batch=sampling_batch)
    assert Batch.objects.get(pk=sampling_batch.pk).state == Batch.State.CLOSED
    assert AuditEvent.objects.filter(action="sampling_batch.disclose", outcome="denied").exists()


def test_disclose_publishes_and_records_lateness(sampling_batch, world):
    batch = batch_close(actor=world.users["baotou"], batch=sampling_batch)
    later = timezone.now() + datetime.timedelta(days=60)
    batch = batch_disclose(actor=world.users["baotou"], batch=batch, now=later)
    assert batch.state == Batch.State.DISCLOSED
    assert batch.disclosed_at == later
    event = AuditEvent.objects.filter(action="sampling_batch.disclose").latest("seq")
    assert event.details["late"] is True


def test_close_refreshes_the_risk_of_the_batch_objects(sampling_batch, sampling, world):
    failed = sampling.objects["kundulun"]
    other = sampling.objects["more3"]
    assert failed.risk_score == 1
    batch_close(actor=world.users["baotou"], batch=sampling_batch)
    failed.refresh_from_db()
    other.refresh_from_db()
    assert failed.risk_score == 2  # one final failure, weight 1.00
    assert other.risk_score == 1  # not in the batch: left to the daily job


def test_overdue_publication_is_listed_reminded_once_and_shown(sampling_batch, world, web):
    baotou = world.users["baotou"]
    set_state(
        sampling_batch,
        Batch.State.CLOSED,
        closed_at=timezone.now() - datetime.timedelta(days=60),
        disclosure_due=timezone.localdate() - datetime.timedelta(days=3),
    )
    assert list(overdue_disclosures(baotou)) == [Batch.objects.get(pk=sampling_batch.pk)]
    assert list(overdue_disclosures(world.users["region"])) == [Batch.objects.get(pk=sampling_batch.pk)]
    assert not overdue_disclosures(world.users["xincheng"]).exists()
    assert not overdue_disclosures(world.users["kundulun"]).exists()  # the county below does not see the city's batch

    first = disclosure_reminders_send()
    assert first["overdue"] == [sampling_batch.number]
    assert first["notices"] == 1
    notice = Notice.objects.get(kind="sampling_disclosure")
    assert notice.organization == world.baotou_reg
    assert sampling_batch.number in notice.title
    assert disclosure_reminders_send()["notices"] == 0  # never twice
    assert Notice.objects.filter(kind="sampling_disclosure").count() == 1

    page = web(baotou).get("/sampling/disclosure/")
    assert page.status_code == 200
    assert 'data-testid="disclosure-overdue"' in page.content.decode()


def test_the_daily_command_is_registered_and_runs(sampling_batch, world):
    from nqihub.core.registries import daily_jobs

    assert "sampling_disclosure_daily" in daily_jobs()
    call_command("sampling_disclosure_daily")
    assert AuditEvent.objects.filter(action="sampling_disclosure.daily").exists()


def test_pages_close_and_publish(sampling_batch, world, web):
    client = web(world.users["baotou"])
    response = client.post(f"/sampling/batches/{sampling_batch.pk}/close/", {"next": "/sampling/disclosure/"})
    assert response.status_code == 302
    assert response["Location"] == "/sampling/disclosure/"
    assert Batch.objects.get(pk=sampling_batch.pk).state == Batch.State.CLOSED
    response = client.post(f"/sampling/batches/{sampling_batch.pk}/disclose/", {"next": "https://evil.example/"})
    assert response["Location"] == "/sampling/disclosure/"
    assert Batch.objects.get(pk=sampling_batch.pk).state == Batch.State.DISCLOSED


def test_pages_refuse_outsiders(sampling_batch, world, web):
    response = web(world.users["xincheng"]).post(f"/sampling/batches/{sampling_batch.pk}/close/", follow=True)
    assert Batch.objects.get(pk=sampling_batch.pk).state == Batch.State.SAMPLING
    assert response.status_code == 200
    assert web(world.users["ent_manager"]).get("/sampling/disclosure/").status_code == 404
    anonymous = web(world.users["baotou"])
    anonymous.logout()
    assert anonymous.post(f"/sampling/batches/{sampling_batch.pk}/close/").status_code == 302  # to sign-in
    assert Batch.objects.get(pk=sampling_batch.pk).state == Batch.State.SAMPLING


def test_the_panel_shows_state_due_day_and_buttons(sampling_batch, world, sampling):
    template = Template('{% include "sampling/_batch_disclosure.html" %}')
    request = RequestFactory().get("/sampling/batches/1/")

    def render(user, batch):
        request.user = user
        return template.render(Context({"batch": batch, "request": request, "csrf_token": "t"}))

    organiser = render(world.users["baotou"], sampling_batch)
    assert 'data-testid="batch-close"' in organiser
    assert "disabled" not in organiser
    assert 'data-testid="batch-close"' not in render(world.users["region"], sampling_batch)
    make_record(sampling, sampling.objects["more2"], actor=world.users["baotou"], stage=SamplingRecord.Stage.TESTED)
    assert "disabled" in render(world.users["baotou"], sampling_batch)
    closed = set_state(
        sampling_batch, Batch.State.CLOSED, disclosure_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    shown = render(world.users["baotou"], closed)
    assert 'data-testid="batch-disclose"' in shown
    assert 'data-testid="disclosure-overdue"' in shown
