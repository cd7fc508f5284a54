"""The API of the item list and the pools: reads scoped, writes through the services,
permission before body, every response checked against the committed schema."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from nqihub.audit.models import AuditEvent
from nqihub.sampling.models import InspectionItem, InspectorConflict, PoolObject

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/sampling/items/"
RULES = "/api/v1/sampling/rules/"
POOL = "/api/v1/sampling/pool-objects/"
INSPECTORS = "/api/v1/sampling/inspectors/"
CONFLICTS = "/api/v1/sampling/conflicts/"


def test_anonymous_callers_are_refused(sampling):
    for url in (ITEMS, RULES, POOL, INSPECTORS, CONFLICTS):
        assert APIClient().get(url).status_code in (401, 403)


def test_items_read_by_everyone_signed_in(api, world, sampling):
    for who in ("ent_manager", "inst", "kundulun"):
        body = api(world.users[who]).get(ITEMS).json()
        assert [r["code"] for r in body["results"]] == ["NM-CC-001"]
    rules = api(world.users["ent_manager"]).get(RULES, {"item": sampling.item.pk}).json()["results"]
    assert rules[0]["version"] == 1 and [t["name"] for t in rules[0]["test_items"]] == ["蛋白质", "菌落总数", "标签"]


def test_item_write_through_the_api(api, world, sampling):
    client = api(world.users["baotou"])
    body = {
        "code": "BT-2",
        "name": "稀土永磁材料抽查",
        "category": "C03",
        "legal_basis": "《产品质量法》",
        "importance": "general",
        "ratio_percent": "25",
    }
    refused = client.post(ITEMS, body, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "ratio_out_of_range"
    made = client.post(ITEMS, {**body, "ratio_percent": "8"}, format="json")
    assert made.status_code == 201 and made.json()["category"] == "C03"
    # Another level's item: permission before body, whatever the body holds.
    response = client.patch(f"{ITEMS}{sampling.item.pk}/", {"frequency_per_year": "many"}, format="json")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="sampling.item.update", outcome="denied").exists()
    response = api(world.users["ent_manager"]).post(ITEMS, {"code": 1}, format="json")
    assert response.status_code == 403


def test_rules_publish_through_the_api(api, world, sampling):
    body = {
        "title": "乳制品实施细则（2027年版）",
        "effective_from": "2027-01-01",
        "test_quantity": 4,
        "test_items": [{"name": "蛋白质", "requirement": "≥3.0", "lower": "3.0", "unit": "g/100g"}],
    }
    assert api(world.users["baotou"]).post(f"{ITEMS}{sampling.item.pk}/rules/", body, format="json").status_code == 403
    response = api(world.users["region"]).post(f"{ITEMS}{sampling.item.pk}/rules/", body, format="json")
    assert response.status_code == 201 and response.json()["version"] == 2
    assert (
        InspectionItem.objects.get(pk=sampling.item.pk).rules_versions.filter(superseded_on__isnull=True).get().version
        == 2
    )


def test_pool_scoping_through_the_api(api, world, sampling):
    def divisions(who):
        rows = api(world.users[who]).get(POOL).json()["results"]
        return {r["division"] for r in rows}

    assert divisions("kundulun") == {"150203"}
    assert (
        divisions("ent_manager") == {"150203"} and len(api(world.users["ent_manager"]).get(POOL).json()["results"]) == 1
    )
    assert divisions("inst") == set()
    mine = sampling.objects["kundulun"]
    assert api(world.users["qingshan"]).get(f"{POOL}{mine.pk}/").status_code == 404
    assert api(world.users["qingshan"]).post(f"{POOL}{mine.pk}/deactivate/").status_code == 404
    assert api(world.users["ent_manager"]).post(f"{POOL}{mine.pk}/deactivate/").status_code == 403
    assert api(world.users["kundulun"]).get(POOL, {"q": "灭菌乳"}).json()["count"] == 1


def test_pool_write_through_the_api(api, world, sampling):
    client = api(world.users["kundulun"])
    outside = client.post(
        POOL, {"credit_code": world.ent_qingshan.credit_code, "category": "C01", "product_name": "酸乳"}, format="json"
    )
    assert outside.status_code == 400 and outside.json()["code"] == "out_of_jurisdiction"
    made = client.post(
        POOL,
        {"credit_code": world.ent_kundulun.credit_code, "category": "C01", "product_name": "奶酪", "complaints": 2},
        format="json",
    )
    assert made.status_code == 201 and made.json()["risk_score"] == "2.00"
    changed = client.patch(f"{POOL}{made.json()['id']}/", {"abnormal_listed": True}, format="json")
    assert changed.status_code == 200 and changed.json()["risk_score"] == "4.00"
    assert client.post(f"{POOL}{made.json()['id']}/deactivate/").json()["is_active"] is False
    assert PoolObject.objects.get(pk=made.json()["id"]).is_active is False


def test_inspectors_and_conflicts_through_the_api(api, world, sampling):
    client = api(world.users["kundulun"])
    rows = client.get(INSPECTORS).json()["results"]
    assert {r["enforcement_number"] for r in rows} == {"15020300001", "15020300002"}
    made = client.post(
        INSPECTORS,
        {"name": "新人", "enforcement_number": "15020300055", "office": str(world.kundulun_reg.pk), "fields": ["C01"]},
        format="json",
    )
    assert made.status_code == 201 and made.json()["fields"] == ["C01"]
    dup = client.post(
        INSPECTORS,
        {"name": "另", "enforcement_number": "15020300055", "office": str(world.kundulun_reg.pk)},
        format="json",
    )
    assert dup.status_code == 409
    kd1 = sampling.inspectors["kd1"]
    conflict = client.post(
        f"{INSPECTORS}{kd1.pk}/conflicts/", {"organization": world.ent_kundulun.pk, "reason": "亲属"}, format="json"
    )
    assert conflict.status_code == 201
    assert api(world.users["qingshan"]).delete(f"{CONFLICTS}{conflict.json()['id']}/").status_code == 404
    assert api(world.users["kundulun_viewer"]).delete(f"{CONFLICTS}{conflict.json()['id']}/").status_code == 403
    assert api(world.users["kundulun"]).delete(f"{CONFLICTS}{conflict.json()['id']}/").status_code == 204
    assert not InspectorConflict.objects.exists()
    assert api(world.users["qingshan"]).get(f"{INSPECTORS}{kd1.pk}/").status_code == 404


def test_pool_list_query_count_does_not_grow(api, world, sampling):
    client = api(world.users["baotou"])
    client.get(POOL)  # first request's one-off reads (session, caches)
    client.get(INSPECTORS)
    with CaptureQueriesContext(connection) as few:
        client.get(POOL)
        client.get(INSPECTORS)
    org = world.ent_kundulun
    for n in range(20):
        PoolObject.objects.create(
            organization=org, division_id=org.division_id, category=sampling.dairy, product_name=f"p{n}"
        )
    with CaptureQueriesContext(connection) as many:
        client.get(POOL)
        client.get(INSPECTORS)
    assert len(many) == len(few)
