"""Metrology fixtures, on top of the project's ``world``.

The shipped catalogue is loaded by migration ``metrology/0002``; ``catalogue`` gives its items
by code. Its numbers are provisional, so tests that only need "a scale" or "a P-only item" use
``scale`` (found by name) and ``p_only_item`` (made here) rather than a code.
"""

from __future__ import annotations

import pytest

from nqihub.core.access import MembershipRole
from nqihub.metrology.models import CatalogueItem, Evidence, Supervision, VerificationMode
from nqihub.metrology.services.instruments import instrument_create
from nqihub.testing.factories import MembershipFactory, UserFactory

SCALE_NAME = "数字指示秤"


@pytest.fixture
def catalogue(db) -> dict[str, CatalogueItem]:
    return {item.code: item for item in CatalogueItem.objects.all()}


@pytest.fixture
def scale(db) -> CatalogueItem:
    """数字指示秤: periodic verification, mandatory only for trade settlement."""
    return CatalogueItem.objects.get(name=SCALE_NAME)


@pytest.fixture
def p_only_item(db) -> CatalogueItem:
    """An item under type approval only. Its trade flag is set on purpose (written past the
    service, which would refuse it): the model's rule must still never make it mandatory."""
    return CatalogueItem.objects.create(
        code="99.1",
        level1_no=99,
        level1_name="测试用型式批准器具",
        level2_no=1,
        name="测试用型式批准器具",
        supervision=Supervision.TYPE_APPROVAL,
        verification_mode=VerificationMode.NONE,
        use_trade=True,
        source="test fixture",
        evidence=Evidence.UNVERIFIED,
    )


@pytest.fixture
def ent_viewer(world):
    """A viewer (read-only member) of the 昆都仑区 enterprise, added to ``world.users``."""
    user = UserFactory(username="ent_viewer")
    MembershipFactory(user=user, organization=world.ent_kundulun, role=MembershipRole.VIEWER)
    world.users["ent_viewer"] = user
    return user


def instrument_data(**overrides) -> dict:
    data = {
        "catalogue_item": "",
        "name": "电子计价秤",
        "model_spec": "ACS-30",
        "measuring_range": "(0~30) kg",
        "accuracy_class": "III",
        "factory_number": "F0001",
        "manufacturer": "上海某衡器有限公司",
        "location": "一楼营业厅",
        "use_field": "trade",
    }
    data.update(overrides)
    return data


@pytest.fixture
def instruments(world, scale):
    """One trade scale in each of the 昆都仑区 and 新城区 enterprises' ledgers, made through
    the service by their managers."""
    return {
        "kundulun": instrument_create(
            actor=world.users["ent_manager"], data=instrument_data(catalogue_item=scale.code, factory_number="K-0001")
        ),
        "xincheng": instrument_create(
            actor=world.users["ent_other"], data=instrument_data(catalogue_item=scale.code, factory_number="X-0001")
        ),
    }
