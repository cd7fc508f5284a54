"""The pages after the result: the record's aftermath page (conclusion, countdowns, the forms each
party may use, the law's text after a second failure) and the regulators' list of sampling
deadlines, overdue first; both scoped and recorded, Chinese by default."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from nqihub.audit.models import AuditEvent
from nqihub.cases.models import CaseDeadline
from nqihub.sampling.models import Disposal, Objection, SamplingRecord
from nqihub.sampling.services import aftermath as services

from .aftermath_setup import record_at_result

DAY = datetime.timedelta(days=1)


@pytest.fixture
def record(world, sampling):
    return record_at_result(world, sampling, failing=(2,))


def _page(client, record):
    return client.get(reverse("sampling:aftermath", args=[record.pk]))


def test_the_organiser_notifies_from_the_page(world, web, record):
    client = web(world.users["baotou"])
    page = _page(client, record)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="notify"' in body
    assert "不合格" in body  # Chinese by default
    response = client.post(reverse("sampling:record_notify", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.stage == SamplingRecord.Stage.NOTIFIED
    body = _page(client, record).content.decode()
    assert 'data-testid="deadlines"' in body and 'data-code="objection"' in body
    assert 'data-testid="notify"' not in body


def test_the_party_objects_from_the_page_and_outsiders_see_nothing(world, sampling, web, record):
    services.record_notify(actor=world.users["baotou"], record=record)
    client = web(world.users["ent_manager"])
    body = _page(client, record).content.decode()
    assert 'data-testid="objection-form"' in body
    response = client.post(
        reverse("sampling:objection_submit", args=[record.pk]),
        {"reason": "菌落总数检验方法有误", "disputed_items": [sampling.test_items[1].pk]},
    )
    assert response.status_code == 302
    assert Objection.objects.filter(record=record).exists()
    # Another enterprise, another city's regulator: 404, as for a guessed id.
    assert _page(web(world.users["ent_other"]), record).status_code == 404
    assert _page(web(world.users["xincheng"]), record).status_code == 404
    other = web(world.users["ent_other"]).post(
        reverse("sampling:objection_submit", args=[record.pk]), {"reason": "x", "disputed_items": [1]}
    )
    assert other.status_code == 404


def test_a_refusal_is_shown_as_a_message(world, sampling, web, record):
    services.record_notify(actor=world.users["baotou"], record=record)
    client = web(world.users["ent_manager"])
    response = client.post(reverse("sampling:objection_submit", args=[record.pk]), {"reason": "x"}, follow=True)
    assert "请写明对哪些检验项目的结果有异议" in response.content.decode()


def test_the_anonymous_are_sent_to_sign_in(client, record):
    response = _page(client, record)
    assert response.status_code == 302 and "login" in response["Location"]


def _failed_again(world, record):
    organiser = world.users["baotou"]
    services.record_notify(actor=organiser, record=record)
    CaseDeadline.objects.filter(case_id=record.case_id, code="objection").update(
        due_at=record.case.opened_at - DAY, started_at=record.case.opened_at - 20 * DAY
    )
    services.record_finalize(actor=organiser, record=record)
    disposal = Disposal.objects.get(record=record)
    services.disposal_recheck(actor=organiser, disposal=disposal, passed=False, announcement="复查仍不合格")
    window = CaseDeadline.objects.get(case_id=record.case_id, code="second_recheck", state="open")
    CaseDeadline.objects.filter(pk=window.pk).update(not_before=window.not_before - 61 * DAY)
    return services.disposal_second_recheck(actor=organiser, disposal=disposal, passed=False)


def test_the_page_says_what_the_law_provides_after_a_second_failure(world, web, record):
    _failed_again(world, record)
    body = _page(web(world.users["ent_manager"]), record).content.decode()
    assert 'data-testid="law"' in body and "责令停业、限期整顿" in body


def test_stop_selling_and_the_window_are_shown(world, web, record):
    organiser = world.users["baotou"]
    services.record_notify(actor=organiser, record=record)
    CaseDeadline.objects.filter(case_id=record.case_id, code="objection").update(
        due_at=record.case.opened_at - DAY, started_at=record.case.opened_at - 20 * DAY
    )
    services.record_finalize(actor=organiser, record=record)
    body = _page(web(world.users["ent_manager"]), record).content.decode()
    assert 'data-testid="stop-selling"' in body and 'data-testid="report-correction"' in body
    assert 'data-testid="recheck"' not in body  # the enterprise does not re-check
    disposal = Disposal.objects.get(record=record)
    services.disposal_recheck(actor=organiser, disposal=disposal, passed=False, announcement="公告")
    body = _page(web(organiser), record).content.decode()
    assert 'data-testid="window"' in body and 'data-testid="window-closed"' in body


def test_the_deadline_list_for_regulators_overdue_first(world, sampling, web):
    organiser = world.users["baotou"]
    late = record_at_result(world, sampling, "kundulun", failing=(2,))
    soon = record_at_result(world, sampling, "qingshan")
    services.record_notify(actor=organiser, record=soon)
    services.record_notify(actor=organiser, record=late)
    CaseDeadline.objects.filter(case_id=late.case_id).update(due_at=late.case.opened_at - 3 * DAY)
    before = AuditEvent.objects.filter(action="data.query").count()
    page = web(world.users["baotou"]).get(reverse("sampling:deadlines"))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.index(late.case.number) < body.index(soon.case.number)
    assert 'data-testid="overdue"' in body
    assert AuditEvent.objects.filter(action="data.query").count() == before + 1
    # A county regulator sees its own county's records only; another city's sees none.
    county = web(world.users["qingshan"]).get(reverse("sampling:deadlines")).content.decode()
    assert soon.case.number in county and late.case.number not in county
    other = web(world.users["xincheng"]).get(reverse("sampling:deadlines")).content.decode()
    assert soon.case.number not in other and late.case.number not in other
    # Not a page for enterprises.
    assert web(world.users["ent_manager"]).get(reverse("sampling:deadlines")).status_code == 403


def test_a_regulators_detail_read_is_recorded(world, web, record):
    before = AuditEvent.objects.filter(action="data.query").count()
    assert _page(web(world.users["region"]), record).status_code == 200
    assert AuditEvent.objects.filter(action="data.query").count() == before + 1
