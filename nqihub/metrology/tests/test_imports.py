"""Ledger import: xlsx and CSV (UTF-8, GB18030), Chinese and English headers in any order;
every error with its row and column and nothing written; re-import updates; who may import
and see which job (service, pages, API); progress; the audit record; bounded queries.

Fixture files are made in the tests (openpyxl, csv), never committed as binaries.
"""

from __future__ import annotations

import csv
import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from nqihub.audit.models import AuditEvent
from nqihub.core.access import MembershipRole
from nqihub.core.errors import Forbidden, InvalidInput
from nqihub.metrology import rules
from nqihub.metrology.models import CatalogueItem, ImportJob, Instrument
from nqihub.metrology.services import imports as services
from nqihub.tables.limits import Limits
from nqihub.testing.browser import browser, browser_driver, pytest_runtest_makereport  # noqa: F401
from nqihub.testing.factories import MembershipFactory, UserFactory

ZH = [c.header_zh for c in rules.COLUMNS]
EN = [c.header_en for c in rules.COLUMNS]
FIELDS = [c.field for c in rules.COLUMNS]

pytestmark = pytest.mark.django_db


def _row(**values) -> list:
    base = {
        "catalogue_item": "90.1",
        "name": "电子计价秤",
        "model_spec": "ACS-15",
        "measuring_range": "(0~15)kg",
        "accuracy_class": "III",
        "factory_number": "SN0001",
        "manufacturer": "上海衡器厂",
        "location": "一号门市",
        "use_field": "贸易结算",
        "status": "在用",
    }
    base.update(values)
    return [base[f] for f in FIELDS]


