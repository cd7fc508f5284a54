"""The records' pages and API: who sees which record (the enterprise never before sampling),
each step through its form or the LIMS API, refusals shown in Chinese, reads recorded."""

from __future__ import annotations

import pytest
from django.urls import reverse

from nqihub.audit.models import AuditEvent
from nqihub.sampling.models import InspectionReport, SamplingRecord

from .records_setup import field_fixture, photo, receive, result_rows, sample, sampling_data  # noqa: F401

pytestmark = pytest.mark.django_db


def _detail(record):
    return reverse("sampling:record_detail", args=[record.pk])


# --- who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "sees"),
    [
        ("baotou", {"record", "other"}),  # the organiser, over both counties
        ("region", {"record", "other"}),  # the level above
        ("kundulun", {"record"}),  # its own county only
        ("qingshan", {"other"}),
        ("xincheng", set()),  # another city
        ("inst", {"record", "other"}),  # the testing institution's inbox
        ("retest", set()),  # an institution not on the batch
        ("ent_manager", set()),  # not before the samples were taken
        ("ent_other", set()),
    ],
)
def test_the_list_per_role_before_sampling(field, web, user, sees):
    users = {**field.world.users, **field.sampling.users}
    page = web(users[user]).get(reverse("sampling:record_list"))
    assert page.status_code == 200
    shown = {name for name in ("record", "other") if f'data-testid="record-{getattr(field, name).pk}"' in page.text}
    assert shown == sees


@pytest.mark.parametrize("user", ["ent_manager", "ent_other", "xincheng", "retest"])
def test_an_assigned_record_is_hidden_from_outsiders_by_page_and_api(field, web, api, user):
    users = {**field.world.users, **field.sampling.users}
    assert web(users[user]).get(_detail(field.record)).status_code == 404
    client = api(users[user])
    assert client.get(f"/api/v1/sampling-records/{field.record.pk}/").status_code == 404
    listed = client.get("/api/v1/sampling-records/").json()
    assert field.record.pk not in {row["id"] for row in listed["results"]}


def test_the_enterprise_sees_its_record_once_sampled(field, web, api):
    sample(field)
    ent = field.world.users["ent_manager"]
    page = web(ent).get(_detail(field.record))
    assert page.status_code == 200
    assert "FY-0001" in page.text
    assert 'data-testid="sample-actions"' not in page.text
    assert api(ent).get(f"/api/v1/sampling-records/{field.record.pk}/").json()["stage"] == "sampled"
    # Still not the other enterprise's record, nor another's view of this one.
    assert web(ent).get(_detail(field.other)).status_code == 404
    assert web(field.world.users["ent_other"]).get(_detail(field.record)).status_code == 404


def test_anonymous_is_sent_to_sign_in(field, client):
    for url in (reverse("sampling:record_list"), _detail(field.record)):
        page = client.get(url)
        assert page.status_code == 302 and "/accounts/" in page["Location"]
    assert client.get(f"/api/v1/sampling-records/{field.record.pk}/").status_code in (401, 403)


def test_a_regulators_reads_are_recorded_once(field, web):
    client = web(field.world.users["baotou"])
    before = AuditEvent.objects.filter(action="data.query").count()
    client.get(reverse("sampling:record_list"))
    client.get(_detail(field.record))
    assert AuditEvent.objects.filter(action="data.query").count() == before + 2


def test_filters(field, web):
    sample(field)
    client = web(field.world.users["baotou"])
    page = client.get(reverse("sampling:record_list"), {"stage": "sampled"})
    assert f'data-testid="record-{field.record.pk}"' in page.text
    assert f'data-testid="record-{field.other.pk}"' not in page.text
    page = client.get(reverse("sampling:record_list"), {"batch": field.sampling.batch.pk, "conclusion": "fail"})
    assert f'data-testid="record-{field.record.pk}"' not in page.text


# --- the steps through the pages -----------------------------------------------------------------


