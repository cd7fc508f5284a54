"""Attachments and rating on a case's page (the ``cases/_case_panel.html`` include): the applicant
uploads materials where the kind takes them, within the limits; a file is downloaded only by
those who may see the case, through a view that checks it (never a public media URL); a decided
case of a rated kind is rated once, by the applicant only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from nqihub.audit.models import AuditEvent
from nqihub.cases import services as cases
from nqihub.cases.models import Case, CaseAttachment
from nqihub.core.errors import Forbidden, NotFound, ServiceError
from nqihub.organizations import services as registration_services
from nqihub.testing.factories import valid_code

from .test_kernel import TEST_KIND  # noqa: F401  (registers the rated test kind)

PDF = b"%PDF-1.4 material"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def registration(world):
    return registration_services.registration_submit(
        actor=world.users["applicant"],
        data={
            "credit_code": valid_code(7501), "name": "包头材料测试有限公司", "division": "150203", "address": "a",
            "legal_representative": "b", "contact_name": "c", "contact_phone": "13900000000",
        },
    )  # fmt: skip


def _upload(client, case, name="licence.pdf", data=PDF):
    return client.post(f"/cases/{case.pk}/attach/", {"file": SimpleUploadedFile(name, data)})


def test_the_applicant_attaches_and_the_page_lists_it(world, web, registration):
    client = web(world.users["applicant"])
    page = client.get(registration.get_absolute_url()).content.decode()
    assert 'data-testid="attach-form"' in page
    response = _upload(client, registration.case)
    assert response.status_code == 302 and response["Location"] == registration.get_absolute_url()
    attachment = CaseAttachment.objects.get(case=registration.case)
    page = client.get(registration.get_absolute_url()).content.decode()
    link = f"/cases/{registration.case.pk}/files/{attachment.pk}/"
    assert link in page and "licence.pdf" in page
    assert "/media/" not in page and attachment.file.name not in page
    assert AuditEvent.objects.filter(action="case.attach", outcome="success").count() == 1
    # The reviewing regulator sees the file but has no upload form.
    assert (
        'data-testid="attach-form"'
        not in web(world.users["kundulun"]).get(registration.get_absolute_url()).content.decode()
    )


@pytest.mark.parametrize(
    ("name", "data", "limit"),
    [
        ("virus.exe", PDF, None),  # a type not taken
        ("empty.pdf", b"", None),
        ("big.pdf", b"x" * 64, ("MAX_ATTACHMENT_BYTES", 32)),
        ("second.pdf", PDF, ("MAX_ATTACHMENTS_PER_CASE", 1)),
    ],
)
def test_upload_limits_refuse_with_a_message_and_change_nothing(
    world, web, registration, monkeypatch, name, data, limit
):
    client = web(world.users["applicant"])
    if limit is not None:
        monkeypatch.setattr(cases, limit[0], limit[1])
    if name == "second.pdf":
        _upload(client, registration.case, "first.pdf")
    before = CaseAttachment.objects.count()
    response = _upload(client, registration.case, name, data)
    assert response.status_code == 302
    assert CaseAttachment.objects.count() == before
    page = client.get(registration.get_absolute_url()).content.decode()
    assert 'class="msg msg-error"' in page
    assert AuditEvent.objects.filter(action="case.attach", outcome="failure").count() == 1


def test_only_the_applicant_attaches_and_only_while_open(world, web, registration):
    case = registration.case
    for outsider, status in (("kundulun", 302), ("ent_other", 404), ("inst", 404)):
        assert _upload(web(world.users[outsider]), case).status_code == status
    assert not CaseAttachment.objects.exists()
    assert AuditEvent.objects.filter(action="case.attach", outcome="denied").count() == 3
    registration_services.registration_withdraw(actor=world.users["applicant"], registration=registration)
    _upload(web(world.users["applicant"]), case)
    assert not CaseAttachment.objects.exists()
    # A kind that takes no materials (a filing, or the test kind) refuses too.
    other = cases.case_open(
        kind="test_review", actor=world.users["ent_manager"], applicant_organization=world.ent_kundulun
    )
    with pytest.raises(ServiceError) as refused:
        cases.case_attach_material(other.pk, actor=world.users["ent_manager"], upload=SimpleUploadedFile("a.pdf", PDF))
    assert refused.value.code == "attachments_closed"


def test_downloads_only_for_those_who_see_the_case(world, web, registration, client):
    attachment = cases.case_attach_material(
        registration.case.pk, actor=world.users["applicant"], upload=SimpleUploadedFile("licence.pdf", PDF)
    )
    url = f"/cases/{registration.case.pk}/files/{attachment.pk}/"
    for reader in ("applicant", "kundulun", "baotou", "region"):
        response = web(world.users[reader]).get(url)
        assert response.status_code == 200, reader
        assert b"".join(response.streaming_content) == PDF
        assert "attachment" in response["Content-Disposition"] and response["Cache-Control"] == "private, no-store"
    for outsider in ("ent_other", "xincheng", "qingshan", "inst", "sysadmin"):
        assert web(world.users[outsider]).get(url).status_code == 404, outsider
    client.logout()
    assert client.get(url).status_code == 302
    # An attachment id guessed under another case the reader may see is not found either.
    other = cases.case_open(kind="test_review", actor=world.users["applicant"], division=world.kundulun_reg.division)
    assert web(world.users["applicant"]).get(f"/cases/{other.pk}/files/{attachment.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="case.attachment_download", outcome="success").count() == 4


def test_rating_once_by_the_applicant_after_the_decision(world, web):
    users = world.users
    case = cases.case_open(
        kind="test_review", actor=users["ent_manager"], applicant_organization=world.ent_kundulun,
        handling_organization=world.institution, division=world.ent_kundulun.division,
    )  # fmt: skip
    with pytest.raises(ServiceError) as refused:
        cases.case_rate_by_applicant(case.pk, actor=users["ent_manager"], score=5)
    assert refused.value.code == "not_decided"
    cases.case_approve(case, actor=users["inst"])
    # The handler and regulators see the case but do not rate it; outsiders do not see it.
    with pytest.raises(Forbidden):
        cases.case_rate_by_applicant(case.pk, actor=users["inst"], score=1)
    with pytest.raises(Forbidden):
        cases.case_rate_by_applicant(case.pk, actor=users["kundulun"], score=1)
    with pytest.raises(NotFound):
        cases.case_rate_by_applicant(case.pk, actor=users["ent_other"], score=1)
    response = web(users["ent_clerk"]).post(f"/cases/{case.pk}/rate/", {"score": "9", "comment": "?"})
    assert response.status_code == 302 and Case.objects.get(pk=case.pk).rating_score is None
    web(users["ent_clerk"]).post(f"/cases/{case.pk}/rate/", {"score": "4", "comment": "办理及时"})
    rated = Case.objects.get(pk=case.pk)
    assert (rated.rating_score, rated.rating_comment, rated.rated_by) == (4, "办理及时", users["ent_clerk"])
    web(users["ent_manager"]).post(f"/cases/{case.pk}/rate/", {"score": "1"})
    assert Case.objects.get(pk=case.pk).rating_score == 4
    assert AuditEvent.objects.filter(action="case.rate", outcome="success").count() == 1
    assert AuditEvent.objects.filter(action="case.rate", outcome="denied").count() == 3
    assert web(users["ent_other"]).post(f"/cases/{case.pk}/rate/", {"score": "5"}).status_code == 404
