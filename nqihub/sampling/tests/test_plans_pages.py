"""The plan and batch pages: Chinese by default, scoped, and writing through the services."""

from __future__ import annotations

import pytest

from nqihub.sampling.models import AnnualPlan, Batch, Draw, SamplingRecord, Selection

pytestmark = pytest.mark.django_db


def test_a_plan_is_filed_and_approved_through_the_pages(web, world, sampling):
    client = web(world.users["kundulun"])
    page = client.get("/sampling/plans/new/")
    assert page.status_code == 200 and "年度" in page.content.decode()
    response = client.post("/sampling/plans/new/", {"year": "2026", "title": "昆都仑区计划", "summary": ""})
    plan = AnnualPlan.objects.get(title="昆都仑区计划")
    assert response.status_code == 302
    bad = client.post("/sampling/plans/new/", {"year": "abc", "title": "x"})
    assert bad.status_code == 400
    # The sibling county does not see it; the city reviews it.
    assert web(world.users["qingshan"]).get(f"/sampling/plans/{plan.pk}/").status_code == 404
    assert web(world.users["ent_manager"]).get(f"/sampling/plans/{plan.pk}/").status_code == 404
    city = web(world.users["baotou"])
    detail = city.get(f"/sampling/plans/{plan.pk}/").content.decode()
    assert 'data-testid="approve"' in detail and 'data-testid="timeline"' in detail
    city.post(f"/sampling/plans/{plan.pk}/return/", {"reason": ""})
    plan.case.refresh_from_db()
    assert plan.case.state == "submitted"
    city.post(f"/sampling/plans/{plan.pk}/approve/")
    plan.case.refresh_from_db()
    assert plan.case.state == "approved"
    assert "昆都仑区计划" not in web(world.users["xincheng"]).get("/sampling/plans/").content.decode()
    assert "昆都仑区计划" in web(world.users["baotou"]).get("/sampling/plans/").content.decode()


def test_a_batch_is_created_drawn_redrawn_and_confirmed_through_the_pages(web, world, sampling):
    client = web(world.users["baotou"])
    form = client.get(f"/sampling/plans/{sampling.plan.pk}/batches/new/")
    assert form.status_code == 200 and 'data-testid="figures"' in form.content.decode()
    data = {
        "kind": "random",
        "title": "页面创建的批次",
        "item": sampling.item.pk,
        "division": "150200",
        "object_count": "2",
        "inspectors_per_object": "2",
        "starts_on": "2026-05-01",
        "ends_on": "2026-05-31",
        "institutions": [world.institution.pk],
        "risk_weighted": "on",
    }
    assert (
        client.post(f"/sampling/plans/{sampling.plan.pk}/batches/new/", {**data, "object_count": "0"}).status_code
        == 400
    )
    response = client.post(f"/sampling/plans/{sampling.plan.pk}/batches/new/", data)
    batch = Batch.objects.get(title="页面创建的批次")
    assert response.status_code == 302
    client.post(f"/sampling/batches/{batch.pk}/draw/")
    assert Draw.objects.filter(batch=batch, purpose="objects").count() == 1
    # A redraw without a reason is refused; with one it is kept beside the first.
    client.post(f"/sampling/batches/{batch.pk}/draw/", {"reason": ""})
    assert Draw.objects.filter(batch=batch, purpose="objects").count() == 1
    client.post(f"/sampling/batches/{batch.pk}/draw/", {"reason": "名录库更新后重抽"})
    assert Draw.objects.filter(batch=batch, purpose="objects").count() == 2
    page = client.get(f"/sampling/batches/{batch.pk}/").content.decode()
    first, second = Draw.objects.filter(batch=batch, purpose="objects").order_by("seq")
    assert first.seed in page and second.seed in page and second.pool_sha256 in page
    assert "python draw.py --pool" in page and "重抽" in page
    pool = client.get(f"/sampling/draws/{second.pk}/pool.csv")
    assert pool.status_code == 200 and pool.content.startswith(b"\xef\xbb\xbfobject_id,stratum,weight")
    assert client.get(f"/sampling/draws/{second.pk}/quotas.csv").status_code == 200
    # Outsiders: nothing.
    for user in ("xincheng", "ent_manager", "kundulun"):
        other = web(world.users[user])
        assert other.get(f"/sampling/batches/{batch.pk}/").status_code == 404
        assert other.get(f"/sampling/draws/{second.pk}/pool.csv").status_code == 404
        other.post(f"/sampling/batches/{batch.pk}/draw/", {"reason": "x"})
        other.post(f"/sampling/batches/{batch.pk}/confirm/")
    assert Draw.objects.filter(batch=batch).count() == 4
    # The institution sees its batch but not the draws' files, and cannot act.
    inst = web(world.users["inst"])
    assert inst.get(f"/sampling/batches/{batch.pk}/").status_code == 200
    assert inst.get(f"/sampling/draws/{second.pk}/pool.csv").status_code == 404
    inst.post(f"/sampling/batches/{batch.pk}/confirm/")
    assert not SamplingRecord.objects.filter(batch=batch).exists()
    client = web(world.users["baotou"])  # one test client: sign the organiser in again
    client.post(f"/sampling/batches/{batch.pk}/confirm/")
    selected = Selection.objects.filter(draw=second, status="selected").count()
    assert SamplingRecord.objects.filter(batch=batch).count() == selected
    # Once sampling has started, the page offers no draw and a posted one changes nothing.
    assert 'data-testid="draw"' not in client.get(f"/sampling/batches/{batch.pk}/").content.decode()
    client.post(f"/sampling/batches/{batch.pk}/draw/", {"reason": "再来"})
    assert Draw.objects.filter(batch=batch, purpose="objects").count() == 2


def test_pages_at_phone_width_need_a_sign_in(client, sampling):
    for url in ("/sampling/plans/", "/sampling/batches/", f"/sampling/batches/{sampling.batch.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