def _xlsx(rows, headers=ZH, *, title="Sheet") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    if headers is not None:
        sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(rows, headers=ZH, *, encoding="utf-8", bom=False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.fixture
def catalogue(db):
    common = {"source": "测试数据", "verification_mode": "periodic", "period_months": 12}
    return {
        "scale": CatalogueItem.objects.create(
            code="90.1",
            level1_no=90,
            level1_name="测试衡器类",
            level2_no=1,
            name="测试衡器",
            supervision="P+V",
            use_trade=True,
            **common,
        ),
        "bp": CatalogueItem.objects.create(
            code="90.2",
            level1_no=90,
            level1_name="测试衡器类",
            level2_no=2,
            name="测试血压计",
            supervision="V",
            use_medical=True,
            **common,
        ),
        "taxi": CatalogueItem.objects.create(
            code="90.3",
            level1_no=90,
            level1_name="测试衡器类",
            level2_no=3,
            name="测试计价器",
            supervision="P",
            use_trade=True,
            **common,
        ),
    }


@pytest.fixture
def people(world):
    world.users["ent_viewer"] = UserFactory(username="ent_viewer")
    MembershipFactory(user=world.users["ent_viewer"], organization=world.ent_kundulun, role=MembershipRole.VIEWER)
    return world.users


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Upload a file as a person; the task runs when the upload commits (ImmediateBackend)."""

    def _run(user, name: str, content: bytes) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_start(actor=user, uploaded_file=SimpleUploadedFile(name, content))
        job.refresh_from_db()
        return job

    return _run


def _errors(job) -> list[tuple]:
    return [(e["row"], e["column"]) for e in job.errors]


# --- Happy paths ------------------------------------------------------------------------------


def test_xlsx_import_creates_instruments_with_rules_applied(world, catalogue, run):
    manager = world.users["ent_manager"]
    rows = [
        _row(factory_number="A1"),
        _row(factory_number="A2", catalogue_item="测试血压计", name="电子血压计", use_field="医疗卫生", status=""),
        _row(factory_number="A3", use_field="其他"),  # a scale outside trade: not mandatory
        _row(factory_number="A4", catalogue_item="90.3", name="计价器"),  # type approval only
        _row(factory_number="A5", catalogue_item="", name="钢直尺", use_field="other", status="停用"),
    ]
    job = run(manager, "台账.xlsx", _xlsx(rows))
    assert job.state == ImportJob.State.DONE, job.errors
    assert (job.created_count, job.updated_count, job.total_rows, job.processed_rows) == (5, 0, 5, 5)
    assert job.progress == 100 and job.finished_at is not None
    by_number = {i.factory_number: i for i in Instrument.objects.filter(organization=world.ent_kundulun)}
    assert set(by_number) == {"A1", "A2", "A3", "A4", "A5"}
    a1 = by_number["A1"]
    assert (a1.name, a1.model_spec, a1.measuring_range, a1.accuracy_class) == (
        "电子计价秤",
        "ACS-15",
        "(0~15)kg",
        "III",
    )
    assert (a1.manufacturer, a1.location, a1.use_field, a1.status) == ("上海衡器厂", "一号门市", "trade", "in_use")
    assert a1.catalogue_item == catalogue["scale"] and a1.is_mandatory
    assert a1.division_id == world.ent_kundulun.division_id == "150203"
    assert by_number["A2"].catalogue_item == catalogue["bp"] and by_number["A2"].is_mandatory
    assert by_number["A2"].status == "in_use"  # empty status means in use
    assert not by_number["A3"].is_mandatory
    assert not by_number["A4"].is_mandatory
    assert (
        by_number["A5"].catalogue_item is None
        and by_number["A5"].status == "stopped"
        and not by_number["A5"].is_mandatory
    )
    assert len({i.platform_code for i in by_number.values()}) == 5


def test_reimport_of_the_same_factory_numbers_updates_instead_of_duplicating(world, catalogue, run):
    manager = world.users["ent_manager"]
    first = run(manager, "a.xlsx", _xlsx([_row(factory_number="A1"), _row(factory_number="A2")]))
    assert first.created_count == 2
    before = {i.factory_number: i.platform_code for i in Instrument.objects.all()}
    second = run(
        manager,
        "b.xlsx",
        _xlsx(
            [
                _row(factory_number="A1", name="新名称", use_field="其他"),
                _row(factory_number="A2"),
                _row(factory_number="A3"),
            ]
        ),
    )
    assert second.state == ImportJob.State.DONE, second.errors
    assert (second.created_count, second.updated_count) == (1, 2)
    assert Instrument.objects.count() == 3
    a1 = Instrument.objects.get(factory_number="A1")
    assert a1.name == "新名称" and a1.use_field == "other" and not a1.is_mandatory
    assert {
        i.factory_number: i.platform_code for i in Instrument.objects.filter(factory_number__in=["A1", "A2"])
    } == before


def test_same_factory_number_in_another_enterprise_is_another_instrument(world, catalogue, run):
    run(world.users["ent_other"], "x.xlsx", _xlsx([_row(factory_number="A1")]))
    job = run(world.users["ent_manager"], "k.xlsx", _xlsx([_row(factory_number="A1")]))
    assert (job.created_count, job.updated_count) == (1, 0)
    assert Instrument.objects.filter(factory_number="A1").count() == 2


def test_columns_left_out_keep_their_values_on_update(world, catalogue, run):
    manager = world.users["ent_manager"]
    run(manager, "a.xlsx", _xlsx([_row(factory_number="A1", model_spec="M-1", status="停用")]))
    headers = ["器具名称", "出厂编号", "使用领域"]
    job = run(manager, "b.xlsx", _xlsx([["改名", "A1", "贸易结算"]], headers))
    assert (job.state, job.updated_count) == (ImportJob.State.DONE, 1), job.errors
    a1 = Instrument.objects.get()
    assert (a1.name, a1.model_spec, a1.status) == ("改名", "M-1", "stopped")
    assert a1.catalogue_item == catalogue["scale"] and a1.is_mandatory  # kept, and still mandatory


def test_csv_utf8_with_bom(world, catalogue, run):
    job = run(world.users["ent_clerk"], "台账.csv", _csv([_row(factory_number="C1", location="二号仓库")], bom=True))
    assert job.state == ImportJob.State.DONE, job.errors
    assert Instrument.objects.get().location == "二号仓库"


def test_csv_utf8_without_bom(world, catalogue, run):
    job = run(world.users["ent_clerk"], "台账.csv", _csv([_row(factory_number="C1")]))
    assert (job.state, job.created_count) == (ImportJob.State.DONE, 1), job.errors


def test_csv_gb18030_as_chinese_excel_writes_it(world, catalogue, run):
    rows = [
        _row(factory_number="G1", name="燃气表", manufacturer="重庆前卫克罗姆表业有限责任公司", location="锅炉房㙓")
    ]
    job = run(world.users["ent_manager"], "台账.csv", _csv(rows, encoding="gb18030"))
    assert job.state == ImportJob.State.DONE, job.errors
    instrument = Instrument.objects.get()
    assert (instrument.name, instrument.manufacturer, instrument.location) == (
        "燃气表",
        "重庆前卫克罗姆表业有限责任公司",
        "锅炉房㙓",
    )


def test_english_headers_and_english_values(world, catalogue, run):
    rows = [_row(factory_number="E1", use_field="Trade settlement", status="in use")]
    job = run(world.users["ent_manager"], "ledger.xlsx", _xlsx(rows, EN))
    assert job.state == ImportJob.State.DONE, job.errors
    assert Instrument.objects.get().is_mandatory


def test_columns_in_any_order(world, catalogue, run):
    order = list(range(len(ZH)))
    random.Random(7).shuffle(order)
    headers = [ZH[i] if n % 2 else EN[i] for n, i in enumerate(order)]  # mixed languages, too
    row = _row(factory_number="S1", location="三号车间")
    job = run(world.users["ent_manager"], "s.xlsx", _xlsx([[row[i] for i in order]], headers))
    assert job.state == ImportJob.State.DONE, job.errors
    instrument = Instrument.objects.get()
    assert (instrument.factory_number, instrument.location, instrument.model_spec) == ("S1", "三号车间", "ACS-15")


def test_excel_numbers_in_text_columns_are_read_as_typed(world, catalogue, run):
    rows = [_row(factory_number=12345, accuracy_class=1.0), _row(factory_number=67890.0, model_spec=2.5)]
    job = run(world.users["ent_manager"], "n.xlsx", _xlsx(rows))
    assert job.state == ImportJob.State.DONE, job.errors
    assert sorted(Instrument.objects.values_list("factory_number", "accuracy_class", "model_spec")) == [
        ("12345", "1", "ACS-15"),
        ("67890", "III", "2.5"),
    ]


def test_workbooks_with_inline_strings_and_no_declared_size_are_read(world, catalogue, run):
    """openpyxl's write-only mode (and some export tools) write inline strings and no size."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("导出")
    sheet.append(ZH)
    sheet.append(_row(factory_number="W1", location="A&B <车间>"))
    sheet.append(_row(factory_number=""))
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = run(world.users["ent_manager"], "w.xlsx", buffer.getvalue())
    assert _errors(job) == [(3, "出厂编号")]


def test_dates_and_row_count_columns(world, catalogue, run):
    import datetime

    headers = ["序号", *ZH]
    rows = [[1, *_row(factory_number=datetime.date(2024, 1, 5))], [2, *_row(factory_number="D2")]]
    job = run(world.users["ent_manager"], "d.xlsx", _xlsx(rows, headers))
    assert job.state == ImportJob.State.DONE, job.errors
    assert sorted(Instrument.objects.values_list("factory_number", flat=True)) == ["2024-01-05", "D2"]


def test_blank_rows_are_skipped_and_rows_keep_their_numbers(world, catalogue, run):
    rows = [
        _row(factory_number="B1"),
        [None] * len(FIELDS),
        ["", "  ", None, None, None, None, None, None, None, None],
        _row(name="", factory_number="B2"),
    ]
    job = run(world.users["ent_manager"], "b.xlsx", _xlsx(rows))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [(5, "器具名称")]  # header 1, B1 row 2, blanks 3-4


def test_a_title_line_above_the_header_is_tolerated(world, catalogue, run):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["包头天和磁材科技股份有限公司计量器具台账"])
    sheet.append(ZH)
    sheet.append(_row(factory_number="T1"))
    sheet.append(_row(factory_number="", name="x"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = run(world.users["ent_manager"], "t.xlsx", buffer.getvalue())
    assert _errors(job) == [(4, "出厂编号")]


# --- Errors: all of them, with row and column, and nothing written ---------------------------


def test_errors_in_several_rows_are_all_reported_and_nothing_is_written(world, catalogue, run):
    manager = world.users["ent_manager"]
    Instrument.objects.create(
        organization=world.ent_kundulun, division_id="150203", name="旧秤", factory_number="OLD", use_field="trade"
    )
    rows = [
        _row(factory_number="OK1"),  # row 2: valid
        _row(factory_number=""),  # row 3: missing factory number
        _row(factory_number="X2", catalogue_item="99.99"),  # row 4: not in the catalogue
        _row(factory_number="X3", use_field="烹饪"),  # row 5: bad use field
        _row(factory_number="OK1"),  # row 6: duplicate of row 2
        _row(factory_number="OLD", name="新秤"),  # row 7: valid (would update)
        _row(factory_number="X4", name="", status="丢失"),  # row 8: two errors
    ]
    job = run(manager, "bad.xlsx", _xlsx(rows))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [
        (3, "出厂编号"),
        (4, "目录编号或器具名称"),
        (5, "使用领域"),
        (6, "出厂编号"),
        (8, "器具名称"),
        (8, "使用状态"),
    ]
    assert "99.99" in job.errors[1]["message"]
    assert "2" in job.errors[3]["message"] and "OK1" in job.errors[3]["message"]
    assert Instrument.objects.count() == 1 and Instrument.objects.get().name == "旧秤"
    assert (job.created_count, job.updated_count) == (0, 0)
    status = services.import_status(job)
    assert status["error_count"] == 6 and status["finished"]


def test_error_columns_are_named_as_written_in_the_file(world, catalogue, run):
    job = run(world.users["ent_manager"], "en.csv", _csv([_row(factory_number="")], EN))
    assert _errors(job) == [(2, "Factory number")]


def test_error_text_names_row_and_column(world, catalogue, run, settings):
    from django.utils import translation

    job = run(world.users["ent_manager"], "e.xlsx", _xlsx([_row(), _row(factory_number="")]))
    with translation.override("en"):
        assert services.import_error_text(job.errors[0]) == f"Row 3, column “出厂编号”: {job.errors[0]['message']}"


def test_errors_are_in_the_uploaders_language(world, catalogue, run):
    from django.utils import translation

    with translation.override("en"):
        job = run(world.users["ent_manager"], "e.xlsx", _xlsx([_row(factory_number="")]))
    assert job.errors[0]["message"] == "This field is required."
    with translation.override("zh-hans"):
        job = run(world.users["ent_manager"], "e.xlsx", _xlsx([_row(factory_number="")]))
    assert job.errors[0]["message"] == "此项为必填项。"


def test_stored_errors_are_capped_with_the_count_of_the_rest(world, catalogue, run):
    cap = Limits.from_settings().max_stored_errors
    rows = [_row(factory_number=f"N{i}", name="") for i in range(cap + 150)]
    job = run(world.users["ent_manager"], "many.csv", _csv(rows))
    assert job.state == ImportJob.State.FAILED
    assert len(job.errors) == cap + 1
    assert job.errors[-1]["omitted"] == 150
    assert services.import_status(job)["error_count"] == cap + 150


def test_missing_required_column_is_reported_up_front(world, catalogue, run):
    headers = [h for h in ZH if h != "出厂编号"]
    rows = [[v for h, v in zip(ZH, _row(), strict=True) if h != "出厂编号"]]
    job = run(world.users["ent_manager"], "m.xlsx", _xlsx(rows, headers))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [(1, "出厂编号")]
    assert "Factory number" in job.errors[0]["message"]
    assert Instrument.objects.count() == 0


def test_unknown_and_repeated_columns_are_reported(world, catalogue, run):
    headers = [*ZH, "备注", "Factory number"]
    job = run(world.users["ent_manager"], "u.xlsx", _xlsx([[*_row(), "x", "SN0001"]], headers))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [(1, "备注"), (1, "Factory number")]
    assert Instrument.objects.count() == 0


def test_a_broken_xlsx_fails_with_a_clear_message(world, catalogue, run):
    job = run(world.users["ent_manager"], "broken.xlsx", random.Random(1).randbytes(4096))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [(None, "")]
    assert ".xlsx" in job.errors[0]["message"]


def test_a_csv_in_an_unknown_encoding_fails_with_a_clear_message(world, catalogue, run):
    job = run(world.users["ent_manager"], "broken.csv", b"\x80\xff" * 100)
    assert job.state == ImportJob.State.FAILED
    assert "GB18030" in job.errors[0]["message"]


def test_an_empty_file_is_refused_and_the_refusal_recorded(world, catalogue):
    with pytest.raises(InvalidInput) as exc:
        services.import_start(actor=world.users["ent_manager"], uploaded_file=SimpleUploadedFile("a.xlsx", b""))
    assert exc.value.code == "file_empty"
    assert ImportJob.objects.count() == 0
    assert AuditEvent.objects.filter(action="instrument.import", outcome="failure").count() == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.xlsx", None), ("empty.csv", b"\xef\xbb\xbf\r\n\r\n")],
)
def test_a_file_with_nothing_in_it_fails(world, catalogue, run, name, content):
    content = content if content is not None else _xlsx([], headers=None)
    job = run(world.users["ent_manager"], name, content)
    assert job.state == ImportJob.State.FAILED
    assert len(job.errors) == 1 and job.errors[0]["row"] is None


def test_a_file_with_only_headers_fails(world, catalogue, run):
    job = run(world.users["ent_manager"], "h.xlsx", _xlsx([]))
    assert job.state == ImportJob.State.FAILED
    assert _errors(job) == [(None, "")]
    assert Instrument.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "code"), [("ledger.docx", "file_type"), ("ledger.txt", "file_type"), ("ledger", "file_type")]
)
def test_other_file_types_are_refused(world, name, code):
    with pytest.raises(InvalidInput) as exc:
        services.import_start(actor=world.users["ent_manager"], uploaded_file=SimpleUploadedFile(name, b"x"))
    assert exc.value.code == code


