"""Due reminders: which stage an instrument gets, once only (also after a missed day), one
notice per organisation and stage, emails to the organisation's addresses, one audit record
per run; the task and the command; and the traffic-light lists (page, export, API) with
their scoping."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.metrology.models import Instrument, MetrologyPolicy, ReminderLog
from nqihub.metrology.reminder_tasks import send_due_reminders as reminder_task
from nqihub.metrology.services import reminders
from nqihub.metrology.services.reminders import DueColour, due_status, select_due, send_due_reminders
from nqihub.notifications.models import Notice
from nqihub.organizations.models import OrganizationContact
from nqihub.testing.workbooks import export_sheet

TODAY = date(2026, 11, 22)
STAGES = [30, 15, 7]


def _en(client):
    client.cookies["nqi_language"] = "en"
    return client


@pytest.fixture
def make(world, scale):
    """``make(days, org=..., **fields)``: a mandatory scale of ``org`` (the 昆都仑区
    enterprise by default) due ``days`` after TODAY (None: no due date)."""
    counter = iter(range(1, 10_000))

    def _make(days, *, org=None, **fields):
        org = org or world.ent_kundulun
        n = next(counter)
        values = {
            "organization": org,
            "division_id": org.division_id,
            "catalogue_item": scale,
            "name": f"电子秤{n}",
            "factory_number": f"F-{org.pk}-{n:04d}",
            "use_field": "trade",
            "is_mandatory": True,
            "next_due_on": TODAY + timedelta(days=days) if days is not None else None,
        }
        values.update(fields)
        return Instrument.objects.create(**values)

    return _make


def _selected(today=TODAY, stages=STAGES) -> dict[int, int]:
    """instrument id -> stage selected ``today``."""
    return {pk: stage for stage, rows in select_due(today, stages) for pk, _org, _due in rows}


def _logs(instrument) -> list[tuple[date, int]]:
    return sorted(ReminderLog.objects.filter(instrument=instrument).values_list("due_on", "stage"))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the service and its after-commit emails."""

    def _run(today=TODAY, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return send_due_reminders(today=today, **kwargs)

    return _run


# --- Selection: which stage --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("days", "stage"),
    [
        (31, None),
        (30, 30),
        (29, 30),
        (16, 30),
        (15, 15),
        (14, 15),
        (8, 15),
        (7, 7),
        (6, 7),
        (0, 7),
        (-1, -1),
        (-400, -1),
    ],
)
def test_an_instrument_gets_the_most_urgent_stage_its_due_date_is_in(make, days, stage):
    instrument = make(days)
    assert _selected().get(instrument.pk) == stage


@pytest.mark.django_db
def test_not_mandatory_scrapped_and_undated_instruments_are_never_reminded(make):
    not_mandatory = make(5, is_mandatory=False, use_field="other")
    scrapped = make(5, status=Instrument.Status.SCRAPPED)
    undated = make(None)
    stopped = make(5, status=Instrument.Status.STOPPED)
    selected = _selected()
    assert not_mandatory.pk not in selected and scrapped.pk not in selected and undated.pk not in selected
    assert selected[stopped.pk] == 7  # a stopped instrument must be verified before it is used again


@pytest.mark.django_db
def test_the_stages_are_the_policys(make):
    MetrologyPolicy.objects.create(reminder_days="60, 7")
    early, late = make(45), make(5)
    assert reminders.reminder_stages() == [60, 7]
    assert _selected(stages=None) == {early.pk: 60, late.pk: 7}


@pytest.mark.django_db
def test_selection_streams_in_chunks(make):
    ids = {make(20).pk for _ in range(5)}
    chunks = list(select_due(TODAY, STAGES, chunk_size=2))
    assert [len(rows) for _stage, rows in chunks] == [2, 2, 1]
    assert {pk for _stage, rows in chunks for pk, _org, _due in rows} == ids


