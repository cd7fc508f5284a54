# ruff: noqa: F811 - the fixtures imported from test_applications are used as arguments
"""Recording results: three different signers of the institution (service and database), the
document issued, the application completed; every refusal with its code, changing nothing;
the whole flow through the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.metrology.models import Instrument, IssuedDocument, VerificationApplication, VerificationResult
from nqihub.metrology.services import applications as app_services
from nqihub.metrology.services.documents import certificate_valid_until
from nqihub.metrology.services.results import result_record

from .test_applications import (  # noqa: F401 - fixtures
    accepted,
    metrology_institution,
    signers,
    submitted,
)

RECORD = "verification_result.record"


def _record(world, application, *, user="inst", trio=None, **overrides):
    trio = trio or ("inst", "inst_checker", "inst_approver")
    data = {
        "item": application.items.get().pk,
        "outcome": "pass",
        "verified_on": timezone.localdate(),
        "readings": "示值误差 +0.5 e",
        "verifier_id": world.users[trio[0]].pk,
        "checker_id": world.users[trio[1]].pk,
        "approver_id": world.users[trio[2]].pk,
    }
    data.update(overrides)
    return result_record(actor=world.users[user], **data)


def _state():
    return (
        list(VerificationResult.objects.values_list("pk", flat=True)),
        list(IssuedDocument.objects.values_list("pk", flat=True)),
        list(VerificationApplication.objects.values_list("pk", "state")),
    )


def _refused(call, error, code):
    before = _state()
    with pytest.raises(error) as exc:
        call()
    assert exc.value.code == code
    assert _state() == before
    assert AuditEvent.objects.filter(action=RECORD).exclude(outcome="success").latest("seq").details["code"] == code
    return exc.value


@pytest.mark.django_db
def test_pass_issues_a_certificate_and_completes_the_application(world, accepted, instruments, scale):
    result, created = _record(world, accepted)
    assert created and result.institution == world.institution
    document = result.documents.get()
    assert document.kind == "certificate" and document.number
    assert scale.period_months and document.valid_until == certificate_valid_until(result)
    application = VerificationApplication.objects.get(pk=accepted.pk)
    assert application.state == "completed"
    kinds = list(application.case.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "accepted", "result_pass", "completed"]
    # The timeline reads in each reader's language: the outcome is in the step, not the note.
    note = application.case.events.get(kind="result_pass").note
    assert document.number in note and "合格" not in note and "pass" not in note
    instrument = Instrument.objects.get(pk=instruments["kundulun"].pk)
    assert instrument.last_verified_on == timezone.localdate()


@pytest.mark.django_db
def test_fail_needs_reasons_and_issues_a_notice(world, accepted):
    _refused(lambda: _record(world, accepted, outcome="fail"), InvalidInput, "failure_reasons_required")
    result, _ = _record(world, accepted, outcome="fail", failure_reasons="示值误差超差")
    assert result.documents.get().kind == "notice"


@pytest.mark.django_db
def test_signature_rules(world, accepted):
    _refused(lambda: _record(world, accepted, trio=("inst", "inst", "inst_approver")), InvalidInput, "same_signer")
    _refused(lambda: _record(world, accepted, trio=("inst", "inst_checker", "inst")), InvalidInput, "same_signer")
    _refused(
        lambda: _record(world, accepted, trio=("inst", "inst_checker", "other_inst")), InvalidInput, "signer_not_member"
    )
    _refused(lambda: _record(world, accepted, approver_id=None), InvalidInput, "signer_not_member")


@pytest.mark.django_db
def test_three_signatures_are_enforced_by_the_database(world, accepted):
    item = accepted.items.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        VerificationResult.objects.create(
            item=item,
            outcome="pass",
            verified_on=timezone.localdate(),
            verifier=world.users["inst"],
            checker=world.users["inst"],
            approver=world.users["inst_approver"],
            institution=world.institution,
            recorded_at=timezone.now(),
        )


@pytest.mark.django_db
def test_who_may_record_and_when(world, submitted, instruments):
    _refused(lambda: _record(world, submitted), Conflict, "invalid_state")  # not accepted yet
    app_services.application_accept(actor=world.users["inst"], application=submitted)
    _refused(lambda: _record(world, submitted, user="other_inst"), NotFound, "not_found")
    _refused(lambda: _record(world, submitted, user="ent_manager"), Forbidden, "permission_denied")
    _refused(lambda: _record(world, submitted, user="inst_approver"), Forbidden, "permission_denied")  # a viewer
    _refused(
        lambda: _record(world, submitted, verified_on=timezone.localdate() + timedelta(days=1)),
        InvalidInput,
        "date_in_future",
    )
    _refused(lambda: _record(world, submitted, outcome="maybe"), InvalidInput, "invalid_outcome")
    _record(world, submitted)
    _refused(lambda: _record(world, submitted), Conflict, "invalid_state")  # completed


@pytest.mark.django_db
def test_the_whole_flow_through_the_pages(world, instruments, signers, web):
    page = web(world.users["ent_manager"])
    step1 = page.get("/metrology/applications/new/?show=new")
    assert step1.status_code == 200 and "K-0001" in step1.content.decode()
    step2 = page.post("/metrology/applications/new/", {"step": "choose", "instruments": [instruments["kundulun"].pk]})
    assert step2.status_code == 200 and world.institution.name in step2.content.decode()
    bad = page.post(
        "/metrology/applications/new/",
        {
            "step": "submit",
            "instruments": [instruments["kundulun"].pk],
            "institution": world.institution.pk,
            "mode": "on_site",
            "contact_name": "李四",
            "contact_phone": "123",
        },
    )
    assert bad.status_code == 400 and not VerificationApplication.objects.exists()
    done = page.post(
        "/metrology/applications/new/",
        {
            "step": "submit",
            "instruments": [instruments["kundulun"].pk],
            "institution": world.institution.pk,
            "mode": "drop_off",
            "contact_name": "李四",
            "contact_phone": "123",
        },
    )
    application = VerificationApplication.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/metrology/applications/{application.pk}/"
    # Someone else's instrument in the form: refused, nothing made.
    other = page.post(
        "/metrology/applications/new/",
        {
            "step": "submit",
            "instruments": [instruments["xincheng"].pk],
            "institution": world.institution.pk,
            "mode": "drop_off",
            "contact_name": "李四",
            "contact_phone": "123",
        },
    )
    assert other.status_code == 400 and VerificationApplication.objects.count() == 1

    inst = web(world.users["inst"])
    inbox = inst.get("/metrology/applications/").content.decode()
    assert application.number in inbox
    detail = inst.get(f"/metrology/applications/{application.pk}/").content.decode()
    assert 'data-testid="accept"' in detail
    inst.post(f"/metrology/applications/{application.pk}/accept/")
    inst.post(f"/metrology/applications/{application.pk}/schedule/", {"on_date": timezone.localdate().isoformat()})
    assert VerificationApplication.objects.get().state == "scheduled"
    item = application.items.get()
    detail = inst.get(f"/metrology/applications/{application.pk}/").content.decode()
    assert f'data-testid="result-form-{item.pk}"' in detail and "inst_checker" in detail
    form = {
        "outcome": "pass",
        "verified_on": timezone.localdate().isoformat(),
        "verifier": world.users["inst"].pk,
        "checker": world.users["inst"].pk,
        "approver": world.users["inst_approver"].pk,
    }
    inst.post(f"/metrology/applications/{application.pk}/items/{item.pk}/result/", form)
    assert not VerificationResult.objects.exists()  # same signer twice: refused
    form["checker"] = world.users["inst_checker"].pk
    inst.post(f"/metrology/applications/{application.pk}/items/{item.pk}/result/", form)
    assert VerificationApplication.objects.get().state == "completed"
    # Another institution cannot even post to it.
    assert web(world.users["other_inst"]).post(f"/metrology/applications/{application.pk}/accept/").status_code == 404
    # The enterprise sees the timeline and the certificate.
    mine = web(world.users["ent_manager"]).get(f"/metrology/applications/{application.pk}/").content.decode()
    assert IssuedDocument.objects.get().number in mine and 'data-testid="timeline"' in mine


@pytest.mark.django_db
def test_overdue_is_marked_in_the_inbox(world, submitted, web):
    VerificationApplication.objects.filter(pk=submitted.pk).update(accept_by=timezone.now() - timedelta(hours=1))
    inbox = web(world.users["inst"]).get("/metrology/applications/").content.decode()
    assert 'data-testid="overdue"' in inbox
