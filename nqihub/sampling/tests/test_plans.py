"""Annual plans: filed with the regulator one level above, returned with a reason or approved
by it; the region's own plan is approved on submission; nobody else decides."""

from __future__ import annotations

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.sampling.models import AnnualPlan
from nqihub.sampling.services import plans as services

pytestmark = pytest.mark.django_db

DATA = {"year": 2026, "title": "昆都仑区2026年产品质量监督抽查计划", "summary": "乳制品、建材"}


def test_a_county_plan_is_filed_with_the_city_and_approved_there(world, sampling):
    plan = services.plan_submit(actor=world.users["kundulun"], data=DATA)
    assert plan.case.number.startswith("CCJH2026") or plan.case.number.startswith("CCJH")
    assert plan.case.state == "submitted"
    assert plan.case.handling_organization == world.baotou_reg
    assert plan.division_id == "150203"
    # Neither the county itself, a sibling county, the region nor an enterprise approves it.
    with pytest.raises(Forbidden):
        services.plan_approve(actor=world.users["kundulun"], plan=plan)
    with pytest.raises(NotFound):
        services.plan_approve(actor=world.users["qingshan"], plan=plan)
    with pytest.raises(Forbidden):
        services.plan_approve(actor=world.users["region"], plan=plan)
    with pytest.raises(NotFound):
        services.plan_approve(actor=world.users["ent_manager"], plan=plan)
    assert AuditEvent.objects.filter(action="sampling.plan_approve", outcome="denied").count() == 4
    approved = services.plan_approve(actor=world.users["baotou"], plan=plan.pk)
    assert approved.case.state == "approved"
    with pytest.raises(Conflict):
        services.plan_approve(actor=world.users["baotou"], plan=plan.pk)


def test_a_returned_plan_states_why_and_is_filed_again(world, sampling):
    plan = services.plan_submit(actor=world.users["kundulun"], data=DATA)
    with pytest.raises(InvalidInput):
        services.plan_return(actor=world.users["baotou"], plan=plan, reason="  ")
    services.plan_return(actor=world.users["baotou"], plan=plan, reason="未列明抽查比例")
    plan.case.refresh_from_db()
    assert plan.case.state == "returned"
    assert plan.case.events.filter(kind="returned", note="未列明抽查比例").exists()
    with pytest.raises(Forbidden):
        services.plan_resubmit(actor=world.users["kundulun_viewer"], plan=plan, data=DATA)
    again = services.plan_resubmit(actor=world.users["kundulun"], plan=plan, data={**DATA, "summary": "比例5%"})
    assert again.case.state == "submitted" and again.summary == "比例5%"


def test_the_regions_plan_is_approved_on_submission(world, sampling):
    plan = services.plan_submit(actor=world.users["region"], data={**DATA, "title": "自治区2026年计划"})
    assert plan.case.state == "approved"
    assert plan.case.handling_organization is None


def test_only_working_regulators_file_plans_and_bad_input_changes_nothing(world, sampling):
    before = AnnualPlan.objects.count()
    for user in ("ent_manager", "inst", "kundulun_viewer", "applicant"):
        with pytest.raises(Forbidden):
            services.plan_submit(actor=world.users[user], data=DATA)
    for bad in ({**DATA, "year": "二〇二六"}, {**DATA, "title": ""}, {**DATA, "year": 1900}):
        with pytest.raises(InvalidInput):
            services.plan_submit(actor=world.users["kundulun"], data=bad)
    services.plan_submit(actor=world.users["kundulun"], data=DATA)
    with pytest.raises(Conflict):
        services.plan_submit(actor=world.users["kundulun"], data=DATA)
    assert AnnualPlan.objects.count() == before + 1