# --- Sending once ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_stage_is_sent_once_and_a_second_run_sends_nothing(make, run):
    a, b, c = make(29), make(14), make(-3)
    first = run()
    assert first["sent"] == {"-1": 1, "7": 0, "15": 1, "30": 1} and first["instruments"] == 3
    assert (_logs(a), _logs(b), _logs(c)) == (
        [(a.next_due_on, 30)],
        [(b.next_due_on, 15)],
        [(c.next_due_on, -1)],
    )
    notices = Notice.objects.count()
    second = run()
    assert second["instruments"] == 0 and second["notices"] == 0 and second["emails"] == 0
    assert Notice.objects.count() == notices and ReminderLog.objects.count() == 3


@pytest.mark.django_db
def test_the_next_day_does_not_resend_the_same_stage_but_the_next_stage_comes(make, run):
    instrument = make(29)
    assert run()["sent"]["30"] == 1
    assert run(TODAY + timedelta(days=1))["instruments"] == 0  # still in the 30-day window
    assert run(TODAY + timedelta(days=14))["sent"]["15"] == 1  # due in 15 days
    assert run(TODAY + timedelta(days=15))["instruments"] == 0
    assert _logs(instrument) == [(instrument.next_due_on, 15), (instrument.next_due_on, 30)]


@pytest.mark.django_db
def test_a_missed_day_still_sends_the_most_urgent_unsent_stage_only(make, run):
    instrument = make(20)
    run()  # 30-day reminder
    # The job did not run for two weeks; the instrument is now due in 6 days.
    result = run(TODAY + timedelta(days=14))
    assert result["sent"] == {"-1": 0, "7": 1, "15": 0, "30": 0}
    assert _logs(instrument) == [(instrument.next_due_on, 7), (instrument.next_due_on, 30)]
    # Overdue later: the overdue notice, once.
    assert run(TODAY + timedelta(days=25))["sent"]["-1"] == 1
    assert run(TODAY + timedelta(days=26))["instruments"] == 0


@pytest.mark.django_db
def test_an_instrument_first_seen_ten_days_before_gets_the_15_day_reminder_only(make, run):
    instrument = make(10)
    run()
    assert _logs(instrument) == [(instrument.next_due_on, 15)]


@pytest.mark.django_db
def test_a_new_due_date_starts_the_stages_again(make, run):
    instrument = make(-2)
    run()
    Instrument.objects.filter(pk=instrument.pk).update(next_due_on=TODAY + timedelta(days=25))
    assert run()["sent"]["30"] == 1
    assert _logs(instrument) == [(TODAY - timedelta(days=2), -1), (TODAY + timedelta(days=25), 30)]


@pytest.mark.django_db
def test_a_reminder_written_by_another_run_is_not_counted_as_ours(make, run, monkeypatch):
    """Two runs at once (PostgreSQL, read committed): both select the instrument, the other
    run's row wins the unique constraint; this run must not count it nor notify about it."""
    instrument = make(20)
    real = reminders.select_due

    def racing(today, stages, **kwargs):
        for stage, rows in real(today, stages, **kwargs):
            ReminderLog.objects.create(
                instrument=instrument,
                due_on=instrument.next_due_on,
                stage=30,
                sent_at=timezone.now() - timedelta(hours=1),
                channels="notice",
            )
            yield stage, rows

    monkeypatch.setattr(reminders, "select_due", racing)
    result = run()
    assert result["instruments"] == 0 and result["notices"] == 0 and not Notice.objects.exists()
    assert ReminderLog.objects.count() == 1


# --- Notices, emails and the audit record ----------------------------------------------------


