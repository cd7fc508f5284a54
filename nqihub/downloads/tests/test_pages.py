# ruff: noqa: F811 - fixtures imported from the metrology tests are used as arguments
"""The pages of background exports: a list page whose search finds more than one download
holds offers "export all in the background"; the export made from it holds exactly the rows
the direct export of the same search holds (ledger, due list and filed instruments, for an
enterprise and a regulator); /downloads/ lists one's own exports only, and nobody else
reaches another person's file; the download is recorded; the user menu links to the page."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.downloads.models import ExportJob
from nqihub.metrology import selectors
from nqihub.organizations.models import Membership
from nqihub.organizations.services import membership_revoke

from .conftest import make, scale, sheets  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

LISTS = {
    "ledger": ("/metrology/instruments/", "/metrology/instruments/export.xlsx", "metrology.instruments"),
    "due": ("/metrology/due/", "/metrology/due/export.xlsx", "metrology.due"),
    "filed": (
        "/metrology/filed-instruments/",
        "/metrology/filed-instruments/export.xlsx",
        "metrology.filed_instruments",
    ),
}


def _en(client):
    client.cookies["nqi_language"] = "en"
    return client


def _background_form(page: str) -> dict[str, str] | None:
    """The hidden fields of the page's "export all in the background" form, as a browser
    would post them; None when the page has no such form."""
    form = re.search(r'<form[^>]*data-testid="export-background".*?</form>', page, re.S)
    if form is None:
        return None
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))
    return {name: html.unescape(value) for name, value in fields.items() if name in ("kind", "query")}


def _download(client, job) -> bytes:
    response = client.get(f"/downloads/{job.pk}/file/")
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("which", sorted(LISTS))
@pytest.mark.parametrize("role", ["ent_manager", "baotou"])
def test_the_background_export_of_a_search_has_the_rows_of_its_direct_export(
    world, web, make, monkeypatch, django_capture_on_commit_callbacks, which, role
):
    for days in (-5, 10, 90):
        make(days, filed=True)
    make(20, filed=True, name="=SUM(A1:A9)")  # escaped against formula injection, in both
    make(30, filed=True, use_field="other", is_mandatory=False)  # outside the search
    make(15, org=world.ent_xincheng, filed=True)  # outside both people's view
    list_url, export_url, kind = LISTS[which]
    user = world.users[role]
    client = _en(web(user))
    search = {"use_field": "trade", "page": "1"}
    monkeypatch.setattr(selectors, "EXPORT_LIMIT", 2)

    page = client.get(list_url, search).content.decode()
    assert "Export the first 2 of 4 instruments" in page
    assert "Export all 4 instruments in the background" in page
    form = _background_form(page)
    assert form == {"kind": kind, "query": "use_field=trade"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/downloads/start/", form)
    assert response.status_code == 302 and response["Location"] == "/downloads/"

    job = ExportJob.objects.get(created_by=user)
    assert (job.kind, job.state, job.rows_written, job.total_rows) == (kind, ExportJob.State.DONE, 4, 4)
    assert job.params == {"use_field": "trade"} and len(job.sha256) == 64
    listing = client.get("/downloads/").content.decode()
    assert f'<tr data-id="{job.pk}">' in listing and f'href="/downloads/{job.pk}/file/"' in listing
    background = sheets(_download(client, job))

    monkeypatch.setattr(selectors, "EXPORT_LIMIT", 100)  # the direct export of the same search, whole
    direct = sheets(client.get(export_url, {"use_field": "trade"}).content)
    assert background == direct
    rows = next(iter(direct.values()))
    assert len(rows) == 1 + 4
    assert any("'=SUM(A1:A9)" in row for row in rows)

    requested = AuditEvent.objects.get(action="data.export_requested", actor=user)
    assert requested.details == {"job_id": job.pk, "kind": kind, "params": {"use_field": "trade"}}
    made = AuditEvent.objects.filter(action="data.export", actor=user).order_by("seq").first()
    assert made.details == {
        "kind": "export",
        "params": {"use_field": "trade"},
        "count": 4,
        "job_id": job.pk,
        "background": True,
    }
    assert made.target_type == "metrology.instrument" and made.channel == "task" and made.outcome == "success"
    assert made.request_id == requested.request_id  # the task's record is tied to the click
    assert made.organization_id_snapshot == requested.organization_id_snapshot is not None
    downloaded = AuditEvent.objects.get(action="data.export_download", actor=user)
    assert downloaded.details == {"job_id": job.pk, "kind": kind, "count": 4, "sha256": job.sha256}


@pytest.mark.parametrize("which", sorted(LISTS))
def test_below_the_limit_there_is_only_the_direct_download(world, web, make, which):
    make(10, filed=True)
    page = _en(web(world.users["ent_manager"])).get(LISTS[which][0]).content.decode()
    assert _background_form(page) is None and "Export all" not in page
    assert f'href="{LISTS[which][1]}?' in page


def test_the_file_has_the_chinese_title_as_its_name(world, web, make, django_capture_on_commit_callbacks):
    make(10)
    client = web(world.users["ent_manager"])  # Chinese, the default
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/downloads/start/", {"kind": "metrology.instruments", "query": ""})
    job = ExportJob.objects.get()
    assert job.title == "计量器具台账"
    response = client.get(f"/downloads/{job.pk}/file/")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ") and f"filename*=UTF-8''{quote('计量器具台账-')}" in disposition
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert list(sheets(b"".join(response.streaming_content))) == ["计量器具台账"]


def test_nobody_else_sees_or_downloads_a_persons_export(world, web, make, start):
    make(10)
    owner = world.users["ent_manager"]
    job = start(owner)
    assert job.state == ExportJob.State.DONE
    # A colleague of the same enterprise, another enterprise, the regulator over it, staff.
    for other in ("ent_clerk", "ent_other", "kundulun", "baotou", "auditor", "sysadmin"):
        client = web(world.users[other])
        assert f'data-id="{job.pk}"' not in client.get("/downloads/").content.decode(), other
        assert client.get(f"/downloads/{job.pk}/file/").status_code == 404, other
    assert not AuditEvent.objects.filter(action="data.export_download").exists()
    client = web(owner)
    assert f'data-id="{job.pk}"' in client.get("/downloads/").content.decode()
    assert client.get(f"/downloads/{job.pk}/file/").status_code == 200


def test_a_person_who_left_the_organisation_no_longer_downloads_its_export(world, web, make, start):
    make(10)
    owner = world.users["ent_clerk"]
    job = start(owner)
    membership_revoke(
        actor=world.users["secadmin"], membership=Membership.objects.get(user=owner, organization=world.ent_kundulun)
    )
    client = _en(web(owner))
    page = client.get("/downloads/").content.decode()
    assert f'data-id="{job.pk}"' in page and "you no longer act for this organisation" in page
    assert client.get(f"/downloads/{job.pk}/file/").status_code == 404


def test_a_refused_start_says_why_and_makes_nothing(world, web):
    client = _en(web(world.users["inst"]))  # an institution exports no instruments
    response = client.post("/downloads/start/", {"kind": "metrology.instruments", "query": ""}, follow=True)
    assert "You may not export this list." in response.content.decode()
    response = _en(web(world.users["ent_manager"])).post(
        "/downloads/start/", {"kind": "no.such.export", "query": ""}, follow=True
    )
    assert "There is no such export." in response.content.decode()
    assert not ExportJob.objects.exists()
    assert web(world.users["ent_manager"]).get("/downloads/start/").status_code == 405


def test_the_user_menu_links_to_the_downloads_page(world, web):
    client = web(world.users["ent_manager"])
    assert 'href="/downloads/"' in client.get("/downloads/").content.decode()
    assert 'href="/downloads/"' in client.get("/metrology/instruments/").content.decode()


def test_the_page_shows_how_far_an_export_has_got_and_refreshes_itself(world, web):
    owner = world.users["ent_manager"]
    job = ExportJob.objects.create(
        created_by=owner, organization=world.ent_kundulun, kind="metrology.instruments", title="Instrument ledger"
    )
    client = _en(web(owner))
    page = client.get("/downloads/").content.decode()
    assert "Waiting to start" in page and 'http-equiv="refresh"' in page
    # A worker is on it (the state moves only by transitions: set here as the worker would).
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, total_rows=2_000, rows_written=500)
    page = client.get("/downloads/").content.decode()
    assert '<progress max="100" value="25">' in page and "500 of 2,000 written" in page
    assert f'href="/downloads/{job.pk}/file/"' not in page
    assert client.get(f"/downloads/{job.pk}/file/").status_code == 404  # not ready yet
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.FAILED, error="Something went wrong.")
    page = client.get("/downloads/").content.decode()
    assert "Something went wrong." in page and 'http-equiv="refresh"' not in page
