"""The item list and the 实施细则: ratios checked against the rules, versions superseding."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.core.errors import Forbidden, InvalidInput
from nqihub.sampling.models import InspectionItem, InspectionRules, SamplingRule
from nqihub.sampling.services.items import current_rules, item_create, item_update, rules_publish

pytestmark = pytest.mark.django_db


def _data(**extra):
    data = {
        "code": "BT-CC-001",
        "name": "羊绒制品产品质量监督抽查",
        "category": "C02",
        "legal_basis": "《中华人民共和国产品质量法》第十五条",
        "importance": "general",
        "ratio_percent": "10",
    }
    data.update(extra)
    return data


def test_a_general_item_lies_within_the_rules_bounds(world, sampling):
    item = item_create(actor=world.users["baotou"], data=_data())
    assert item.owner == world.baotou_reg and item.division_id == "150200"
    for ratio in ("4.99", "20.01"):
        with pytest.raises(InvalidInput) as caught:
            item_create(actor=world.users["baotou"], data=_data(code=f"X{ratio}", ratio_percent=ratio))
        assert caught.value.code == "ratio_out_of_range"
    SamplingRule.objects.filter(code="general_ratio_cap_percent").update(value=25)
    assert item_create(actor=world.users["baotou"], data=_data(code="Y", ratio_percent="25")).ratio_percent == 25


def test_a_key_item_is_uncapped_but_not_below_the_minimum(world, sampling):
    item = item_create(actor=world.users["baotou"], data=_data(importance="key", ratio_percent="60"))
    assert item.ratio_percent == Decimal("60")
    with pytest.raises(InvalidInput):
        item_create(actor=world.users["baotou"], data=_data(code="K2", importance="key", ratio_percent="3"))
    # Turning the key item into a general one at 60 % is refused too.
    with pytest.raises(InvalidInput):
        item_update(actor=world.users["baotou"], item=item, data={"importance": "general"})


def test_duplicate_code_and_who_may_keep_the_list(world, sampling):
    item_create(actor=world.users["baotou"], data=_data())
    with pytest.raises(Exception) as caught:
        item_create(actor=world.users["baotou"], data=_data())
    assert caught.value.code == "duplicate"
    for who in ("ent_manager", "inst", "kundulun_viewer", "sysadmin"):
        with pytest.raises(Forbidden):
            item_create(actor=world.users[who], data=_data(code="Z"))
    assert AuditEvent.objects.filter(action="sampling.item.create", outcome="denied").count() == 4


def test_the_keeper_and_levels_above_change_an_item_others_do_not(world, sampling):
    item = sampling.item  # kept by the region
    item_update(actor=world.users["region"], item=item, data={"ratio_percent": "12"})
    with pytest.raises(Forbidden):
        item_update(actor=world.users["baotou"], item=item, data={"ratio_percent": "15"})
    item.refresh_from_db()
    assert item.ratio_percent == Decimal("12")
    assert AuditEvent.objects.filter(action="sampling.item.update", outcome="denied").exists()


def test_a_new_version_supersedes_the_current_one(world, sampling):
    lines = [
        {"name": "蛋白质", "requirement": "≥3.0 g/100g", "lower": "3.0", "unit": "g/100g", "is_key": True},
        {"name": "标签", "requirement": "符合 GB 7718", "judgement": "text"},
    ]
    data = {
        "title": "乳制品实施细则（2027年版）",
        "effective_from": "2027-01-01",
        "test_quantity": 4,
        "spare_quantity": 4,
    }
    v2 = rules_publish(actor=world.users["region"], item=sampling.item, data=data, test_items=lines)
    assert v2.version == 2 and v2.test_items.count() == 2
    sampling.rules.refresh_from_db()
    assert sampling.rules.superseded_on == datetime.date(2027, 1, 1)
    assert current_rules(sampling.item) == v2
    with pytest.raises(InvalidInput) as caught:
        rules_publish(actor=world.users["region"], item=sampling.item, data=data, test_items=lines)
    assert caught.value.code == "rules_not_after"
    assert InspectionRules.objects.filter(item=sampling.item).count() == 2


def test_rules_input_is_checked(world, sampling):
    data = {"title": "t", "effective_from": "2027-01-01", "test_quantity": 4}
    with pytest.raises(InvalidInput) as caught:
        rules_publish(actor=world.users["region"], item=sampling.item, data=data, test_items=[])
    assert caught.value.code == "test_items_required"
    with pytest.raises(InvalidInput):
        rules_publish(
            actor=world.users["region"],
            item=sampling.item,
            data=data,
            test_items=[{"name": "a", "requirement": "b", "lower": "5", "upper": "1"}],
        )
    with pytest.raises(InvalidInput):
        rules_publish(actor=world.users["region"], item=sampling.item, data={**data, "test_quantity": 0}, test_items=[])
    with pytest.raises(Forbidden):
        rules_publish(actor=world.users["kundulun"], item=sampling.item, data=data, test_items=[])
    assert current_rules(sampling.item) == sampling.rules
    assert InspectionItem.objects.for_user(None).count() == 0