def test_a_file_over_the_size_limit_is_refused(world, monkeypatch):
    monkeypatch.setattr(services, "MAX_FILE_BYTES", 10)
    with pytest.raises(InvalidInput) as exc:
        services.import_start(actor=world.users["ent_manager"], uploaded_file=SimpleUploadedFile("a.csv", b"x" * 11))
    assert exc.value.code == "file_too_large"


def test_an_internal_error_writes_nothing_and_says_so(world, catalogue, run, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services._InsertPlan, "execute", broken)
    job = run(world.users["ent_manager"], "a.xlsx", _xlsx([_row()]))
    assert job.state == ImportJob.State.ERROR
    assert Instrument.objects.count() == 0
    assert AuditEvent.objects.filter(action="instrument.import", outcome="failure").count() == 1


def test_a_job_runs_once(world, catalogue, run):
    job = run(world.users["ent_manager"], "a.xlsx", _xlsx([_row()]))
    services.import_run(job_id=job.pk)
    assert Instrument.objects.count() == 1
    assert AuditEvent.objects.filter(action="instrument.import").count() == 1


def test_the_role_is_checked_again_when_the_job_runs(world, catalogue):
    from nqihub.organizations.models import Membership

    manager = world.users["ent_manager"]
    job = services.import_start(actor=manager, uploaded_file=SimpleUploadedFile("a.xlsx", _xlsx([_row()])))
    Membership.objects.filter(user=manager).update(role=MembershipRole.VIEWER)
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert Instrument.objects.count() == 0


