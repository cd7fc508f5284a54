# ruff: noqa: F811  (pytest fixtures imported from test_documents are used as parameters)
"""Downloads are recorded in the audit trail for everyone, as exports are: a document's PDF, a
sheet of instrument labels and a rejected import's error workbook. The document search
matches document and factory numbers in full (index look-ups, not scans)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.metrology.models import ImportJob, IssuedDocument

from .test_documents import (  # noqa: F401  (fixtures)
    issued,
    make_result,
    other_institution,
    periodic_item,
    signers,
)


def _exports(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="data.export", actor=user).order_by("seq"))


@pytest.mark.parametrize("user", ["ent_manager", "inst", "kundulun"])
def test_every_pdf_download_is_recorded(web, world, issued, user):
    response = web(world.users[user]).get(f"/metrology/documents/{issued.pk}/pdf/")
    assert response.status_code == 200
    [event] = _exports(world.users[user])
    assert event.outcome == "success" and event.target_type == "metrology.issueddocument"
    assert event.details["params"]["id"] == str(issued.pk) and event.details["params"]["number"] == issued.number
    assert event.details["count"] == 1


def test_a_refused_pdf_download_is_not_recorded_as_an_export(web, world, issued, other_institution):
    assert web(world.users["other_inst"]).get(f"/metrology/documents/{issued.pk}/pdf/").status_code == 404
    assert _exports(world.users["other_inst"]) == []


@pytest.mark.parametrize("user", ["ent_manager", "kundulun"])
def test_every_label_sheet_is_recorded(web, world, issued, user):
    response = web(world.users[user]).get("/metrology/instruments/labels.pdf", {"mandatory": "1"})
    assert response.status_code == 200 and response["X-Labels-Count"] == "1"
    [event] = _exports(world.users[user])
    assert event.target_type == "metrology.instrument"
    assert event.details["params"] == {"mandatory": "1"} and event.details["count"] == 1


def test_the_import_errors_workbook_is_recorded(web, world):
    job = ImportJob.objects.create(
        organization=world.ent_kundulun,
        created_by=world.users["ent_manager"],
        filename="台账.xlsx",
        state=ImportJob.State.FAILED,
        errors=[
            {"row": 3, "column": "出厂编号", "message": "必填"},
            {"row": 4, "column": "使用领域", "message": "无效"},
        ],
    )
    response = web(world.users["ent_clerk"]).get(f"/metrology/imports/{job.pk}/errors.xlsx")
    assert response.status_code == 200
    [event] = _exports(world.users["ent_clerk"])
    assert event.target_type == "metrology.importjob"
    assert event.details["params"] == {"id": str(job.pk)} and event.details["count"] == 2
    # Another enterprise's job does not exist for them: nothing handed out, nothing exported.
    assert web(world.users["ent_other"]).get(f"/metrology/imports/{job.pk}/errors.xlsx").status_code == 404
    assert _exports(world.users["ent_other"]) == []


# --- search ------------------------------------------------------------------------------------


def _numbers(client, q) -> set[str]:
    response = client.get("/metrology/documents/", {"q": q})
    assert response.status_code == 200
    html = response.content.decode()
    return {n for n in IssuedDocument.objects.values_list("number", flat=True) if f">{n}</a>" in html}  # listed


def test_search_matches_numbers_in_full(web, world, make_result):
    first = IssuedDocument.objects.get(pk=_issue(world, make_result).pk)
    second = IssuedDocument.objects.get(pk=_issue(world, make_result).pk)
    client = web(world.users["inst"])
    assert _numbers(client, first.number) == {first.number}
    assert _numbers(client, f"  {first.number.lower()} ") == {first.number}  # case and spaces forgiven
    assert _numbers(client, first.number.replace("-", "－")) == {first.number}  # full-width dashes too
    assert _numbers(client, first.number[:-1]) == set()  # no part of a number: exact matches only
    assert _numbers(client, first.instrument.factory_number) == {first.number}
    assert _numbers(client, first.instrument.factory_number.lower()) == {first.number}
    assert _numbers(client, first.instrument.factory_number[:-1]) == set()
    assert _numbers(client, "天和磁材") == {first.number, second.number}  # part of the enterprise's name
    # Scoped as ever: another enterprise finds nothing by number.
    assert _numbers(web(world.users["ent_other"]), first.number) == set()


def test_number_search_uses_institution_and_number(web, world, make_result):
    """The look-up names the institution the number carries, so the unique index on
    (institution, number) serves it; no LIKE on the number or the factory number."""
    doc = _issue(world, make_result)
    client = web(world.users["kundulun"])
    with CaptureQueriesContext(connection) as queries:
        client.get("/metrology/documents/", {"q": doc.number})
    sql = " ".join(q["sql"] for q in queries.captured_queries if "metrology_issueddocument" in q["sql"])
    assert f'"metrology_issueddocument"."institution_id" = {world.institution.pk}' in sql
    assert '"number" LIKE' not in sql and '"factory_number" LIKE' not in sql


def _issue(world, make_result):
    from nqihub.metrology.services.documents import document_issue

    return document_issue(actor=world.users["inst"], result=make_result(verified_on=timezone.localdate()))
