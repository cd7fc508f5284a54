"""The inspection report: issued by the record's institution once every result is in, numbered
per institution, its PDF with the results and the QR code, and the public check showing only
public facts."""

from __future__ import annotations

import subprocess

import pytest
from django.test import Client

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Forbidden, NotFound, ServiceError
from nqihub.documents.pdf import missing_characters
from nqihub.documents.services import stored_pdf
from nqihub.sampling.models import InspectionReport, SamplingRecord, is_report_code
from nqihub.sampling.pdf import report_data
from nqihub.sampling.services.records import record_results
from nqihub.sampling.services.reports import record_report

from .records_setup import field_fixture, receive, result_rows, sample  # noqa: F401

pytestmark = pytest.mark.django_db


def _tested(field, **rows):
    sample(field)
    receive(field)
    record_results(actor=field.world.users["inst"], record=field.record, rows=result_rows(field, **rows))
    return record_report(actor=field.world.users["inst"], record=field.record)


def _text(data: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def test_the_report_is_issued_and_the_record_tested(field):
    report = _tested(field)
    record = SamplingRecord.objects.get(pk=field.record.pk)
    assert record.stage == SamplingRecord.Stage.TESTED
    assert record.tested_at == report.issued_at
    assert report.number.startswith(f"CCBG-{field.sampling.institution.pk}-")
    assert report.number.endswith("000001")
    assert is_report_code(report.public_code)
    assert report.conclusion == "pass" and report.organization == field.world.ent_kundulun
    assert report.content_sha256 == report.compute_content_sha256()
    assert record.case.events.filter(kind="report", note=report.number).exists()
    event = AuditEvent.objects.filter(action="sampling_record.report").latest("seq")
    assert event.outcome == "success" and event.details["number"] == report.number


def test_numbers_follow_each_other_per_institution(field):
    first = _tested(field)
    inspectors = field.sampling.inspectors
    sample(field, record=field.other, samplers=[inspectors["bt1"].pk, inspectors["bt2"].pk])
    receive(field, record=field.other)
    record_results(actor=field.world.users["inst"], record=field.other, rows=result_rows(field))
    second = record_report(actor=field.world.users["inst"], record=field.other)
    assert int(second.number.rsplit("-", 1)[1]) == int(first.number.rsplit("-", 1)[1]) + 1


def test_no_report_without_every_result(field):
    sample(field)
    receive(field)
    with pytest.raises(ServiceError) as caught:
        record_report(actor=field.world.users["inst"], record=field.record)
    assert caught.value.code == "results_incomplete"
    assert not InspectionReport.objects.exists()
    assert AuditEvent.objects.filter(action="sampling_record.report").latest("seq").outcome == "failure"


@pytest.mark.parametrize(("user", "error"), [("retest", NotFound), ("baotou", Forbidden), ("ent_manager", Forbidden)])
def test_only_the_records_institution_issues(field, user, error):
    sample(field)
    receive(field)
    record_results(actor=field.world.users["inst"], record=field.record, rows=result_rows(field))
    users = {**field.world.users, **field.sampling.users}
    with pytest.raises(error):
        record_report(actor=users[user], record=field.record)
    assert not InspectionReport.objects.exists()
    assert AuditEvent.objects.filter(action="sampling_record.report").latest("seq").outcome == "denied"


def test_a_report_once(field):
    _tested(field)
    with pytest.raises(ServiceError) as caught:
        record_report(actor=field.world.users["inst"], record=field.record)
    assert caught.value.code == "invalid_state"


def test_the_pdf_holds_the_results_and_renders_every_character(field):
    field.sampling.test_items[1].requirement = "≤100000 CFU/g（30℃培养72 h）"
    field.sampling.test_items[1].save()
    report = _tested(field, protein="2.5")
    data = stored_pdf(report)
    assert data.startswith(b"%PDF")
    text = _text(data)
    for expected in (
        "检验报告",
        report.number,
        report.public_code,
        "灭菌乳",
        field.world.ent_kundulun.name,
        "蛋白质",
        "菌落总数",
        "标签内容完整",
        "30℃",
        "不合格",
        field.sampling.institution.name,
    ):
        assert expected in text, expected
    # Every printed character has a glyph in the embedded font (nothing prints as a box).
    printed = report_data(report)
    everything = "".join(
        [printed.title, printed.conclusion_text, *(v for _, v in printed.facts), *("".join(r) for r in printed.results)]
    )
    assert missing_characters(everything) == set()
    stored = InspectionReport.objects.get(pk=report.pk)
    assert stored.pdf_sha256 and stored_pdf(stored) == data


def test_the_public_check_shows_the_report_and_nothing_private(field):
    report = _tested(field, protein="2.5")
    record = SamplingRecord.objects.get(pk=field.record.pk)
    client = Client()
    page = client.get(f"/verify/{report.public_code}/")
    assert page.status_code == 200
    body = page.content.decode()
    for public in (report.number, "灭菌乳", field.world.ent_kundulun.name, field.sampling.institution.name):
        assert public in body
    assert 'data-conclusion="fail"' in body
    private = [
        *(p.name for p in record.samplers.all()),
        record.party_signatory,
        record.seal_numbers,
        record.notice_number,
        str(record.sample_price),
        *(p.enforcement_number for p in record.samplers.all()),
        record.place,
        record.case.number,
    ]
    for secret in private:
        assert secret not in body, secret
    facts = client.get(f"/verify/{report.public_code.lower()}.json").json()
    assert facts["type"] == "inspection_report"
    assert facts["conclusion"] == "fail" and facts["number"] == report.number
    assert facts["enterprise"] == field.world.ent_kundulun.name
    flat = str(facts)
    for secret in private:
        assert secret not in flat, secret
    assert "sessionid" not in page.cookies and "csrftoken" not in page.cookies


def test_a_report_code_is_not_taken_for_another_kind(field):
    report = _tested(field)
    # A metrology document code is 16 bare characters; a report's is CB and 16.
    assert len(report.public_code) == 18
    assert Client().get(f"/verify/{report.public_code[2:]}/").status_code == 404
    assert Client().get(f"/verify/CB{'0' * 16}/").status_code == 404


def test_reports_and_results_are_scoped_as_their_record(field):
    from nqihub.sampling.models import TestResult

    report = _tested(field)
    users = {**field.world.users, **field.sampling.users}
    for user, sees in (
        ("baotou", True),
        ("kundulun", True),
        ("qingshan", False),
        ("xincheng", False),
        ("inst", True),
        ("retest", False),
        ("ent_manager", True),
        ("ent_other", False),
    ):
        assert InspectionReport.objects.for_user(users[user], "download").filter(pk=report.pk).exists() == sees, user
        assert TestResult.objects.for_user(users[user], "view").filter(record=field.record).exists() == sees, user
    assert not InspectionReport.objects.for_user(users["ent_manager"], "manage").exists()
    assert InspectionReport.objects.for_user(users["inst"], "manage").filter(pk=report.pk).exists()