# --- Who may import, and see which job -----------------------------------------------------


@pytest.mark.parametrize("who", ["kundulun", "region", "inst", "ent_viewer", "applicant", "sysadmin"])
def test_only_enterprise_working_roles_may_import(people, catalogue, who):
    with pytest.raises(Forbidden):
        services.import_start(actor=people[who], uploaded_file=SimpleUploadedFile("a.xlsx", _xlsx([_row()])))
    assert ImportJob.objects.count() == 0 and Instrument.objects.count() == 0
    refusal = AuditEvent.objects.get(action="instrument.import")
    assert refusal.outcome == "denied" and refusal.details["code"] == "import_not_allowed"


def test_the_import_is_audited_once(world, catalogue, run):
    rows = [_row(factory_number=f"A{i}") for i in range(30)]
    job = run(world.users["ent_clerk"], "台账.xlsx", _xlsx(rows))
    events = list(AuditEvent.objects.filter(action="instrument.import"))
    assert len(events) == 1
    event = events[0]
    assert event.outcome == "success" and event.actor == world.users["ent_clerk"]
    assert event.details == {"job_id": job.pk, "created": 30, "updated": 0, "filename": "台账.xlsx"}
    assert event.organization_id_snapshot == world.ent_kundulun.pk
    assert event.target_type == "metrology.importjob" and event.target_id == str(job.pk)


