"""Batches: created by the plan's office under an approved plan, within its area, with a size the
rules allow, testing institutions qualified for the category, a number from the numbering
service; follow-up checks draw from an earlier batch's failures, emergency checks state why."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from nqihub.cases import services as case_services
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.sampling.models import AnnualPlan, Batch, InspectionItem, SamplingRecord
from nqihub.sampling.services import batches as services
from nqihub.sampling.services import draws

pytestmark = pytest.mark.django_db


def _data(sampling, world, **over):
    data = {
        "kind": "random",
        "title": "2026年第二批乳制品抽查",
        "item": sampling.item.pk,
        "division": "150200",
        "object_count": 3,
        "starts_on": "2026-05-01",
        "ends_on": "2026-06-30",
        "institutions": [world.institution.pk],
    }
    return {**data, **over}


def test_a_batch_is_created_with_a_number_of_its_own_series(sampling, world):
    first = services.batch_create(actor=world.users["baotou"], plan=sampling.plan, data=_data(sampling, world))
    second = services.batch_create(actor=world.users["baotou"], plan=sampling.plan, data=_data(sampling, world))
    assert first.number.startswith("CC2026-") and second.number.startswith("CC2026-")
    assert first.number != sampling.batch.number
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1
    assert first.rules == sampling.rules and first.organizer == world.baotou_reg
    assert list(first.testing.values_list("institution_id", flat=True)) == [world.institution.pk]
    assert first.state == Batch.State.DRAFT


def test_figures_of_the_ratio(sampling, world):
    figures = services.batch_figures(kind="random", item=sampling.item, division=world.baotou_reg.division)
    assert figures.pool == 8 and figures.minimum == 1 and figures.maximum is None  # a key item: uncapped
    InspectionItem.objects.filter(pk=sampling.item.pk).update(importance="general")
    sampling.item.refresh_from_db()
    figures = services.batch_figures(kind="random", item=sampling.item, division=world.baotou_reg.division)
    assert figures.maximum == 1  # 20 % of 8, at least the minimum
    with pytest.raises(InvalidInput) as refused:
        services.batch_create(actor=world.users["baotou"], plan=sampling.plan, data=_data(sampling, world))
    assert refused.value.code == "ratio_too_high"
    # A special check is not bound by the ratio.
    services.batch_create(
        actor=world.users["baotou"], plan=sampling.plan, data=_data(sampling, world, kind="special", object_count=6)
    )


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"division": "150100"}, "area_outside"),
        ({"division": "150000"}, "area_outside"),
        ({"institutions": []}, "institution_required"),
        ({"kind": "emergency"}, "reason_required"),
        ({"kind": "follow_up"}, "follow_up_required"),
        ({"object_count": 0}, "invalid"),
        ({"ends_on": "2026-04-01"}, "invalid"),
        ({"starts_on": "2025-05-01"}, "invalid"),
        ({"kind": "sometimes"}, "invalid"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(sampling, world, over, code):
    before = Batch.objects.count()
    with pytest.raises(InvalidInput) as refused:
        services.batch_create(actor=world.users["baotou"], plan=sampling.plan, data=_data(sampling, world, **over))
    assert refused.value.code == code
    assert Batch.objects.count() == before


def test_only_qualified_institutions_test_the_batch(sampling, world):
    unqualified = world.xincheng_reg  # not an institution at all
    with pytest.raises(InvalidInput) as refused:
        services.batch_create(
            actor=world.users["baotou"],
            plan=sampling.plan,
            data=_data(sampling, world, institutions=[world.institution.pk, unqualified.pk]),
        )
    assert refused.value.code == "institution_not_qualified"
    assert "呼和浩特市新城区市场监督管理局" in refused.value.message


def test_only_the_plans_office_creates_batches_under_an_approved_plan(sampling, world):
    with pytest.raises(NotFound):
        services.batch_create(actor=world.users["xincheng"], plan=sampling.plan, data=_data(sampling, world))
    with pytest.raises(Forbidden):
        services.batch_create(actor=world.users["region"], plan=sampling.plan, data=_data(sampling, world))
    with pytest.raises(NotFound):
        services.batch_create(actor=world.users["ent_manager"], plan=sampling.plan, data=_data(sampling, world))
    case = case_services.case_open(
        kind="sampling_plan",
        actor=world.users["baotou"],
        applicant_organization=world.baotou_reg,
        division=world.baotou_reg.division,
    )
    pending = AnnualPlan.objects.create(
        case=case, regulator=world.baotou_reg, division_id="150200", year=2026, title="待批计划"
    )
    with pytest.raises(Conflict) as refused:
        services.batch_create(actor=world.users["baotou"], plan=pending, data=_data(sampling, world))
    assert refused.value.code == "plan_not_approved"


def test_a_follow_up_draws_only_the_earlier_failures(sampling, world):
    draws.batch_draw(actor=world.users["baotou"], batch=sampling.batch)
    draws.batch_confirm(actor=world.users["baotou"], batch=sampling.batch)
    failed = SamplingRecord.objects.filter(batch=sampling.batch).order_by("pk").first()
    SamplingRecord.objects.filter(pk=failed.pk).update(stage="final", conclusion="fail", final_conclusion="fail")
    follow = services.batch_create(
        actor=world.users["baotou"],
        plan=sampling.plan,
        data=_data(sampling, world, kind="follow_up", follow_up_of=sampling.batch.pk, object_count=1),
    )
    assert follow.follow_up_of == sampling.batch
    drawn = draws.batch_draw(actor=world.users["baotou"], batch=follow)
    assert drawn.pool_size == 1
    assert list(follow.selections.values_list("pool_object_id", flat=True)) == [failed.pool_object_id]
    # A follow-up check is exempt from the repeat rule: the record may be opened.
    draws.batch_confirm(actor=world.users["baotou"], batch=follow)
    assert SamplingRecord.objects.filter(batch=follow, pool_object_id=failed.pool_object_id).exists()


def test_weights_follow_the_risk_score_when_the_batch_is_risk_weighted(sampling, world):
    obj = sampling.objects["qingshan"]
    obj.risk_score = Decimal("3.50")
    obj.save()
    drawn = draws.batch_draw(actor=world.users["baotou"], batch=sampling.batch)
    with drawn.pool_file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    assert f"\r\n{obj.pk},150204/C01,3.5," in text
    batch = services.batch_create(
        actor=world.users["baotou"],
        plan=sampling.plan,
        data=_data(sampling, world, risk_weighted=False, starts_on=datetime.date(2026, 7, 1), ends_on="2026-08-01"),
    )
    drawn = draws.batch_draw(actor=world.users["baotou"], batch=batch)
    with drawn.pool_file.open("rb") as handle:
        assert f"\r\n{obj.pk},150204/C01,1.0,".encode() in handle.read()
