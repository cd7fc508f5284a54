"""Issued documents: issue (kind, number, validity, instrument dates, PDF), reissue, revoke and
who may do what; the parties' pages and the API.

Results are made directly here (application, item, result rows): the application workflow is
built elsewhere, and these tests need only its output. ``make_result`` and the fixtures are
shared with ``test_verify``.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.test import TestCase
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.cases.services import case_open
from nqihub.core.access import MembershipRole, OrganizationKind
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.metrology.models import (
    ApplicationItem,
    CatalogueItem,
    Evidence,
    Instrument,
    IssuedDocument,
    Supervision,
    VerificationApplication,
    VerificationMode,
    VerificationResult,
)
from nqihub.metrology.services.documents import (
    add_months,
    document_issue,
    document_reissue,
    document_revoke,
)
from nqihub.testing.factories import MembershipFactory, OrganizationFactory, UserFactory

ENTERPRISE_PHONE = "0472-5550199"
CONTACT_PHONE = "13904725566"
SIGNERS = ("检定员王一鸣", "核验员李二娜", "批准人张三丰")


@pytest.fixture
def signers(world):
    """Three working members of the institution who sign results (检定员 / 核验员 / 批准人)."""
    users = []
    for i, name in enumerate(SIGNERS):
        user = UserFactory(username=f"signer{i}", display_name=name)
        MembershipFactory(user=user, organization=world.institution, role=MembershipRole.CLERK)
        users.append(user)
    return users


@pytest.fixture
def other_institution(world):
    org = OrganizationFactory(
        kind=OrganizationKind.INSTITUTION, name="呼和浩特市计量测试所", division_id="150102", credit_code=None
    )
    user = UserFactory(username="other_inst")
    MembershipFactory(user=user, organization=org, role=MembershipRole.MANAGER)
    world.users["other_inst"] = user
    return org


def _item(code: str, mode: str, *, period=None, life=None) -> CatalogueItem:
    return CatalogueItem.objects.create(
        code=code,
        level1_no=98,
        level1_name="测试器具",
        level2_no=int(code.split(".")[1]),
        name=f"测试器具{code}",
        supervision=Supervision.VERIFICATION,
        verification_mode=mode,
        use_trade=True,
        period_months=period,
        service_life_months=life,
        regulation="JJG 539-2016《数字指示秤》",
        source="test fixture",
        evidence=Evidence.UNVERIFIED,
    )


@pytest.fixture
def periodic_item(db):
    return _item("98.1", VerificationMode.PERIODIC, period=12)


@pytest.fixture
def make_result(world, signers, periodic_item):
    """``make_result(outcome="pass", verified_on=…, catalogue_item=…, instrument=…)``: an
    application of the 昆都仑区 enterprise to the institution with one item and its result."""
    world.ent_kundulun.phone = ENTERPRISE_PHONE
    world.ent_kundulun.save(update_fields=["phone"])
    counter = {"n": 0}

    def make(
        outcome="pass",
        *,
        verified_on=datetime.date(2026, 1, 31),
        catalogue_item=None,
        instrument=None,
        fee=Decimal("40.00"),
        waived=Decimal("10.00"),
        failure_reasons="",
        institution=None,
    ):
        counter["n"] += 1
        n = counter["n"]
        institution = institution or world.institution
        item_def = catalogue_item or periodic_item
        if instrument is None:
            instrument = Instrument.objects.create(
                organization=world.ent_kundulun,
                division_id=world.ent_kundulun.division_id,
                catalogue_item=item_def,
                name="电子计价秤",
                model_spec="ACS-30",
                factory_number=f"K-{n:04d}",
                manufacturer="上海某衡器有限公司",
                use_field="trade",
                is_mandatory=True,
            )
        now = timezone.now()
        application = VerificationApplication.objects.create(
            case=case_open(kind="verification_application", actor=world.users["ent_manager"]),
            number=f"SQ-TEST-{n:04d}",
            organization=world.ent_kundulun,
            institution=institution,
            division_id=world.ent_kundulun.division_id,
            mode=VerificationApplication.Mode.DROP_OFF,
            contact_name="赵联系",
            contact_phone=CONTACT_PHONE,
            submitted_by=world.users["ent_manager"],
            submitted_at=now,
            accept_by=now,
        )
        item = ApplicationItem.objects.create(
            application=application, instrument=instrument, catalogue_item=item_def, fee=fee, waived=waived
        )
        return VerificationResult.objects.create(
            item=item,
            outcome=outcome,
            verified_on=verified_on,
            readings="称量点 15 kg：示值误差 -1.0 g",
            remarks="外观完好",
            failure_reasons=failure_reasons,
            verifier=signers[0],
            checker=signers[1],
            approver=signers[2],
            institution=institution,
            recorded_at=now,
        )

    return make


def committed(call):
    """Run a service as a request does: its after-commit work (rendering the PDF) runs when it
    returns (inside a test's transaction it would never run)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        document = call()
    document.refresh_from_db()
    return document


@pytest.fixture
def issued(world, make_result):
    """A certificate issued now by the institution's manager (committed: its PDF is stored)."""
    return committed(lambda: document_issue(actor=world.users["inst"], result=make_result()))


# --- month arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 1, 15), 12, datetime.date(2027, 1, 15)),
        (datetime.date(2026, 8, 31), 6, datetime.date(2027, 2, 28)),
        (datetime.date(2026, 12, 31), 1, datetime.date(2027, 1, 31)),
        (datetime.date(2026, 3, 31), 24, datetime.date(2028, 3, 31)),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


# --- issue ---------------------------------------------------------------------------------


def test_pass_issues_certificate_with_number_validity_fee_and_pdf(world, make_result):
    result = make_result(verified_on=datetime.date(2026, 1, 31))
    doc = committed(lambda: document_issue(actor=world.users["inst"], result=result))
    year = timezone.localtime(doc.issued_at).year
    assert doc.kind == IssuedDocument.Kind.CERTIFICATE
    assert doc.number == f"JD-{world.institution.pk}-{year}-000001"
    # 有效期至 = 检定日期 + 周期 − 1 日; due again on the anniversary.
    assert doc.valid_until == datetime.date(2027, 1, 30)
    assert (doc.fee, doc.waived) == (Decimal("40.00"), Decimal("10.00"))
    assert doc.institution == world.institution and doc.organization == world.ent_kundulun
    assert doc.division_id == world.ent_kundulun.division_id
    assert doc.state == IssuedDocument.State.VALID and len(doc.public_code) == 16
    data = default_storage.open(doc.pdf.name).read()
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == doc.pdf_sha256
    instrument = Instrument.objects.get(pk=result.item.instrument_id)
    assert instrument.last_verified_on == datetime.date(2026, 1, 31)
    assert instrument.next_due_on == datetime.date(2027, 1, 30)  # due by its last valid day
    event = AuditEvent.objects.filter(action="document.issue").get()
    assert event.target_id == str(doc.pk) and event.outcome == "success"


def test_numbers_count_up_per_institution_and_kind(world, make_result, other_institution):
    first = document_issue(actor=world.users["inst"], result=make_result())
    second = document_issue(actor=world.users["inst"], result=make_result())
    notice = document_issue(actor=world.users["inst"], result=make_result("fail", failure_reasons="示值误差超差"))
    assert first.number.endswith("-000001") and second.number.endswith("-000002")
    assert notice.number.startswith(f"TZ-{world.institution.pk}-") and notice.number.endswith("-000001")
    other = document_issue(actor=world.users["other_inst"], result=make_result(institution=other_institution))
    assert other.number.startswith(f"JD-{other_institution.pk}-") and other.number.endswith("-000001")


def test_fail_issues_notice_and_leaves_instrument_overdue(world, make_result):
    result = make_result("fail", verified_on=datetime.date(2026, 3, 10), failure_reasons="称量点 30 kg 示值误差超差")
    doc = document_issue(actor=world.users["inst"], result=result)
    assert doc.kind == IssuedDocument.Kind.NOTICE and doc.valid_until is None
    instrument = Instrument.objects.get(pk=result.item.instrument_id)
    assert instrument.last_verified_on == datetime.date(2026, 3, 10)
    assert instrument.next_due_on == datetime.date(2026, 3, 10)  # overdue until verified again


def test_first_verification_modes(world, make_result):
    limited = _item("98.2", VerificationMode.FIRST_LIMITED, life=60)
    scrap = _item("98.3", VerificationMode.FIRST_SCRAP)
    limited_no_life = _item("98.4", VerificationMode.FIRST_LIMITED)
    day = datetime.date(2026, 1, 31)
    doc = document_issue(actor=world.users["inst"], result=make_result(verified_on=day, catalogue_item=limited))
    assert doc.valid_until == datetime.date(2031, 1, 30)
    assert Instrument.objects.get(pk=doc.instrument_id).next_due_on == datetime.date(2031, 1, 30)
    doc = document_issue(actor=world.users["inst"], result=make_result(verified_on=day, catalogue_item=scrap))
    assert doc.valid_until is None and doc.instrument.next_due_on is None
    assert Instrument.objects.get(pk=doc.instrument_id).next_due_on is None
    doc = document_issue(actor=world.users["inst"], result=make_result(verified_on=day, catalogue_item=limited_no_life))
    assert doc.valid_until is None


def test_an_older_result_does_not_roll_the_instrument_back(world, make_result):
    newer = make_result(verified_on=datetime.date(2026, 5, 1))
    document_issue(actor=world.users["inst"], result=newer)
    instrument = newer.item.instrument
    older = make_result(verified_on=datetime.date(2026, 1, 1), instrument=instrument)
    document_issue(actor=world.users["inst"], result=older)
    instrument.refresh_from_db()
    assert instrument.last_verified_on == datetime.date(2026, 5, 1)


def test_issue_refusals(world, make_result, other_institution):
    result = make_result()
    with pytest.raises(NotFound):
        document_issue(actor=world.users["other_inst"], result=result)
    with pytest.raises(NotFound):
        document_issue(actor=world.users["ent_manager"], result=result)
    with pytest.raises(NotFound):
        document_issue(actor=world.users["inst"], result="not-an-id")
    viewer = UserFactory(username="inst_viewer")
    MembershipFactory(user=viewer, organization=world.institution, role=MembershipRole.VIEWER)
    with pytest.raises(Forbidden):
        document_issue(actor=viewer, result=result)
    document_issue(actor=world.users["inst"], result=result)
    with pytest.raises(Conflict) as exc:
        document_issue(actor=world.users["inst"], result=result)
    assert exc.value.code == "already_issued"
    assert IssuedDocument.objects.count() == 1
    assert AuditEvent.objects.filter(action="document.issue").exclude(outcome="success").count() == 5


def test_pdf_is_chinese_with_embedded_font_and_signers(world, make_result):
    from nqihub.documents.tests.helpers import assert_fonts_embedded, pdf_text

    doc = committed(lambda: document_issue(actor=world.users["inst"], result=make_result()))
    data = default_storage.open(doc.pdf.name).read()
    assert_fonts_embedded(data)
    text = pdf_text(data)
    for expected in (
        "检",
        "定",
        "证",
        "书",
        doc.number,
        "包头市质量技术监督检验测试所",
        "包头天和磁材科技股份有限公司",
        "电子计价秤",
        "ACS-30",
        "JJG 539-2016",
        "证书有效期至",
        "2027年01月30日",
        "40.00 元",
        "10.00 元",
        *SIGNERS,
        f"/verify/{doc.public_code}/",
    ):
        assert expected in text, expected


def test_notice_pdf_carries_reasons(world, make_result):
    from nqihub.documents.tests.helpers import pdf_text

    doc = committed(
        lambda: document_issue(
            actor=world.users["inst"], result=make_result("fail", failure_reasons="偏载误差超出最大允许误差")
        )
    )
    text = pdf_text(default_storage.open(doc.pdf.name).read())
    assert "检定结果通知书" in text and "不合格原因" in text and "偏载误差超出最大允许误差" in text
    assert "证书有效期至" not in text


def test_rendering_is_deterministic(world, make_result):
    from nqihub.metrology.services.documents import render_document

    doc = committed(lambda: document_issue(actor=world.users["inst"], result=make_result()))
    assert render_document(doc) == render_document(doc) == default_storage.open(doc.pdf.name).read()


# --- reissue and revoke ----------------------------------------------------------------------


def test_reissue_supersedes_and_keeps_the_old_facts(world, issued):
    before = IssuedDocument.objects.values().get(pk=issued.pk)
    new = committed(lambda: document_reissue(actor=world.users["inst"], document=issued.pk, reason="委托单位名称更正"))
    old = IssuedDocument.objects.values().get(pk=issued.pk)
    assert old["state"] == "superseded" and old["superseded_by_id"] == new.pk
    changed = {k for k in old if old[k] != before[k]}
    assert changed == {"state", "superseded_by_id"}
    assert new.number != issued.number and new.public_code != issued.public_code
    assert (new.kind, new.valid_until, new.fee, new.waived, new.result_id) == (
        issued.kind,
        issued.valid_until,
        issued.fee,
        issued.waived,
        issued.result_id,
    )
    assert new.pdf_sha256 and new.pdf_sha256 != issued.pdf_sha256
    assert (
        AuditEvent.objects.filter(action="document.reissue", outcome="success").get().details["reason"]
        == "委托单位名称更正"
    )
    with pytest.raises(Conflict):
        document_reissue(actor=world.users["inst"], document=issued, reason="再次")


def test_revoke_needs_a_reason_and_records_it(world, issued):
    with pytest.raises(InvalidInput) as exc:
        document_revoke(actor=world.users["inst"], document=issued, reason="  ")
    assert exc.value.code == "reason_required"
    issued.refresh_from_db()
    assert issued.state == "valid"
    doc = document_revoke(actor=world.users["inst"], document=issued, reason="检定数据录入错误")
    assert doc.state == "revoked" and doc.revoked_reason == "检定数据录入错误" and doc.revoked_at
    instrument = Instrument.objects.get(pk=doc.instrument_id)
    assert instrument.next_due_on == timezone.localdate()  # no valid certificate: due now
    with pytest.raises(Conflict):
        document_revoke(actor=world.users["inst"], document=issued, reason="again")


def test_only_the_issuing_institution_reissues_or_revokes(world, issued, other_institution):
    for user, error in (
        (world.users["other_inst"], NotFound),
        (world.users["ent_other"], NotFound),
        (world.users["ent_manager"], Forbidden),
        (world.users["kundulun"], Forbidden),
        (world.users["sysadmin"], NotFound),
    ):
        with pytest.raises(error):
            document_revoke(actor=user, document=issued, reason="x")
        with pytest.raises(error):
            document_reissue(actor=user, document=issued, reason="x")
    issued.refresh_from_db()
    assert issued.state == "valid"
    assert AuditEvent.objects.filter(action__in=["document.revoke", "document.reissue"], outcome="denied").count() == 10


def test_scoping(world, issued, other_institution):
    def visible(name):
        return set(IssuedDocument.objects.for_user(world.users[name]).values_list("pk", flat=True))

    assert visible("ent_manager") == {issued.pk}
    assert visible("inst") == {issued.pk}
    assert visible("kundulun") == visible("baotou") == visible("region") == {issued.pk}
    for name in ("ent_other", "other_inst", "qingshan", "xincheng", "sysadmin", "auditor"):
        assert visible(name) == set(), name


# --- pages -----------------------------------------------------------------------------------


def test_parties_see_detail_and_download(web, world, issued, other_institution):
    for name in ("ent_manager", "inst", "kundulun"):
        client = web(world.users[name])
        response = client.get(f"/metrology/documents/{issued.pk}/")
        assert response.status_code == 200, name
        assert issued.number in response.content.decode()
        pdf = client.get(f"/metrology/documents/{issued.pk}/pdf/")
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert (
            hashlib.sha256(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content).hexdigest()
            == issued.pdf_sha256
        )
    for name in ("ent_other", "other_inst", "qingshan"):
        client = web(world.users[name])
        assert client.get(f"/metrology/documents/{issued.pk}/").status_code == 404, name
        assert client.get(f"/metrology/documents/{issued.pk}/pdf/").status_code == 404, name


def test_document_list_is_scoped(web, world, issued, other_institution):
    response = web(world.users["ent_manager"]).get("/metrology/documents/")
    assert response.status_code == 200 and issued.number in response.content.decode()
    response = web(world.users["ent_other"]).get("/metrology/documents/")
    assert response.status_code == 200 and issued.number not in response.content.decode()


def test_institution_revokes_and_reissues_from_the_page(web, world, issued):
    client = web(world.users["inst"])
    response = client.post(f"/metrology/documents/{issued.pk}/revoke/", {"reason": ""})
    assert response.status_code == 400
    issued.refresh_from_db()
    assert issued.state == "valid"
    response = client.post(f"/metrology/documents/{issued.pk}/reissue/", {"reason": "更正型号"})
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.state == "superseded"
    new = issued.superseded_by
    response = client.post(f"/metrology/documents/{new.pk}/revoke/", {"reason": "误发"})
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.state == "revoked"


def test_enterprise_cannot_revoke_from_the_page(web, world, issued):
    response = web(world.users["ent_manager"]).post(f"/metrology/documents/{issued.pk}/revoke/", {"reason": "x"})
    assert response.status_code == 403
    issued.refresh_from_db()
    assert issued.state == "valid"


# --- API -------------------------------------------------------------------------------------


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    def _as(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _as


def test_api_list_and_retrieve_are_scoped(api, world, issued, other_institution):
    response = api(world.users["ent_manager"]).get("/api/v1/documents/")
    assert response.status_code == 200
    assert [d["number"] for d in response.json()["results"]] == [issued.number]
    body = api(world.users["inst"]).get(f"/api/v1/documents/{issued.pk}/").json()
    assert body["public_code"] == issued.public_code and body["state"] == "valid" and body["status"] == "valid"
    assert body["check_url"].endswith(f"/verify/{issued.public_code}/")
    assert api(world.users["other_inst"]).get(f"/api/v1/documents/{issued.pk}/").status_code == 404
    assert api(world.users["ent_other"]).get("/api/v1/documents/").json()["results"] == []


def test_api_revoke_and_reissue(api, world, issued, other_institution):
    response = api(world.users["inst"]).post(f"/api/v1/documents/{issued.pk}/revoke/", {"reason": ""}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "reason_required"
    response = api(world.users["other_inst"]).post(
        f"/api/v1/documents/{issued.pk}/revoke/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 404
    response = api(world.users["ent_manager"]).post(
        f"/api/v1/documents/{issued.pk}/reissue/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    response = api(world.users["inst"]).post(
        f"/api/v1/documents/{issued.pk}/reissue/", {"reason": "更正"}, format="json"
    )
    assert response.status_code == 201
    new_id = response.json()["id"]
    response = api(world.users["inst"]).post(f"/api/v1/documents/{new_id}/revoke/", {"reason": "误发"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "revoked"


def test_a_document_changes_state_only_by_its_transitions(world, issued):
    """The state is a protected state machine: valid → superseded or revoked, never back."""
    from django_fsm import TransitionNotAllowed

    with pytest.raises(AttributeError):
        issued.state = IssuedDocument.State.REVOKED
    revoked = document_revoke(actor=world.users["inst"], document=issued, reason="误发")
    assert revoked.state == IssuedDocument.State.REVOKED
    with pytest.raises(TransitionNotAllowed):
        revoked.supersede(revoked)
    issued.refresh_from_db()  # a protected field can still be re-read
    assert issued.state == IssuedDocument.State.REVOKED and issued.revoked_reason == "误发"


def test_a_document_carries_its_verification_day_and_a_reissue_keeps_it(world, issued):
    """Statistics count documents by the day of the verification, not of the document."""
    assert issued.verified_on == issued.result.verified_on == datetime.date(2026, 1, 31)
    new = document_reissue(actor=world.users["inst"], document=issued, reason="更正")
    assert new.verified_on == issued.verified_on and new.issued_at > issued.issued_at