@pytest.mark.django_db
def test_one_notice_per_organisation_and_stage(world, make, run, monkeypatch):
    monkeypatch.setattr(reminders, "NAMED_IN_NOTICE", 2)
    soon = [make(20), make(25), make(18)]
    overdue = make(-5)
    other = make(3, org=world.ent_xincheng)
    result = run()
    assert result["notices"] == 3 and result["organizations"] == 2
    by_key = {(n.organization_id, n.key): n for n in Notice.objects.all()}
    assert set(by_key) == {
        (world.ent_kundulun.pk, "due:2026-11-22:30"),
        (world.ent_kundulun.pk, "due:2026-11-22:-1"),
        (world.ent_xincheng.pk, "due:2026-11-22:7"),
    }
    notice = by_key[(world.ent_kundulun.pk, "due:2026-11-22:30")]
    assert notice.kind == "due_reminder" and notice.read_at is None
    assert notice.link == "/metrology/due/?colour=amber"
    assert "3" in notice.title
    # The two most urgent are named (earliest due first), then "等 1 台" / "and 1 more".
    lines = notice.body.splitlines()
    assert len(lines) == 3
    assert soon[2].factory_number in lines[0] and soon[0].factory_number in lines[1]
    assert "1" in lines[2] and soon[1].factory_number not in notice.body
    assert overdue.factory_number in by_key[(world.ent_kundulun.pk, "due:2026-11-22:-1")].body
    assert by_key[(world.ent_kundulun.pk, "due:2026-11-22:-1")].link.endswith("colour=red")
    assert other.factory_number in by_key[(world.ent_xincheng.pk, "due:2026-11-22:7")].body


@pytest.mark.django_db
def test_a_later_run_the_same_day_gets_its_own_notice(world, make, run):
    make(20)
    run()
    make(21)  # e.g. imported in the afternoon
    result = run()
    assert result["instruments"] == 1 and result["notices"] == 1
    keys = sorted(Notice.objects.values_list("key", flat=True))
    assert keys[0] == "due:2026-11-22:30" and keys[1].startswith("due:2026-11-22:30:")


@pytest.mark.django_db
def test_emails_go_to_the_contacts_and_members_of_each_organisation(world, make, run):
    world.users["ent_manager"].email = "Manager@Example.com"
    world.users["ent_manager"].save()
    world.users["ent_clerk"].email = "clerk@example.com"
    world.users["ent_clerk"].is_active = False  # a deactivated account gets nothing
    world.users["ent_clerk"].save()
    OrganizationContact.objects.create(organization=world.ent_kundulun, name="李四", email="contact@example.com")
    OrganizationContact.objects.create(organization=world.ent_kundulun, name="王五", email="manager@example.com")
    OrganizationContact.objects.create(organization=world.ent_kundulun, name="无邮箱")
    make(20), make(-1)
    no_address = make(5, org=world.ent_xincheng)
    result = run()
    assert result["emails"] == 1 and len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["contact@example.com", "manager@example.com"]
    assert world.ent_kundulun.name in message.subject
    # Both stages in the one email, and the link to the list.
    assert message.body.count("F-") == 2 and "/metrology/due/" in message.body
    assert set(ReminderLog.objects.exclude(instrument=no_address).values_list("channels", flat=True)) == {
        "notice,email"
    }
    assert ReminderLog.objects.get(instrument=no_address).channels == "notice"


@pytest.mark.django_db
def test_a_mail_server_failure_leaves_the_reminders_and_notices(world, make, run, settings, monkeypatch):
    world.users["ent_manager"].email = "manager@example.com"
    world.users["ent_manager"].save()
    make(20)

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(reminders, "send_mass_mail", broken)
    result = run()
    assert result["instruments"] == 1 and Notice.objects.count() == 1 and ReminderLog.objects.count() == 1


@pytest.mark.django_db
def test_a_run_writes_one_audit_record_with_its_counts(make, run):
    make(20), make(-1)
    run()
    run()
    first, second = AuditEvent.objects.filter(action="reminder.run").order_by("seq")
    assert first.outcome == "success" and first.actor is None
    assert first.details["date"] == "2026-11-22" and first.details["instruments"] == 2
    assert first.details["sent"] == {"-1": 1, "7": 0, "15": 0, "30": 1}
    assert first.details["notices"] == 2 and first.details["organizations"] == 1
    assert second.details["instruments"] == 0