def test_a_rejected_import_is_audited_as_a_failure(world, catalogue, run):
    job = run(world.users["ent_clerk"], "bad.xlsx", _xlsx([_row(factory_number="")]))
    event = AuditEvent.objects.get(action="instrument.import")
    assert event.outcome == "failure" and event.details["errors"] == 1 and event.details["job_id"] == job.pk


def test_a_5000_row_import_needs_a_bounded_number_of_queries(world, catalogue, run, django_assert_max_num_queries):
    manager = world.users["ent_manager"]
    rows = [_row(factory_number=f"Q{i:05d}", catalogue_item=("90.1", "测试血压计", "")[i % 3]) for i in range(5000)]
    content = _csv(rows)
    Instrument.objects.create(
        organization=world.ent_kundulun, division_id="150203", name="旧秤", factory_number="Q00000", use_field="trade"
    )
    # Every INSERT is one statement per batch, every lookup one query per batch: about 36
    # queries in all, however many rows (one query per row would be over 5,000).
    with django_assert_max_num_queries(50):
        job = run(manager, "big.csv", content)
    assert (job.state, job.created_count, job.updated_count) == (ImportJob.State.DONE, 4999, 1), job.errors[:3]
    assert Instrument.objects.filter(organization=world.ent_kundulun).count() == 5000
    assert Instrument.objects.filter(is_mandatory=True).count() == 1667 + 0  # the 90.1 rows in trade


