# ruff: noqa: F811 - fixtures imported from the metrology tests are used as arguments
"""Background exports (``nqihub.downloads.services``): more rows than a sheet holds go on
further sheets; the search is re-applied in the task with the person's permissions at that
time (a regulator exports their jurisdiction only, whatever the search says; what is no
longer visible, or a person who left, exports nothing); failures leave a failed job with a
clear message, logged and recorded; refusals at the start change nothing and are recorded;
files go after the retention period, the job stays."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.utils import timezone, translation

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Conflict, Forbidden, InvalidInput
from nqihub.core.files import clean_stored_files
from nqihub.downloads import registry, services
from nqihub.downloads.models import ExportJob
from nqihub.downloads.services import export_start
from nqihub.metrology.models import Instrument
from nqihub.organizations.models import Membership
from nqihub.organizations.services import membership_revoke

from .conftest import make, scale, sheets, stored  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _codes(job: ExportJob) -> set[str]:
    """The platform codes (first column of the ledger export) in the job's file."""
    return {row[0] for rows in sheets(stored(job)).values() for row in rows[1:]}


# --- Sheets ------------------------------------------------------------------------------------


def test_more_rows_than_a_sheet_holds_go_on_further_sheets_with_the_headers(world, make, start, monkeypatch, caplog):
    for days in range(12):
        make(days)
    owner = world.users["ent_manager"]
    whole = start(owner)
    monkeypatch.setattr(services, "ROWS_PER_SHEET", 5)
    monkeypatch.setattr(services, "PROGRESS_EVERY", 4)
    with caplog.at_level(logging.WARNING, logger="nqihub.downloads"):
        split = start(owner)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []  # a clean run logs no problem

    assert (split.state, split.rows_written, split.total_rows) == (ExportJob.State.DONE, 12, 12)
    parts = sheets(stored(split))
    assert list(parts) == [split.title, f"{split.title} (2)", f"{split.title} (3)"]
    [single] = sheets(stored(whole)).values()
    headers = single[0]
    assert [len(rows) for rows in parts.values()] == [1 + 5, 1 + 5, 1 + 2]
    assert all(rows[0] == headers for rows in parts.values())
    # The same rows in the same order as in one sheet.
    assert [row for rows in parts.values() for row in rows[1:]] == single[1:]
    assert AuditEvent.objects.filter(action="data.export", actor=owner).last().details["count"] == 12


def test_the_file_says_what_was_exported_above_the_header(world, make, start):
    from .conftest import search_lines

    make(10)
    with translation.override("zh-hans"):
        job = start(world.users["ent_manager"], params={"status": "in_use", "q": ""})
    lines = search_lines(stored(job))
    assert lines[0] == ("清单", job.title)
    assert lines[1] == ("查询条件", "使用状态: 在用")  # the filter's label and value, as on the page
    assert lines[2][0] == "生成时间"
    assert len(sheets(stored(job))[job.title]) == 2  # the header and the one instrument


def test_sheet_names_fit_excel():
    assert services.sheet_title("计量器具台账", 1) == "计量器具台账"
    long = "Instruments due for verification"  # 32 characters
    assert services.sheet_title(long, 1) == long[:31]
    assert services.sheet_title(long, 12) == long[:26] + " (12)" and len(services.sheet_title(long, 12)) == 31
    assert services.sheet_title("a/b:c[d]*?", 2) == "a b c d (2)"


# --- Scoping -----------------------------------------------------------------------------------


def test_a_regulators_export_holds_their_jurisdiction_only(world, make, start):
    kundulun = [make(10), make(20)]
    qingshan = make(10, org=world.ent_qingshan)
    xincheng = make(10, org=world.ent_xincheng)
    code = lambda *instruments: {i.platform_code for i in instruments}  # noqa: E731

    assert _codes(start(world.users["kundulun"])) == code(*kundulun)
    assert _codes(start(world.users["baotou"])) == code(*kundulun, qingshan)
    assert _codes(start(world.users["region"])) == code(*kundulun, qingshan, xincheng)
    # A search naming a division outside the jurisdiction narrows to nothing: it never widens.
    outside = start(world.users["kundulun"], params={"division": "150102"})
    assert outside.state == ExportJob.State.DONE and outside.rows_written == 0 and _codes(outside) == set()
    # An enterprise exports its own ledger, whatever it asks for.
    assert _codes(start(world.users["ent_other"], params={"division": "150203"})) == code(xincheng)