# --- Task and command --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_task_runs_the_service_in_its_own_task_context(make, django_capture_on_commit_callbacks):
    make(20)
    with django_capture_on_commit_callbacks(execute=True):
        result = reminder_task.enqueue(TODAY.isoformat())
    assert result.return_value["instruments"] == 1
    event = AuditEvent.objects.get(action="reminder.run")
    assert event.channel == "task" and event.request_id


@pytest.mark.django_db
def test_the_command_runs_the_service(make):
    make(20)
    out = StringIO()
    call_command("send_due_reminders", "--date", TODAY.isoformat(), stdout=out)
    assert "2026-11-22: 1 reminders" in out.getvalue()
    out = StringIO()
    call_command("send_due_reminders", "--date", TODAY.isoformat(), "--json", stdout=out)
    assert '"instruments": 0' in out.getvalue()


# --- Colours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "mandatory", "colour"),
    [
        (TODAY - timedelta(days=1), True, "red"),
        (TODAY, True, "amber"),
        (TODAY + timedelta(days=30), True, "amber"),
        (TODAY + timedelta(days=31), True, "green"),
        (TODAY - timedelta(days=1), False, "green"),
        (None, True, "grey"),
        (None, False, "green"),
    ],
)
def test_due_status(due, mandatory, colour):
    assert due_status(due, TODAY, is_mandatory=mandatory) == colour


# --- Lists ----------------------------------------------------------------------------------


