"""The permission matrix of the item list and the pools: every role against every model and
action through the querysets (what pages, API and imports all read), and a regulator's reads
of the pools recorded exactly once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from nqihub.audit.models import AuditEvent
from nqihub.sampling.models import InspectionItem, InspectionRules, Inspector, InspectorConflict, PoolObject
from nqihub.sampling.models import TestItem as RulesTestItem
from nqihub.sampling.services.pools import may_import_capabilities, may_keep_pool

pytestmark = pytest.mark.django_db

ROLES = (
    "region",
    "baotou",
    "kundulun",
    "kundulun_viewer",
    "qingshan",
    "xincheng",
    "ent_manager",
    "ent_other",
    "inst",
    "sysadmin",
)


@pytest.fixture
def conflict(world, sampling):
    from django.utils import timezone

    return InspectorConflict.objects.create(
        inspector=sampling.inspectors["kd1"], organization=world.ent_kundulun, reason="亲属", declared_at=timezone.now()
    )


def _can(model, user, action, row) -> bool:
    return model.objects.for_user(user, action).filter(pk=row.pk).exists()


# (model, row, action) -> who may
def _matrix(sampling, conflict):
    kd_object = sampling.objects["kundulun"]
    kd1 = sampling.inspectors["kd1"]
    everyone = set(ROLES)
    return [
        (InspectionItem, sampling.item, "view", everyone),
        (InspectionItem, sampling.item, "change", {"region"}),
        (InspectionRules, sampling.rules, "view", everyone),
        (InspectionRules, sampling.rules, "change", {"region"}),
        (RulesTestItem, sampling.test_items[0], "view", everyone),
        (RulesTestItem, sampling.test_items[0], "change", {"region"}),
        (PoolObject, kd_object, "view", {"region", "baotou", "kundulun", "kundulun_viewer", "ent_manager"}),
        (PoolObject, kd_object, "export", {"region", "baotou", "kundulun", "kundulun_viewer", "ent_manager"}),
        (PoolObject, kd_object, "change", {"region", "baotou", "kundulun"}),
        (PoolObject, kd_object, "import", {"region", "baotou", "kundulun"}),
        (Inspector, kd1, "view", {"region", "baotou", "kundulun", "kundulun_viewer"}),
        (Inspector, kd1, "change", {"region", "baotou", "kundulun"}),
        (InspectorConflict, conflict, "view", {"region", "baotou", "kundulun", "kundulun_viewer"}),
        (InspectorConflict, conflict, "change", {"region", "baotou", "kundulun"}),
    ]


def test_the_matrix(world, sampling, conflict):
    for model, row, action, allowed in _matrix(sampling, conflict):
        got = {who for who in ROLES if _can(model, world.users[who], action, row)}
        assert got == allowed, (model.__name__, action, got ^ allowed)
        assert not model.objects.for_user(None, action).exists()


def test_who_is_offered_the_forms(world, sampling):
    assert {w for w in ROLES if may_keep_pool(world.users[w])} == {
        "region",
        "baotou",
        "kundulun",
        "qingshan",
        "xincheng",
    }
    assert {w for w in ROLES if may_import_capabilities(world.users[w])} == {"region", "sysadmin"}


@pytest.mark.parametrize(
    ("name", "args", "kind"),
    [
        ("sampling:pool_list", False, "list"),
        ("sampling:pool_export", False, "export"),
        ("sampling:pool_detail", True, "detail"),
        ("sampling:inspector_list", False, "list"),
        ("sampling:inspector_detail", True, "detail"),
    ],
)
def test_a_regulators_pool_read_is_recorded_once(web, world, sampling, name, args, kind):
    user = world.users["kundulun"]
    pk = (sampling.objects["kundulun"] if "pool" in name else sampling.inspectors["kd1"]).pk
    response = web(user).get(reverse(name, args=[pk] if args else []))
    assert response.status_code == 200
    reads = AuditEvent.objects.filter(actor=user, action__in=("data.query", "data.export"))
    assert reads.count() == 1
    assert reads.get().details.get("kind", kind) == kind


def test_the_public_item_list_is_not_recorded(web, world, sampling):
    web(world.users["kundulun"]).get(reverse("sampling:item_list"))
    assert not AuditEvent.objects.filter(action="data.query").exists()
