"""The domain rows keep copies of their case (number, state, submission and decision times,
the application's acceptance deadline) for their own constraints, indexes and searches. Every
case transition of each kind is run through the domain services, and after each one the copies
equal the case: they cannot drift."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from nqihub.cases.models import Case
from nqihub.metrology.models import InstrumentFiling, VerificationApplication
from nqihub.metrology.services import applications as application_services
from nqihub.metrology.services import filings as filing_services
from nqihub.organizations import services as registration_services
from nqihub.organizations.models import EnterpriseRegistration
from nqihub.testing.factories import valid_code

from .test_applications import metrology_institution, signers, submit  # noqa: F401 - fixtures

REGISTRATION_DATA = {
    "name": "包头副本测试有限公司", "division": "150203", "address": "a", "legal_representative": "b",
    "contact_name": "c", "contact_phone": "13900000000",
}  # fmt: skip


def assert_copies(row) -> None:
    row.refresh_from_db()
    case = Case.objects.get(pk=row.case_id)
    assert row.number == case.number
    assert row.submitted_at == case.submitted_at
    if isinstance(row, VerificationApplication):
        # After acceptance the application keeps its own finer working states.
        if row.state in (VerificationApplication.State.SCHEDULED, VerificationApplication.State.COMPLETED):
            assert case.state == Case.State.ACCEPTED
        else:
            assert row.state == case.state
        assert row.accept_by == case.deadline
        assert (row.decided_at, row.decided_by_id) == (case.decided_at, case.decided_by_id)
    else:
        assert row.state == case.state
        if row.state in ("returned", "approved"):
            assert (row.reviewed_at, row.reviewed_by_id) == (case.decided_at, case.decided_by_id)


def _registration(world, n):
    return registration_services.registration_submit(
        actor=world.users["applicant"], data={"credit_code": valid_code(n), **REGISTRATION_DATA}
    )


def test_registration_copies_follow_every_transition(world):
    users = world.users
    approved = _registration(world, 7601)
    assert_copies(approved)
    registration_services.registration_return(actor=users["kundulun"], registration=approved, reason="补充地址")
    assert_copies(approved)
    approved = EnterpriseRegistration.objects.get(pk=approved.pk)
    registration_services.registration_resubmit(
        actor=users["applicant"], registration=approved, data={"credit_code": approved.credit_code, **REGISTRATION_DATA}
    )
    assert_copies(approved)
    registration_services.registration_approve(actor=users["kundulun"], registration=approved)
    assert_copies(approved)

    withdrawn = _registration(world, 7602)
    registration_services.registration_withdraw(actor=users["applicant"], registration=withdrawn)
    assert_copies(withdrawn)
    returned_then_withdrawn = _registration(world, 7603)
    registration_services.registration_return(actor=users["kundulun"], registration=returned_then_withdrawn, reason="x")
    registration_services.registration_withdraw(actor=users["applicant"], registration=returned_then_withdrawn)
    assert_copies(returned_then_withdrawn)


def test_filing_copies_follow_every_transition(world, instruments):
    users, ids = world.users, [instruments["kundulun"].pk]
    filing = filing_services.filing_submit(actor=users["ent_manager"], instrument_ids=ids)
    assert_copies(filing)
    filing_services.filing_return(actor=users["kundulun"], filing=filing, reason="补充安装地点")
    assert_copies(filing)
    filing_services.filing_resubmit(actor=users["ent_manager"], filing=filing.pk, instrument_ids=ids)
    assert_copies(filing)
    filing_services.filing_approve(actor=users["kundulun"], filing=filing.pk)
    assert_copies(InstrumentFiling.objects.get(pk=filing.pk))


def test_application_copies_follow_every_transition(world, instruments, signers):  # noqa: F811 - fixture
    users = world.users
    # One instrument, one open application at a time: withdraw, reject, then accept and schedule.
    withdrawn = submit(world, instruments)
    assert_copies(withdrawn)
    application_services.application_withdraw(actor=users["ent_manager"], application=withdrawn.pk)
    assert_copies(withdrawn)
    rejected = submit(world, instruments)
    application_services.application_reject(actor=users["inst"], application=rejected.pk, reason="超出能力")
    assert_copies(rejected)
    accepted = submit(world, instruments)
    application_services.application_accept(actor=users["inst"], application=accepted.pk)
    assert_copies(accepted)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    application_services.application_schedule(actor=users["inst"], application=accepted.pk, on_date=tomorrow)
    assert_copies(accepted)


@pytest.mark.django_db
def test_every_kind_with_a_domain_row_is_covered():
    """A new kind of case with a domain row needs its own transitions above."""
    from nqihub.cases import kinds

    covered = {"enterprise_registration", "instrument_filing", "verification_application"}
    # Kinds whose domain row keeps no copy of the case's state or number (it reads them through
    # its case), so there is nothing to keep in step.
    no_copies = {"sampling_plan", "sampling_record", "sampling_objection"}
    assert {k.code for k in kinds.all_kinds() if k.subject} == covered | no_copies
