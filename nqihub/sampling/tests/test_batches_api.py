"""The API of plans, batches and draws: the same services as the pages, scoped, permission
before body; the repeat rule and recusal hold through it too."""

from __future__ import annotations

import pytest

from nqihub.sampling.models import AnnualPlan, Assignment, Draw, SamplingRecord, Selection
from nqihub.sampling.services import draws as services

pytestmark = pytest.mark.django_db


def test_a_plan_through_the_api(api, world, sampling):
    county = api(world.users["kundulun"])
    response = county.post("/api/v1/sampling-plans/", {"year": 2026, "title": "接口计划"}, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["state"] == "submitted"
    assert api(world.users["qingshan"]).post(f"/api/v1/sampling-plans/{pk}/approve/").status_code == 404
    assert api(world.users["region"]).post(f"/api/v1/sampling-plans/{pk}/approve/").status_code == 403
    refused = api(world.users["baotou"]).post(f"/api/v1/sampling-plans/{pk}/return/", {"reason": ""}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "reason_required"
    approved = api(world.users["baotou"]).post(f"/api/v1/sampling-plans/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert [e for e in approved.json()["events"]]
    assert api(world.users["ent_manager"]).get("/api/v1/sampling-plans/").json()["count"] == 0
    assert AnnualPlan.objects.filter(title="接口计划").count() == 1


def test_a_batch_is_drawn_redrawn_and_confirmed_through_the_api(api, world, sampling):
    client = api(world.users["baotou"])
    body = {
        "plan": sampling.plan.pk,
        "kind": "random",
        "title": "接口批次",
        "item": sampling.item.pk,
        "division": "150200",
        "object_count": 2,
        "starts_on": "2026-05-01",
        "ends_on": "2026-05-31",
        "institutions": [world.institution.pk],
    }
    for user in ("xincheng", "ent_manager", "inst"):
        assert api(world.users[user]).post("/api/v1/sampling-batches/", body, format="json").status_code in (403, 404)
    bad = client.post("/api/v1/sampling-batches/", {**body, "institutions": [world.xincheng_reg.pk]}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "institution_not_qualified"
    created = client.post("/api/v1/sampling-batches/", body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    drawn = client.post(f"/api/v1/sampling-batches/{pk}/draw/", {}, format="json")
    assert drawn.status_code == 201, drawn.content
    first = drawn.json()
    assert first["seq"] == 1 and first["pool_sha256"] and "--seed " + first["seed"] in first["verify_command"]
    no_reason = client.post(f"/api/v1/sampling-batches/{pk}/draw/", {}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    second = client.post(f"/api/v1/sampling-batches/{pk}/draw/", {"reason": "核对名录后重抽"}, format="json")
    assert second.status_code == 201 and second.json()["seq"] == 2
    listed = client.get(f"/api/v1/sampling-draws/?batch={pk}").json()
    assert {d["seq"] for d in listed["results"] if d["purpose"] == "objects"} == {1, 2}
    detail = client.get(f"/api/v1/sampling-draws/{second.json()['id']}/").json()
    assert detail["selections"]
    assert api(world.users["xincheng"]).get(f"/api/v1/sampling-draws/{second.json()['id']}/").status_code == 404
    assert api(world.users["ent_manager"]).get(f"/api/v1/sampling-batches/{pk}/").status_code == 404
    assert api(world.users["inst"]).post(f"/api/v1/sampling-batches/{pk}/confirm/").status_code == 403
    confirmed = client.post(f"/api/v1/sampling-batches/{pk}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "sampling"
    records = SamplingRecord.objects.filter(batch_id=pk)
    assert records.count() == Selection.objects.filter(draw_id=second.json()["id"], status="selected").count()
    again = client.post(f"/api/v1/sampling-batches/{pk}/draw/", {"reason": "再来"}, format="json")
    assert again.status_code == 409
    assert Draw.objects.filter(batch_id=pk, purpose="objects").count() == 2


def test_the_repeat_rule_and_recusal_hold_through_the_api(api, world, sampling):
    client = api(world.users["baotou"])
    drawn = client.post(f"/api/v1/sampling-batches/{sampling.batch.pk}/draw/", {}, format="json").json()
    for selection in Selection.objects.filter(draw_id=drawn["id"], status="selected").select_related("pool_object"):
        active = Assignment.objects.filter(selection=selection, recusal="")
        assert active.count() == 2
        assert all(a.inspector.division_id != selection.pool_object.division_id for a in active)
    # Another batch of the same office confirms the same objects first: this one may not open them.
    from nqihub.sampling.models import Batch, BatchInstitution

    twin = Batch.objects.create(
        plan=sampling.plan,
        number="CC2026-0999",
        kind="random",
        title="同期批次",
        item=sampling.item,
        rules=sampling.rules,
        organizer=world.baotou_reg,
        division_id="150200",
        object_count=8,
        starts_on=sampling.batch.starts_on,
        ends_on=sampling.batch.ends_on,
        created_by=world.users["baotou"],
    )
    BatchInstitution.objects.create(batch=twin, institution=world.institution)
    services.batch_draw(actor=world.users["baotou"], batch=twin)
    services.batch_confirm(actor=world.users["baotou"], batch=twin)
    refused = client.post(f"/api/v1/sampling-batches/{sampling.batch.pk}/confirm/")
    assert refused.status_code == 409 and refused.json()["code"] == "repeat_rule"
    assert not SamplingRecord.objects.filter(batch=sampling.batch).exists()
    # Drawn again, every object of the twin is excluded with the reason shown.
    again = client.post(
        f"/api/v1/sampling-batches/{sampling.batch.pk}/draw/", {"reason": "同期批次已抽"}, format="json"
    )
    assert again.status_code == 201
    assert all(s["status"] == "excluded" and s["excluded_reason"] for s in again.json()["selections"])