# --- Pages ----------------------------------------------------------------------------------


def test_upload_page_starts_the_job_and_shows_its_result(world, catalogue, web, django_capture_on_commit_callbacks):
    client = web(world.users["ent_manager"])
    page = client.get(reverse("metrology:import_list"))
    assert page.status_code == 200 and b'type="file"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("metrology:import_list"),
            {"file": SimpleUploadedFile("台账.xlsx", _xlsx([_row(), _row(factory_number="")]))},
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("metrology:import_detail", args=[job.pk])
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    html = detail.content.decode()
    assert 'data-testid="errors"' in html and "出厂编号" in html and "<td>3</td>" in html
    assert "import-progress.js" in html


def test_upload_page_shows_a_refusal_on_the_form(world, web):
    client = web(world.users["ent_manager"])
    response = client.post(reverse("metrology:import_list"), {"file": SimpleUploadedFile("a.doc", b"x")})
    assert response.status_code == 400
    assert ".xlsx" in response.content.decode()


def test_upload_form_is_not_offered_to_those_who_may_not_import(people, web):
    page = web(people["ent_viewer"]).get(reverse("metrology:import_list"))
    assert page.status_code == 200 and b'type="file"' not in page.content


def test_status_json_reports_progress(world, catalogue, run, web):
    job = run(world.users["ent_manager"], "a.xlsx", _xlsx([_row(factory_number="A1"), _row(factory_number="A2")]))
    response = web(world.users["ent_clerk"]).get(reverse("metrology:import_status", args=[job.pk]))
    assert response.status_code == 200
    assert response.json() == {
        "id": job.pk,
        "state": "done",
        "state_label": response.json()["state_label"],
        "finished": True,
        "progress": 100,
        "processed_rows": 2,
        "total_rows": 2,
        "created": 2,
        "updated": 0,
        "error_count": 0,
    }