def test_what_left_the_jurisdiction_between_start_and_run_is_not_exported(
    world, make, django_capture_on_commit_callbacks
):
    stays, moves = make(10), make(20)
    regulator = world.users["kundulun"]
    with django_capture_on_commit_callbacks() as queued:
        job = export_start(actor=regulator, kind="metrology.instruments", params={})
    assert len(queued) == 1 and ExportJob.objects.get(pk=job.pk).state == ExportJob.State.QUEUED
    # The instrument goes to 青山区 (its enterprise moved) before a worker takes the job.
    Instrument.objects.filter(pk=moves.pk).update(division_id="150204")
    queued[0]()
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE and job.rows_written == 1
    assert _codes(job) == {stays.platform_code}
    assert AuditEvent.objects.filter(action="data.export", actor=regulator).last().details["count"] == 1


def test_a_person_who_left_between_start_and_run_exports_nothing(world, make, django_capture_on_commit_callbacks):
    make(10)
    regulator = world.users["baotou"]
    with django_capture_on_commit_callbacks() as queued:
        job = export_start(actor=regulator, kind="metrology.due", params={})
    membership_revoke(
        actor=world.users["secadmin"], membership=Membership.objects.get(user=regulator, organization=world.baotou_reg)
    )
    with translation.override("en"):
        queued[0]()
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED and not job.file and job.rows_written == 0
    assert job.error == "您已不再代表包头市市场监督管理局，未导出任何数据。"  # in the requester's language
    assert not AuditEvent.objects.filter(action="data.export", actor=regulator, outcome="success").exists()
    failed = AuditEvent.objects.get(action="data.export", actor=regulator, outcome="failure")
    assert failed.details["code"] == "membership_ended" and failed.details["job_id"] == job.pk


def test_the_job_acts_for_the_organisation_it_was_asked_for(world, make, start):
    """A person of two organisations who switches after asking still gets the first one's list."""
    from nqihub.core.access import resolve_acting_membership, set_acting_membership
    from nqihub.testing.factories import MembershipFactory

    mine = make(10)
    theirs = make(10, org=world.ent_xincheng)
    person = world.users["ent_clerk"]
    MembershipFactory(user=person, organization=world.ent_xincheng)
    set_acting_membership(person, resolve_acting_membership(person, world.ent_kundulun.pk))
    first = start(person)
    set_acting_membership(person, resolve_acting_membership(person, world.ent_xincheng.pk))
    second = start(person)
    assert (_codes(first), _codes(second)) == ({mine.platform_code}, {theirs.platform_code})
    assert (first.organization, second.organization) == (world.ent_kundulun, world.ent_xincheng)


# --- Failures and refusals -----------------------------------------------------------------------


@pytest.fixture
def broken_kind():
    """An export whose rows break after a few: the job must fail cleanly."""

    def build(user, params):
        def rows():
            yield ["ok"]
            raise RuntimeError("the database went away")

        return ["Column"], rows()

    registry.register_export("test.broken", "Broken", build)
    yield "test.broken"
    registry._registry.pop("test.broken", None)


def test_an_export_that_breaks_fails_with_a_clear_message_logged_and_recorded(world, start, broken_kind, caplog):
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    owner = world.users["ent_manager"]
    temporary = list(ALL_TEMP_FILES)
    with caplog.at_level(logging.ERROR, logger="nqihub.downloads.services"), translation.override("en"):
        job = start(owner, kind=broken_kind)
    assert ALL_TEMP_FILES == temporary  # openpyxl's temporary sheet files are gone too
    assert job.state == ExportJob.State.FAILED and not job.file and job.finished_at is not None
    assert job.error.startswith("An internal error stopped the export; no file was made.")
    [record] = [r for r in caplog.records if "stopped by an internal error" in r.getMessage()]
    assert record.exc_info and "the database went away" in str(record.exc_info[1])
    failed = AuditEvent.objects.get(action="data.export", actor=owner)
    assert failed.outcome == "failure" and failed.details["code"] == "internal_error"
    assert failed.details["background"] is True and failed.details["count"] == 0
    # Nothing was left in the storage.
    try:
        left = ExportJob._meta.get_field("file").storage.listdir("downloads/")
    except FileNotFoundError:
        left = ([], [])
    assert left == ([], [])