@pytest.fixture
def ledger(world, make, monkeypatch):
    """A kundulun enterprise with one instrument of each colour (and two that are not on the
    list), and one overdue instrument in 新城区; the lists' today is TODAY."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    return {
        "red": make(-3),
        "amber": make(10),
        "green": make(90),
        "grey": make(None),
        "scrapped": make(-3, status=Instrument.Status.SCRAPPED),
        "not_mandatory": make(-3, is_mandatory=False, use_field="other"),
        "xincheng": make(-10, org=world.ent_xincheng),
    }


def _rows(response) -> list[tuple[int, str]]:
    import re

    return [
        (int(pk), colour)
        for pk, colour in re.findall(r'<tr data-id="(\d+)" data-colour="(\w+)">', response.content.decode())
    ]


@pytest.mark.django_db
def test_the_enterprise_list_shows_its_mandatory_instruments_by_urgency_with_colours(world, ledger, web, monkeypatch):
    response = web(world.users["ent_manager"]).get("/metrology/due/")
    assert response.status_code == 200
    assert _rows(response) == [
        (ledger["red"].pk, "red"),
        (ledger["amber"].pk, "amber"),
        (ledger["green"].pk, "green"),
        (ledger["grey"].pk, "grey"),
    ]
    html = response.content.decode()
    for colour, count in {"red": 1, "amber": 1, "green": 1, "grey": 1}.items():
        assert f'data-colour="{colour}" data-count="{count}"' in html
    red = web(world.users["ent_manager"]).get("/metrology/due/?colour=red")
    assert _rows(red) == [(ledger["red"].pk, "red")]
    # The counts stay those of all colours, so each chip says what a click shows.
    assert 'data-colour="green" data-count="1"' in red.content.decode()
    assert not AuditEvent.objects.filter(action="data.query").exists()  # enterprises' reads are not recorded


@pytest.mark.django_db
def test_the_list_filters_by_catalogue_item_and_use_field(world, ledger, web, monkeypatch, scale):
    client = web(world.users["ent_clerk"])
    assert len(_rows(client.get(f"/metrology/due/?catalogue_item={scale.code}"))) == 4
    assert _rows(client.get("/metrology/due/?catalogue_item=99.99")) == []
    assert len(_rows(client.get("/metrology/due/?use_field=trade"))) == 4
    assert _rows(client.get("/metrology/due/?use_field=medical")) == []


@pytest.mark.django_db
def test_regulators_see_their_jurisdiction_and_their_reads_are_recorded(world, ledger, web, monkeypatch):
    baotou = _rows(web(world.users["baotou"]).get("/metrology/due/"))
    assert [pk for pk, _c in baotou] == [ledger[k].pk for k in ("red", "amber", "green", "grey")]
    region = _rows(web(world.users["region"]).get("/metrology/due/?colour=red"))
    assert [pk for pk, _c in region] == [ledger["xincheng"].pk, ledger["red"].pk]  # most overdue first
    by_division = _rows(web(world.users["region"]).get("/metrology/due/?division=150102"))
    assert [pk for pk, _c in by_division] == [ledger["xincheng"].pk]
    assert _rows(web(world.users["qingshan"]).get("/metrology/due/")) == []
    event = AuditEvent.objects.filter(action="data.query", actor=world.users["region"]).order_by("seq").first()
    assert event.details["params"] == {"colour": "red"} and event.details["count"] == 2


@pytest.mark.django_db
def test_others_have_no_due_list(world, ledger, web):
    for username in ("inst", "sysadmin", "auditor"):
        assert web(world.users[username]).get("/metrology/due/").status_code == 403
        assert web(world.users[username]).get("/metrology/due/export.xlsx").status_code == 403


@pytest.mark.django_db
def test_the_list_page_query_count_does_not_grow_with_rows(world, make, web, django_assert_max_num_queries):
    client = web(world.users["ent_manager"])
    client.get("/metrology/due/")  # warm the session and caches
    for days in range(-20, 40, 2):
        make(days)
    with django_assert_max_num_queries(14):
        assert client.get("/metrology/due/").status_code == 200


@pytest.mark.django_db
def test_export_has_the_colour_as_a_word_and_the_due_date(world, ledger, web, monkeypatch):
    response = _en(web(world.users["kundulun"])).get("/metrology/due/export.xlsx")
    assert response.status_code == 200
    rows = export_sheet(response)
    assert rows[0][:3] == ("Due status", "Next verification due", "Days left")
    assert [(r[0], r[1].date() if r[1] else None, r[2], r[3]) for r in rows[1:]] == [
        ("Red", TODAY - timedelta(days=3), -3, ledger["red"].platform_code),
        ("Amber", TODAY + timedelta(days=10), 10, ledger["amber"].platform_code),
        ("Green", TODAY + timedelta(days=90), 90, ledger["green"].platform_code),
        ("Grey", None, None, ledger["grey"].platform_code),
    ]
    event = AuditEvent.objects.get(action="data.export")
    assert event.details["count"] == 4 and event.actor == world.users["kundulun"]


# --- API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lists_due_instruments_by_colour_scoped(world, ledger, api, monkeypatch):
    body = api(world.users["ent_manager"]).get("/api/v1/due-instruments/?colour=red").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["id"], row["colour"], row["days_left"], row["next_due_on"]) == (
        ledger["red"].pk,
        DueColour.RED,
        -3,
        "2026-11-19",
    )
    assert row["organization"]["id"] == world.ent_kundulun.pk and row["catalogue_item"]["code"]
    every = api(world.users["ent_manager"]).get("/api/v1/due-instruments/").json()
    assert [r["colour"] for r in every["results"]] == ["red", "amber", "green", "grey"]
    region = api(world.users["region"]).get("/api/v1/due-instruments/?colour=red").json()
    assert [r["id"] for r in region["results"]] == [ledger["xincheng"].pk, ledger["red"].pk]
    assert AuditEvent.objects.filter(action="data.query", actor=world.users["region"]).count() == 1
    assert api(world.users["qingshan"]).get("/api/v1/due-instruments/").json()["count"] == 0
    assert api(world.users["inst"]).get("/api/v1/due-instruments/").json()["count"] == 0
    bad = api(world.users["ent_manager"]).get("/api/v1/due-instruments/?colour=purple")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_api_query_count_does_not_grow_with_rows(world, make, api, django_assert_max_num_queries):
    client = api(world.users["ent_manager"])
    for days in range(-20, 40, 2):
        make(days)
    with django_assert_max_num_queries(12):  # session, user, membership, device, policy x2, count, page, session save
        assert client.get("/api/v1/due-instruments/").json()["count"] == 30