def test_status_of_a_queued_job_and_while_checking(world, catalogue, web):
    job = services.import_start(
        actor=world.users["ent_manager"], uploaded_file=SimpleUploadedFile("a.csv", _csv([_row()]))
    )
    status = services.import_status(job)
    assert (status["state"], status["finished"], status["progress"]) == ("queued", False, 0)
    ImportJob.objects.filter(pk=job.pk).update(state="validating", total_rows=200, processed_rows=50)
    job.refresh_from_db()
    assert services.import_status(job)["progress"] == 25
    page = web(world.users["ent_manager"]).get(reverse("metrology:import_detail", args=[job.pk])).content.decode()
    assert '<progress data-role="bar" max="100" value="25"' in page
    assert reverse("metrology:import_status", args=[job.pk]) in page


def test_another_enterprises_job_is_not_found(world, catalogue, run, web, api):
    job = run(world.users["ent_manager"], "a.xlsx", _xlsx([_row()]))
    client = web(world.users["ent_other"])
    for name in ("import_detail", "import_status", "import_errors"):
        assert client.get(reverse(f"metrology:{name}", args=[job.pk])).status_code == 404
    assert api(world.users["ent_other"]).get(f"/api/v1/instrument-imports/{job.pk}/").status_code == 404
    assert web(world.users["kundulun"]).get(reverse("metrology:import_detail", args=[job.pk])).status_code == 404