def test_the_field_work_through_the_pages(field, web):
    organiser = web(field.world.users["baotou"])
    detail = organiser.get(_detail(field.record))
    assert 'data-testid="sample"' in detail.text
    form = organiser.get(reverse("sampling:record_sample", args=[field.record.pk]))
    assert form.status_code == 200 and "赵执法" in form.text and "王执法" not in form.text  # kd1 recused
    data = sampling_data(field)
    data["sampled_at"] = "2026-01-02T09:30"
    data["test_quantity"], data["spare_quantity"] = 4, 4
    data["files"] = [photo("封样1.png"), photo("抽样单.png")]
    done = organiser.post(reverse("sampling:record_sample", args=[field.record.pk]), data)
    assert done.status_code == 302
    record = SamplingRecord.objects.get(pk=field.record.pk)
    assert record.stage == "sampled" and record.case.attachments.count() == 2

    lab = web(field.world.users["inst"])
    assert 'data-testid="receive-form"' in lab.get(_detail(record)).text
    lab.post(reverse("sampling:record_receive", args=[record.pk]), {"condition": "封条完好"})
    assert SamplingRecord.objects.get(pk=record.pk).stage == "received"
    items = field.sampling.test_items
    results = {
        f"value_{items[0].pk}": "2.9",
        f"value_{items[1].pk}": "100000",
        f"measured_{items[2].pk}": "标签完整",
        f"conclusion_{items[2].pk}": "pass",
    }
    assert lab.post(reverse("sampling:record_results", args=[record.pk]), results).status_code == 302
    page = lab.get(_detail(record))
    assert 'data-testid="issue-report"' in page.text and 'data-testid="result-1"' in page.text
    lab.post(reverse("sampling:record_report", args=[record.pk]))
    report = InspectionReport.objects.get(record=record)
    assert SamplingRecord.objects.get(pk=record.pk).stage == "tested"
    pdf = lab.get(reverse("sampling:report_pdf", args=[report.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # The enterprise downloads its report; another enterprise cannot.
    assert (
        web(field.world.users["ent_manager"]).get(reverse("sampling:report_pdf", args=[report.pk])).status_code == 200
    )
    assert web(field.world.users["ent_other"]).get(reverse("sampling:report_pdf", args=[report.pk])).status_code == 404
    assert AuditEvent.objects.filter(action="data.export", actor_username="ent_manager").exists()


def test_a_refusal_is_shown_on_the_form_in_chinese(field, web):
    organiser = web(field.world.users["baotou"])
    data = sampling_data(field, samplers=[field.sampling.inspectors["qs1"].pk])
    data["sampled_at"] = "2026-01-02T09:30"
    data["test_quantity"], data["spare_quantity"] = 4, 4
    data["files"] = [photo()]
    page = organiser.post(reverse("sampling:record_sample", args=[field.record.pk]), data)
    assert page.status_code == 200
    assert "至少需要 2 名抽样人员" in page.text
    assert SamplingRecord.objects.get(pk=field.record.pk).stage == "assigned"


def test_step_pages_refuse_outsiders(field, web):
    users = field.world.users
    assert web(users["kundulun"]).get(reverse("sampling:record_sample", args=[field.record.pk])).status_code == 403
    assert web(users["ent_manager"]).get(reverse("sampling:record_sample", args=[field.record.pk])).status_code == 404
    assert web(users["inst"]).get(reverse("sampling:record_refuse", args=[field.record.pk])).status_code == 403
    sample(field)
    assert (
        web(users["baotou"])
        .post(reverse("sampling:record_receive", args=[field.record.pk]), {"condition": "x"})
        .status_code
        == 403
    )
    retest = field.sampling.users["retest"]
    assert (
        web(retest).post(reverse("sampling:record_receive", args=[field.record.pk]), {"condition": "x"}).status_code
        == 404
    )
    assert SamplingRecord.objects.get(pk=field.record.pk).stage == "sampled"


def test_the_refusal_page(field, web):
    organiser = web(field.world.users["baotou"])
    url = reverse("sampling:record_refuse", args=[field.record.pk])
    page = organiser.post(url, {"reason": "拒绝抽样"})
    assert page.status_code == 200 and "至少" in page.text
    done = organiser.post(url, {"reason": "拒绝抽样", "evidence": [photo("拒检.png")]})
    assert done.status_code == 302
    page = organiser.get(_detail(field.record))
    assert 'data-testid="refusal"' in page.text and "拒检.png" in page.text


# --- the LIMS API --------------------------------------------------------------------------------


def test_the_lims_posts_results_and_issues_the_report(field, api):
    sample(field)
    lab = api(field.world.users["inst"])
    answer = lab.post(f"/api/v1/sampling-records/{field.record.pk}/receive/", {"condition": "封条完好"}, format="json")
    assert answer.status_code == 200 and answer.json()["stage"] == "received"
    rows = result_rows(field, protein="2.8")
    answer = lab.post(f"/api/v1/sampling-records/{field.record.pk}/results/", {"rows": rows}, format="json")
    assert answer.status_code == 200
    body = answer.json()
    assert body["conclusion"] == "fail"
    assert [r["conclusion"] for r in body["results"]] == ["fail", "pass", "pass"]
    answer = lab.post(f"/api/v1/sampling-records/{field.record.pk}/report/", format="json")
    assert answer.status_code == 201
    assert answer.json()["number"].startswith("CCBG-")


def test_the_lims_api_refuses(field, api):
    sample(field)
    receive(field)
    url = f"/api/v1/sampling-records/{field.record.pk}/results/"
    lab = api(field.world.users["inst"])
    missing = lab.post(url, {"rows": result_rows(field)[:2]}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "result_missing"
    # Another institution, whatever it sends: 404; the organiser: 403.
    assert api(field.sampling.users["retest"]).post(url, {"rows": "x"}, format="json").status_code == 404
    assert api(field.world.users["baotou"]).post(url, {"rows": result_rows(field)}, format="json").status_code == 403
    assert (
        api(field.world.users["ent_manager"]).post(url, {"rows": result_rows(field)}, format="json").status_code == 403
    )


def test_the_printable_sampling_form(field, web):
    import subprocess

    url = reverse("sampling:record_form_pdf", args=[field.record.pk])
    assert web(field.world.users["ent_manager"]).get(url).status_code == 404  # not before sampling
    blank = web(field.world.users["baotou"]).get(url)
    assert blank.status_code == 200 and blank["Content-Type"] == "application/pdf"
    sample(field)
    filled = web(field.world.users["ent_manager"]).get(url)
    assert filled.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=filled.content, capture_output=True, check=True
    ).stdout.decode()
    record = SamplingRecord.objects.get(pk=field.record.pk)
    for expected in ("抽样单", record.case.number, "FY-0001", "赵执法", "张保管", field.world.ent_kundulun.name):
        assert expected in text, expected
    assert AuditEvent.objects.filter(action="data.export", actor_username="ent_manager").exists()