def test_an_export_no_longer_offered_fails(world, start, broken_kind, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        job = export_start(actor=world.users["ent_manager"], kind=broken_kind, params={})
    registry._registry.pop(broken_kind)
    with translation.override("en"):
        queued[0]()
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    assert job.error == "该导出已不再提供，未导出任何数据。"


def test_a_job_that_cannot_be_queued_is_marked_failed(world, monkeypatch, django_capture_on_commit_callbacks):
    from types import SimpleNamespace

    from nqihub.tables import jobs

    def refuse(*args, **kwargs):
        raise ConnectionError("queue unavailable")

    monkeypatch.setitem(jobs._tasks, ExportJob, SimpleNamespace(enqueue=refuse))
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        job = export_start(actor=world.users["ent_manager"], kind="metrology.instruments", params={})
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED and "未能加入队列" in job.error


def test_a_job_runs_once(world, make, start):
    make(10)
    job = start(world.users["ent_manager"])
    again = services.export_run(job_id=job.pk)
    assert (again.state, again.rows_written, again.file.name) == (ExportJob.State.DONE, 1, job.file.name)
    assert AuditEvent.objects.filter(action="data.export").count() == 1
    assert services.export_run(job_id=10**9) is None


@pytest.mark.parametrize(
    ("who", "kind", "params", "error", "code", "outcome"),
    [
        ("ent_manager", "no.such.export", {}, InvalidInput, "export_unknown", "failure"),
        ("inst", "metrology.instruments", {}, Forbidden, "export_not_allowed", "denied"),
        ("auditor", "metrology.due", {}, Forbidden, "export_not_allowed", "denied"),
        ("ent_manager", "metrology.instruments", {"q": ["a", "b"]}, InvalidInput, "export_params", "failure"),
        ("ent_manager", "metrology.instruments", {"q": "x" * 201}, InvalidInput, "export_params", "failure"),
        ("ent_manager", "metrology.instruments", ["q"], InvalidInput, "export_params", "failure"),
    ],
)
def test_refusals_change_nothing_and_are_recorded(world, who, kind, params, error, code, outcome):
    user = world.users[who]
    with pytest.raises(error) as caught:
        export_start(actor=user, kind=kind, params=params)
    assert caught.value.code == code
    assert not ExportJob.objects.exists()
    refused = AuditEvent.objects.get(action="data.export_requested", actor=user)
    assert refused.outcome == outcome and refused.details["code"] == code


def test_a_person_has_at_most_three_exports_under_way(world):
    user = world.users["ent_manager"]
    for _ in range(services.MAX_OPEN_JOBS):
        ExportJob.objects.create(created_by=user, organization=world.ent_kundulun, kind="metrology.due", title="t")
    with pytest.raises(Conflict) as caught:
        export_start(actor=user, kind="metrology.instruments", params={})
    assert caught.value.code == "export_too_many"
    assert ExportJob.objects.count() == services.MAX_OPEN_JOBS
    # A job a dead worker left behind a day ago stops counting.
    ExportJob.objects.filter(pk=ExportJob.objects.first().pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    export_start(actor=user, kind="metrology.instruments", params={})


def test_the_search_is_kept_as_given_without_the_page(world):
    from django.http import QueryDict

    job = export_start(
        actor=world.users["ent_manager"],
        kind="metrology.instruments",
        params=QueryDict("q=%E7%A7%A4&status=in_use&page=3&csrfmiddlewaretoken=x"),
    )
    assert job.params == {"q": "秤", "status": "in_use"}


# --- Retention -----------------------------------------------------------------------------------


def test_files_go_after_the_retention_period_and_the_jobs_stay(world, web, make, start, settings):
    settings.NQI_EXPORT_RETENTION_DAYS = 7
    make(10)
    owner = world.users["ent_manager"]
    old, recent = start(owner), start(owner)
    now = timezone.now()
    ExportJob.objects.filter(pk=old.pk).update(finished_at=now - datetime.timedelta(days=8))
    ExportJob.objects.filter(pk=recent.pk).update(finished_at=now - datetime.timedelta(days=6))
    storage = ExportJob._meta.get_field("file").storage
    old_name, recent_name = old.file.name, recent.file.name
    assert old_name.startswith("downloads/") and storage.exists(old_name)

    report = clean_stored_files(now=now)
    assert report.retained["export_files"] == 1 and report.orphans == []
    old.refresh_from_db()
    assert not old.file and not storage.exists(old_name)
    assert (old.state, old.rows_written, len(old.sha256)) == (ExportJob.State.DONE, 1, 64)
    assert storage.exists(recent_name)

    client = web(owner)
    client.cookies["nqi_language"] = "en"
    assert client.get(f"/downloads/{old.pk}/file/").status_code == 404
    assert "Deleted after the retention period" in client.get("/downloads/").content.decode()
    assert client.get(f"/downloads/{recent.pk}/file/").status_code == 200
