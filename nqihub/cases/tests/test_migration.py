"""The migrations that move registrations, filings and applications onto cases, run on rows made
in the old shape: every row gets its case under the number it already had, the states and
decisions are kept, the applications' timeline steps move over as they were, registrations and
filings get a timeline built from their own fields, and new numbers never collide with them."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

OLD = [("organizations", "0002_verbose_names"), ("metrology", "0014_import_job_background")]
NEW = [("organizations", "0005_registration_case_required"), ("metrology", "0017_cases_required")]


def _at(day: int, hour: int = 9):
    return timezone.make_aware(datetime.datetime(2026, 5, day, hour, 0))


def _old_rows(apps) -> dict:
    User = apps.get_model("accounts", "User")
    Organization = apps.get_model("organizations", "Organization")
    Registration = apps.get_model("organizations", "EnterpriseRegistration")
    Filing = apps.get_model("metrology", "InstrumentFiling")
    Application = apps.get_model("metrology", "VerificationApplication")
    Event = apps.get_model("metrology", "ApplicationEvent")
    applicant = User.objects.create(username="mig_applicant")
    reviewer = User.objects.create(username="mig_reviewer")
    ent = Organization.objects.create(
        kind="enterprise", name="迁移企业", credit_code="91150203MA0N000011", division_id="150203"
    )
    inst = Organization.objects.create(
        kind="institution", name="迁移检定所", credit_code="12150200MB0N000022", division_id="150200"
    )
    common = dict(
        applicant=applicant, division_id="150203", address="a", legal_representative="b", contact_name="c",
        contact_phone="d",
    )  # fmt: skip
    regs = {
        "open": Registration.objects.create(
            number="QY20260501000001", credit_code="91150203MA0N000033", name="甲", state="submitted",
            submitted_at=_at(1), **common,
        ),
        "returned": Registration.objects.create(
            number="QY20260501000002", credit_code="91150203MA0N000044", name="乙", state="returned",
            submitted_at=_at(1), reviewed_at=_at(2), reviewed_by=reviewer, return_reason="地址不全", **common,
        ),
        "approved": Registration.objects.create(
            number="QY20260501000003", credit_code=ent.credit_code, name="丙", state="approved",
            submitted_at=_at(3), reviewed_at=_at(4), reviewed_by=reviewer, return_reason="补正", organization=ent,
            **common,
        ),
    }  # fmt: skip
    filings = {
        "resubmitted": Filing.objects.create(
            number="BA20260501000007", organization=ent, division_id="150203", state="submitted",
            submitted_by=applicant, submitted_at=_at(6), reviewed_by=reviewer, reviewed_at=_at(5),
            return_reason="缺少安装地点",
        ),
        "approved": Filing.objects.create(
            number="BA20260502000008", organization=ent, division_id="150203", state="approved",
            submitted_by=applicant, submitted_at=_at(2), reviewed_by=reviewer, reviewed_at=_at(3),
        ),
    }  # fmt: skip
    application = Application.objects.create(
        number="BJ20260501000009", organization=ent, institution=inst, division_id="150203", mode="drop_off",
        contact_name="c", contact_phone="d", state="scheduled", submitted_by=applicant, submitted_at=_at(1),
        accept_by=_at(4, 9), decided_at=_at(2), decided_by=reviewer, scheduled_on=datetime.date(2026, 5, 9),
    )  # fmt: skip
    for at, actor, kind, note in [
        (_at(1), applicant, "submitted", ""),
        (_at(2), reviewer, "accepted", ""),
        (_at(2, 10), reviewer, "scheduled", "2026-05-09"),
    ]:
        Event.objects.create(application=application, at=at, actor=actor, kind=kind, note=note)
    return {"regs": regs, "filings": filings, "application": application, "applicant": applicant, "reviewer": reviewer}


# serialized_rollback: the test starts from the migrated reference data (divisions) and leaves
# the content types as the tests after it expect them.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_existing_rows_become_cases_with_their_numbers_and_timelines():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(OLD)
        old = _old_rows(MigrationExecutor(connection).loader.project_state(OLD).apps)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(NEW)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    from nqihub.cases import services as cases
    from nqihub.cases.models import Case
    from nqihub.metrology.models import InstrumentFiling, VerificationApplication
    from nqihub.organizations.models import EnterpriseRegistration

    applicant, reviewer = old["applicant"].pk, old["reviewer"].pk

    def steps(case):
        return [(e.kind, e.actor_id, e.note) for e in case.events.order_by("at", "pk")]

    # Registrations: numbers kept, states copied, a timeline from their fields.
    regs = {r.number: r for r in EnterpriseRegistration.objects.select_related("case")}
    assert {n: (r.case.number, r.case.kind, r.case.state) for n, r in regs.items()} == {
        "QY20260501000001": ("QY20260501000001", "enterprise_registration", "submitted"),
        "QY20260501000002": ("QY20260501000002", "enterprise_registration", "returned"),
        "QY20260501000003": ("QY20260501000003", "enterprise_registration", "approved"),
    }
    assert steps(regs["QY20260501000001"].case) == [("submitted", applicant, "")]
    assert steps(regs["QY20260501000002"].case) == [("submitted", applicant, ""), ("returned", reviewer, "地址不全")]
    approved = regs["QY20260501000003"].case
    assert steps(approved) == [("resubmitted", applicant, "补正"), ("approved", reviewer, "")]
    assert (approved.decided_by_id, approved.closed_at, approved.applicant_organization_id) == (
        reviewer,
        _at(4),
        regs["QY20260501000003"].organization_id,
    )

    # Filings: likewise.
    filings = {f.number: f for f in InstrumentFiling.objects.select_related("case")}
    resubmitted = filings["BA20260501000007"].case
    assert resubmitted.state == "submitted"
    assert steps(resubmitted) == [("returned", reviewer, "缺少安装地点"), ("resubmitted", applicant, "")]
    assert steps(filings["BA20260502000008"].case) == [("submitted", applicant, ""), ("approved", reviewer, "")]

    # The application: the case is accepted (its own working state stays "scheduled"), the
    # deadline is the promised acceptance time, the steps moved as they were.
    application = VerificationApplication.objects.select_related("case").get()
    assert application.state == "scheduled" and application.case.state == "accepted"
    assert application.case.number == "BJ20260501000009"
    assert (application.case.deadline, application.case.handling_organization_id) == (
        _at(4, 9),
        application.institution_id,
    )
    assert steps(application.case) == [
        ("submitted", applicant, ""),
        ("accepted", reviewer, ""),
        ("scheduled", reviewer, "2026-05-09"),
    ]

    # New numbers follow the kernel's form and never collide with the kept ones.
    numbers = {cases.next_number(kind, on_date=datetime.date(2026, 5, 1)) for kind in
               ("enterprise_registration", "instrument_filing", "verification_application")}  # fmt: skip
    assert numbers == {"QY2026000001", "BA2026000001", "BJ2026000001"}
    assert Case.objects.count() == 6
