"""The API after the result: the same services as the pages, permission before body, scoped
lists, and every answer checked against the committed schema (by the project's conftest)."""

from __future__ import annotations

import datetime

import pytest

from nqihub.cases.models import CaseDeadline
from nqihub.sampling.models import Disposal, Objection, SamplingRecord
from nqihub.sampling.services import aftermath as services

from .aftermath_setup import record_at_result

DAY = datetime.timedelta(days=1)


@pytest.fixture
def record(world, sampling):
    return record_at_result(world, sampling, failing=(2,))


def _url(kind, pk=None, verb=None):
    url = f"/api/v1/sampling-{kind}/"
    if pk is not None:
        url += f"{pk}/"
    if verb:
        url += f"{verb}/"
    return url


def test_notify_objection_accept_and_retest_through_the_api(world, sampling, api, record):
    organiser = api(world.users["baotou"])
    response = organiser.post(_url("outcomes", record.pk, "notify"))
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "notified"
    assert [d["code"] for d in response.json()["deadlines"]] == ["objection"]

    party = api(world.users["ent_clerk"])
    created = party.post(
        _url("objections"),
        {"record": record.pk, "reason": "复检", "disputed_items": [sampling.test_items[1].pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    objection = created.json()["id"]
    assert created.json()["state"] == "submitted"

    first = organiser.post(_url("objections", objection, "accept"), {"institution": sampling.institution.pk})
    assert first.status_code == 400 and first.json()["code"] == "retest_same_institution"
    accepted = organiser.post(_url("objections", objection, "accept"), {"institution": sampling.retest_institution.pk})
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"

    rows = {"rows": [{"test_item": sampling.test_items[1].pk, "value": "300000"}]}
    assert (
        api(world.users["inst"]).post(_url("objections", objection, "retest"), rows, format="json").status_code == 403
    )
    done = api(sampling.users["retest"]).post(_url("objections", objection, "retest"), rows, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["conclusion"] == "fail" and done.json()["retest_agrees"] is True

    result = organiser.get(_url("outcomes", record.pk)).json()
    assert result["final_conclusion"] == "fail" and result["disposal"]["state"] == "ordered"
    assert {d["code"] for d in result["deadlines"]} == {"correction", "recheck"}


def test_permission_before_body(world, sampling, api, record):
    services.record_notify(actor=world.users["baotou"], record=record)
    # Another enterprise with a malformed body: 404, not 400.
    other = api(world.users["ent_other"]).post(_url("objections"), {"record": record.pk}, format="json")
    assert other.status_code == 404
    # The party itself with a malformed body: 400.
    bad = api(world.users["ent_manager"]).post(_url("objections"), {"record": record.pk}, format="json")
    assert bad.status_code == 400
    assert not Objection.objects.exists()
    # A regulator who did not organise the batch may not notify or finalize.
    assert api(world.users["kundulun"]).post(_url("outcomes", record.pk, "finalize")).status_code == 403
    assert api(world.users["xincheng"]).post(_url("outcomes", record.pk, "finalize")).status_code == 404


def test_objection_after_the_period_through_the_api(world, sampling, api, record):
    services.record_notify(actor=world.users["baotou"], record=record)
    CaseDeadline.objects.filter(case_id=record.case_id, code="objection").update(
        due_at=record.case.opened_at - DAY, started_at=record.case.opened_at - 20 * DAY
    )
    late = api(world.users["ent_manager"]).post(
        _url("objections"),
        {"record": record.pk, "reason": "x", "disputed_items": [sampling.test_items[1].pk]},
        format="json",
    )
    assert late.status_code == 409 and late.json()["code"] == "objection_period_over"


def test_disposal_through_the_api(world, sampling, api, record):
    organiser = world.users["baotou"]
    services.record_notify(actor=organiser, record=record)
    CaseDeadline.objects.filter(case_id=record.case_id, code="objection").update(
        due_at=record.case.opened_at - DAY, started_at=record.case.opened_at - 20 * DAY
    )
    assert api(organiser).post(_url("outcomes", record.pk, "finalize")).status_code == 200
    disposal = Disposal.objects.get(record=record)
    enterprise = api(world.users["ent_manager"])
    assert enterprise.get(_url("disposals")).json()["count"] == 1
    assert api(world.users["ent_other"]).get(_url("disposals")).json()["count"] == 0
    assert api(world.users["xincheng"]).get(_url("disposals", disposal.pk)).status_code == 404
    corrected = enterprise.post(_url("disposals", disposal.pk, "correction"), {"report": "更换原料"})
    assert corrected.status_code == 200 and corrected.json()["state"] == "corrected"
    assert enterprise.post(_url("disposals", disposal.pk, "recheck"), {"passed": True}).status_code == 403
    failed = api(organiser).post(
        _url("disposals", disposal.pk, "recheck"), {"passed": False, "announcement": "公告"}, format="json"
    )
    assert failed.status_code == 200 and failed.json()["state"] == "announced"
    early = api(organiser).post(_url("disposals", disposal.pk, "second-recheck"), {"passed": True}, format="json")
    assert early.status_code == 409 and early.json()["code"] == "second_recheck_too_early"


def test_results_list_is_scoped_and_filters_overdue(world, sampling, api):
    organiser = world.users["baotou"]
    late = record_at_result(world, sampling, "kundulun", failing=(2,))
    soon = record_at_result(world, sampling, "qingshan")
    for r in (late, soon):
        services.record_notify(actor=organiser, record=r)
    CaseDeadline.objects.filter(case_id=late.case_id).update(due_at=late.case.opened_at - DAY)
    city = api(world.users["baotou"]).get(_url("outcomes")).json()
    assert [row["id"] for row in city["results"]] == [late.pk, soon.pk]  # soonest deadline first
    overdue = api(world.users["baotou"]).get(_url("outcomes") + "?overdue=true").json()
    assert [row["id"] for row in overdue["results"]] == [late.pk]
    assert [row["id"] for row in api(world.users["qingshan"]).get(_url("outcomes")).json()["results"]] == [soon.pk]
    assert api(world.users["xincheng"]).get(_url("outcomes")).json()["count"] == 0
    assert api(world.users["ent_other"]).get(_url("outcomes")).json()["count"] == 0
    assert [row["id"] for row in api(world.users["ent_manager"]).get(_url("outcomes")).json()["results"]] == [late.pk]
    # A tested record (no countdown yet) is listed after those with one.
    tested = record_at_result(world, sampling, "more1")
    rows = api(world.users["baotou"]).get(_url("outcomes")).json()["results"]
    assert [row["id"] for row in rows] == [late.pk, soon.pk, tested.pk]
    # Before the test the record is not listed here.
    SamplingRecord.objects.filter(pk=tested.pk).update(stage=SamplingRecord.Stage.RECEIVED)
    assert api(world.users["baotou"]).get(_url("outcomes")).json()["count"] == 2


def test_anonymous_gets_nothing(client, record):
    assert client.get(_url("outcomes")).status_code in (401, 403)
    assert client.post(_url("outcomes", record.pk, "notify")).status_code in (401, 403)
