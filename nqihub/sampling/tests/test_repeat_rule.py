"""The repeat rule (18号令): the same product sampled within the window by the same department,
or by a higher one, is excluded from a draw with the reason and replaced by the next in key
order; a lower department's check does not bar it; follow-up and emergency checks are exempt;
and confirming never opens a record for a barred object. Also the recusal of an inspector who
checked the same enterprise recently."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from nqihub.cases import services as case_services
from nqihub.core.errors import Conflict
from nqihub.sampling import draw as algorithm
from nqihub.sampling.models import (
    AnnualPlan,
    Assignment,
    Batch,
    BatchInstitution,
    PoolObject,
    SamplingRecord,
    Selection,
)
from nqihub.sampling.services import draws as services

pytestmark = pytest.mark.django_db


def _plan(world, regulator, user):
    case = case_services.case_open(
        kind="sampling_plan", actor=world.users[user], applicant_organization=regulator, division=regulator.division
    )
    case_services.case_approve(case, actor=world.users[user])
    return AnnualPlan.objects.create(
        case=case, regulator=regulator, division_id=regulator.division_id, year=2026, title=f"{regulator} 2026"
    )


def _earlier_batch(sampling, world, *, organizer, user, area, count, kind=Batch.Kind.RANDOM, plan=None):
    today = timezone.localdate()
    batch = Batch.objects.create(
        plan=plan or (sampling.plan if organizer == world.baotou_reg else _plan(world, organizer, user)),
        number=f"CC2026-9{Batch.objects.count():03d}",
        kind=kind,
        title="早前的抽查",
        item=sampling.item,
        rules=sampling.rules,
        organizer=organizer,
        division_id=area,
        object_count=count,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=30),
        created_by=world.users[user],
    )
    BatchInstitution.objects.create(batch=batch, institution=world.institution)
    services.batch_draw(actor=world.users[user], batch=batch)
    services.batch_confirm(actor=world.users[user], batch=batch)
    return batch


KUNDULUN_OBJECTS = ("kundulun", "more1", "more2")


def test_the_same_department_within_the_window_is_excluded_and_replaced(sampling, world):
    _earlier_batch(sampling, world, organizer=world.baotou_reg, user="baotou", area="150203", count=3)
    barred = {sampling.objects[k].pk for k in KUNDULUN_OBJECTS}
    drawn = services.batch_draw(actor=world.users["baotou"], batch=sampling.batch)
    selections = Selection.objects.filter(draw=drawn)
    selected = set(selections.filter(status="selected").values_list("pool_object_id", flat=True))
    excluded = selections.filter(status="excluded")
    assert not selected & barred
    # Each stratum keeps its share where enough unbarred objects remain: 昆都仑区 has none left.
    sizes, unbarred = {}, {}
    for obj in services.batch_pool(sampling.batch):
        stratum = services.stratum_of(obj.division_id, "C01")
        sizes[stratum] = sizes.get(stratum, 0) + 1
        unbarred[stratum] = unbarred.get(stratum, 0) + (obj.pk not in barred)
    allocation = algorithm.allocate(sizes, 4)
    for stratum, share in allocation.items():
        kept = selections.filter(stratum=stratum, status="selected").count()
        assert kept == min(share, unbarred[stratum])
    assert set(excluded.values_list("pool_object_id", flat=True)) <= barred
    for row in excluded:
        assert "CY" in row.excluded_reason and "包头市市场监督管理局" in row.excluded_reason
    # The quotas name every object examined, so the verifier's list is the list kept.
    assert sum(drawn.quotas.values()) == selections.count()
    assert services.rerun_objects(drawn) == services.stored_result(drawn)


def test_a_higher_department_bars_the_product_but_a_lower_one_does_not(sampling, world):
    _earlier_batch(sampling, world, organizer=world.region_reg, user="region", area="150203", count=3)
    batch = sampling.batch
    for key in KUNDULUN_OBJECTS:
        assert "内蒙古自治区市场监督管理局" in services.repeat_rule_reason(sampling.objects[key], batch=batch)
    assert services.repeat_rule_reason(sampling.objects["qingshan"], batch=batch) == ""


def test_a_lower_department_does_not_bar_the_product(sampling, world):
    _earlier_batch(sampling, world, organizer=world.kundulun_reg, user="kundulun", area="150203", count=3)
    for key in KUNDULUN_OBJECTS:
        assert services.repeat_rule_reason(sampling.objects[key], batch=sampling.batch) == ""


def test_outside_the_window_the_product_may_be_sampled_again(sampling, world):
    earlier = _earlier_batch(sampling, world, organizer=world.baotou_reg, user="baotou", area="150203", count=3)
    long_ago = timezone.now() - datetime.timedelta(days=200)
    records = SamplingRecord.objects.filter(batch=earlier)
    records.update(stage="sampled", sampled_at=long_ago)
    for record in records:
        type(record.case).objects.filter(pk=record.case_id).update(opened_at=long_ago)
    for key in KUNDULUN_OBJECTS:
        assert services.repeat_rule_reason(sampling.objects[key], batch=sampling.batch) == ""
    records.update(sampled_at=timezone.now() - datetime.timedelta(days=150))
    assert services.repeat_rule_reason(sampling.objects["kundulun"], batch=sampling.batch) != ""


@pytest.mark.parametrize("kind", [Batch.Kind.FOLLOW_UP, Batch.Kind.EMERGENCY])
def test_follow_up_and_emergency_checks_are_exempt(sampling, world, kind):
    _earlier_batch(sampling, world, organizer=world.baotou_reg, user="baotou", area="150203", count=3)
    Batch.objects.filter(pk=sampling.batch.pk).update(kind=kind, reason="投诉集中")
    batch = Batch.objects.get(pk=sampling.batch.pk)
    for key in KUNDULUN_OBJECTS:
        assert services.repeat_rule_reason(sampling.objects[key], batch=batch) == ""


def test_confirming_never_opens_a_record_for_a_barred_object(sampling, world):
    drawn = services.batch_draw(actor=world.users["baotou"], batch=sampling.batch)
    chosen = Selection.objects.filter(draw=drawn, status="selected").values_list("pool_object__division_id", flat=True)
    area = sorted(chosen)[0]
    # Between the draw and its confirmation, another batch of the same office samples that county.
    count = PoolObject.objects.filter(division_id=area, category=sampling.dairy).count()
    _earlier_batch(sampling, world, organizer=world.baotou_reg, user="baotou", area=area, count=count)
    with pytest.raises(Conflict) as refused:
        services.batch_confirm(actor=world.users["baotou"], batch=sampling.batch)
    assert refused.value.code == "repeat_rule"
    assert not SamplingRecord.objects.filter(batch=sampling.batch).exists()
    assert Batch.objects.get(pk=sampling.batch.pk).state == Batch.State.DRAWN


def test_an_inspector_who_checked_the_enterprise_recently_recuses(sampling, world):
    earlier = _earlier_batch(sampling, world, organizer=world.baotou_reg, user="baotou", area="150204", count=3)
    first = set(
        Assignment.objects.filter(
            selection__batch=earlier, selection__pool_object__organization=world.ent_qingshan, recusal=""
        ).values_list("inspector_id", flat=True)
    )
    assert len(first) == 2
    PoolObject.objects.create(
        organization=world.ent_qingshan,
        division_id="150204",
        category=sampling.dairy,
        product_name="纯牛奶",
        brand="新品牌",
        model="1L",
        standard="GB 25190",
    )
    Batch.objects.filter(pk=sampling.batch.pk).update(division_id="150204", object_count=1)
    drawn = services.batch_draw(actor=world.users["baotou"], batch=sampling.batch)
    selection = Selection.objects.get(draw=drawn, status="selected")
    assert selection.pool_object.brand == "新品牌"
    active = set(Assignment.objects.filter(selection=selection, recusal="").values_list("inspector_id", flat=True))
    assert len(active) == 2 and not active & first
    recent = Assignment.objects.filter(selection=selection, recusal="recent_check")
    assert set(recent.values_list("inspector_id", flat=True)) <= first


def test_the_page_cannot_open_a_record_for_a_barred_object_either(web, sampling, world):
    client = web(world.users["baotou"])
    client.post(f"/sampling/batches/{sampling.batch.pk}/draw/")
    _earlier_batch(sampling, world, organizer=world.baotou_reg, user="baotou", area="150200", count=8)
    response = client.post(f"/sampling/batches/{sampling.batch.pk}/confirm/", follow=True)
    assert "限制期" in response.content.decode()
    assert not SamplingRecord.objects.filter(batch=sampling.batch).exists()
    # Drawn again through the page, the barred objects are shown excluded with the reason.
    client.post(f"/sampling/batches/{sampling.batch.pk}/draw/", {"reason": "同期批次已抽"})
    page = client.get(f"/sampling/batches/{sampling.batch.pk}/").content.decode()
    assert 'data-testid="excluded-reason"' in page and "市场监管总局令第18号" in page