def test_errors_download_as_a_workbook(world, catalogue, run, web):
    job = run(world.users["ent_manager"], "bad.xlsx", _xlsx([_row(factory_number=""), _row(use_field="?")]))
    response = web(world.users["ent_manager"]).get(reverse("metrology:import_errors", args=[job.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 3
    assert [v[:2] for v in values[1:]] == [(2, "出厂编号"), (3, "使用领域")]


def test_excel_template_has_chinese_headers_instructions_and_drop_downs(world, catalogue, web):
    response = web(world.users["ent_manager"]).get(reverse("metrology:import_template_xlsx"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["计量器具台账", "填写说明"]
    ledger, notes = workbook["计量器具台账"], workbook["填写说明"]
    assert [c.value for c in ledger[1]] == ZH
    assert ledger.max_row == 1  # no sample row that could be imported by mistake
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ledger.data_validations.dataValidation}
    assert "贸易结算" in lists["I2"] and "其他" in lists["I2"] and "在用" in lists["J2"]
    text = "\n".join(str(c) for row in notes.iter_rows(values_only=True) for c in row if c)
    for header in ZH:
        assert header in text
    assert "90.1" in text and "测试衡器" in text and "测试血压计" in text and "医疗卫生" in text


def test_filled_in_template_imports(world, catalogue, run, web):
    content = web(world.users["ent_manager"]).get(reverse("metrology:import_template_xlsx")).content
    workbook = load_workbook(io.BytesIO(content))
    workbook["计量器具台账"].append(_row(factory_number="TPL1"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = run(world.users["ent_manager"], "filled.xlsx", buffer.getvalue())
    assert (job.state, job.created_count) == (ImportJob.State.DONE, 1), job.errors


def test_csv_template_is_utf8_with_bom(world, web):
    response = web(world.users["ent_manager"]).get(reverse("metrology:import_template_csv"))
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content[3:].decode("utf-8").strip().split(",") == ZH


# --- API ------------------------------------------------------------------------------------


def test_api_upload_answers_202_and_the_job_can_be_polled(world, catalogue, api, django_capture_on_commit_callbacks):
    client = api(world.users["ent_manager"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/instrument-imports/",
            {"file": SimpleUploadedFile("a.csv", _csv([_row(), _row(factory_number="")]))},
            format="multipart",
        )
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    detail = client.get(f"/api/v1/instrument-imports/{job_id}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["state"] == "failed" and body["error_count"] == 1 and body["finished"]
    assert body["errors"][0]["row"] == 3 and body["errors"][0]["column"] == "出厂编号"
    assert "3" in body["errors"][0]["text"] and "出厂编号" in body["errors"][0]["text"]
    listing = client.get("/api/v1/instrument-imports/").json()
    assert [j["id"] for j in listing["results"]] == [job_id]


def test_api_refuses_those_who_may_not_import(people, catalogue, api):
    response = api(people["kundulun"]).post(
        "/api/v1/instrument-imports/", {"file": SimpleUploadedFile("a.csv", _csv([_row()]))}, format="multipart"
    )
    assert response.status_code == 403 and response.json()["code"] == "import_not_allowed"
    response = api(people["ent_manager"]).post("/api/v1/instrument-imports/", {}, format="multipart")
    assert response.status_code == 400


# --- In a real browser -------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_bar_follows_the_job_and_shows_the_result(browser, live_server):  # noqa: F811 (the fixture)
    """import-progress.js polls status.json, moves the bar, and reloads when the job ends."""
    from django.core.files.base import ContentFile
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from nqihub.testing.factories import PASSWORD, OrganizationFactory

    enterprise = OrganizationFactory(name="包头进度条测试有限公司", division_id="150203")
    manager = UserFactory(username="progress_mgr", display_name="周进度")
    MembershipFactory(user=manager, organization=enterprise, role=MembershipRole.MANAGER)
    job = ImportJob(
        organization=enterprise,
        created_by=manager,
        filename="台账.xlsx",
        state="validating",
        total_rows=200,
        processed_rows=50,
    )
    job.file.save("progress.xlsx", ContentFile(b"x"), save=False)
    job.save()
    wait = WebDriverWait(browser, 10)

    browser.get(live_server.url + reverse("accounts:login"))
    wait.until(EC.presence_of_element_located((By.ID, "id_username"))).send_keys(manager.username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=who]")))

    browser.get(live_server.url + reverse("metrology:import_detail", args=[job.pk]))
    bar = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "progress[data-role=bar]")))
    assert bar.get_attribute("value") == "25"

    ImportJob.objects.filter(pk=job.pk).update(processed_rows=150)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "progress[data-role=bar]").get_attribute("value") == "75")
    assert browser.find_element(By.CSS_SELECTOR, "[data-role=processed]").text == "150"

    ImportJob.objects.filter(pk=job.pk).update(state="done", processed_rows=200, created_count=190, updated_count=10)
    result = WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=result]")))
    assert "190" in result.text and "10" in result.text
    assert not browser.find_elements(By.CSS_SELECTOR, "progress[data-role=bar]")
