"""The pages of the item list and the pools: who sees what, forms through the services, the
Excel export and import, at phone width and desktop (same HTML: tables scroll)."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from nqihub.audit.models import AuditEvent
from nqihub.sampling.models import InspectionItem, Inspector, PoolObject
from nqihub.testing.workbooks import export_sheet

pytestmark = pytest.mark.django_db


def _xlsx(headers, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the item list: public -------------------------------------------------------------------


def test_the_item_list_and_detail_are_public(client, sampling):
    page = client.get(reverse("sampling:item_list"))
    assert page.status_code == 200 and "乳制品产品质量监督抽查" in page.content.decode()
    detail = client.get(reverse("sampling:item_detail", args=[sampling.item.pk]))
    text = detail.content.decode()
    assert detail.status_code == 200 and "蛋白质" in text and "GB 5009.5" in text
    assert "实施细则" in text or "Implementation rules" in text
    assert client.get(reverse("sampling:item_create")).status_code == 302  # sign in first
    InspectionItem.objects.filter(pk=sampling.item.pk).update(is_active=False)
    assert client.get(reverse("sampling:item_detail", args=[sampling.item.pk])).status_code == 404


def test_the_item_search(client, sampling):
    assert "NM-CC-001" in client.get(reverse("sampling:item_list"), {"q": "乳制品"}).content.decode()
    assert (
        "NM-CC-001"
        not in client.get(reverse("sampling:item_list"), {"category": sampling.cashmere.pk}).content.decode()
    )


def test_a_regulator_adds_an_item_and_a_new_rules_version(web, world, sampling):
    client = web(world.users["baotou"])
    response = client.post(
        reverse("sampling:item_create"),
        {
            "code": "BT-1",
            "name": "羊绒制品抽查",
            "category": sampling.cashmere.pk,
            "legal_basis": "《产品质量法》",
            "method": "sample_test",
            "importance": "general",
            "ratio_percent": "30",
            "frequency_per_year": 1,
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "5" in response.content.decode()  # refused: over the cap
    assert not InspectionItem.objects.filter(code="BT-1").exists()
    response = client.post(
        reverse("sampling:item_create"),
        {
            "code": "BT-1",
            "name": "羊绒制品抽查",
            "category": sampling.cashmere.pk,
            "legal_basis": "《产品质量法》",
            "method": "sample_test",
            "importance": "general",
            "ratio_percent": "15",
            "frequency_per_year": 1,
        },
    )
    item = InspectionItem.objects.get(code="BT-1")
    assert response.status_code == 302
    form = {
        "title": "羊绒制品实施细则",
        "effective_from": "2026-03-01",
        "test_quantity": 2,
        "spare_quantity": 2,
        "t-TOTAL_FORMS": 2,
        "t-INITIAL_FORMS": 0,
        "t-MIN_NUM_FORMS": 0,
        "t-MAX_NUM_FORMS": 100,
        "t-0-name": "羊绒含量",
        "t-0-requirement": "≥95%",
        "t-0-judgement": "range",
        "t-0-lower": "95",
        "t-0-unit": "%",
        "t-1-judgement": "range",
    }
    response = client.post(reverse("sampling:rules_create", args=[item.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert item.rules_versions.get().test_items.get().name == "羊绒含量"
    # The county may not change the region's item.
    county = web(world.users["kundulun"])
    assert county.get(reverse("sampling:item_edit", args=[sampling.item.pk])).status_code == 404


# --- the object pool -------------------------------------------------------------------------


def test_pool_list_is_scoped(web, world, sampling, client):
    assert client.get(reverse("sampling:pool_list")).status_code == 302
    county = web(world.users["kundulun"]).get(reverse("sampling:pool_list")).content.decode()
    assert "灭菌乳" in county and "酸乳" not in county
    mine = sampling.objects["kundulun"]
    other = sampling.objects["qingshan"]
    c = web(world.users["qingshan"])
    assert c.get(reverse("sampling:pool_detail", args=[mine.pk])).status_code == 404
    assert c.post(reverse("sampling:pool_deactivate", args=[mine.pk])).status_code == 404
    assert c.get(reverse("sampling:pool_detail", args=[other.pk])).status_code == 200
    enterprise = web(world.users["ent_manager"])
    assert enterprise.get(reverse("sampling:pool_detail", args=[mine.pk])).status_code == 200
    assert enterprise.get(reverse("sampling:pool_create")).status_code == 403
    enterprise.post(reverse("sampling:pool_deactivate", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.is_active
    assert AuditEvent.objects.filter(action="sampling.pool.deactivate", outcome="denied").exists()
    institution = web(world.users["inst"])
    assert institution.get(reverse("sampling:pool_detail", args=[mine.pk])).status_code == 404


def test_pool_search_and_query_count(web, world, sampling):
    client = web(world.users["baotou"])
    page = client.get(reverse("sampling:pool_list"), {"q": world.ent_qingshan.credit_code}).content.decode()
    assert "酸乳" in page and "灭菌乳" not in page
    page = client.get(reverse("sampling:pool_list"), {"division": "150203"}).content.decode()
    assert "灭菌乳" in page and "酸乳" not in page
    client.get(reverse("sampling:pool_list"))  # first request's one-off reads
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sampling:pool_list"))
    for n in range(30):
        org = sampling.objects["more1"].organization
        PoolObject.objects.create(
            organization=org, division_id=org.division_id, category=sampling.dairy, product_name=f"加测{n}"
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("sampling:pool_list"))
    assert len(many) == len(few)


def test_pool_form_and_export_and_import(web, world, sampling):
    client = web(world.users["baotou"])
    response = client.post(
        reverse("sampling:pool_create"),
        {
            "credit_code": world.ent_xincheng.credit_code,  # 呼和浩特: outside
            "category": sampling.dairy.pk,
            "role": "producer",
            "product_name": "奶粉",
            "complaints": 0,
            "earlier_failures": 0,
        },
    )
    assert response.status_code == 200 and not PoolObject.objects.filter(product_name="奶粉").exists()
    response = client.post(
        reverse("sampling:pool_create"),
        {
            "credit_code": world.ent_kundulun.credit_code,
            "category": sampling.dairy.pk,
            "role": "producer",
            "product_name": "奶粉",
            "complaints": 1,
            "earlier_failures": 0,
            "abnormal_listed": "on",
        },
    )
    obj = PoolObject.objects.get(product_name="奶粉")
    assert response.status_code == 302 and str(obj.risk_score) == "3.50"
    exported = client.get(reverse("sampling:pool_export"), {"division": "150203"})
    rows = export_sheet(exported)
    assert rows[0][0] == "统一社会信用代码" and {r[4] for r in rows[1:]} == {"灭菌乳", "奶粉", "调制乳"}
    assert (
        AuditEvent.objects.filter(action="data.export").exists()
        or AuditEvent.objects.filter(details__kind="export").exists()
    )
    # The exported workbook reads back as an import of the same objects (updates).
    upload = io.BytesIO(exported.content)
    upload.name = "pool.xlsx"
    response = client.post(reverse("sampling:pool_import"), {"file": upload})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert PoolObject.objects.filter(product_name="奶粉").count() == 1


def test_import_page_lists_problems(web, world, sampling):
    client = web(world.users["kundulun"])
    data = _xlsx(["统一社会信用代码", "产品类别", "产品名称"], [["91150203XXXXXXXXX1", "C01", "奶"]])
    upload = io.BytesIO(data)
    upload.name = "pool.xlsx"
    response = client.post(reverse("sampling:pool_import"), {"file": upload})
    text = response.content.decode()
    assert response.status_code == 200 and 'data-testid="import-problems"' in text and "第 2 行" in text
    assert web(world.users["ent_manager"]).get(reverse("sampling:pool_import")).status_code == 403


# --- inspectors and institutions -------------------------------------------------------------


def test_inspector_pages(web, world, sampling):
    county = web(world.users["kundulun"])
    text = county.get(reverse("sampling:inspector_list")).content.decode()
    assert "王执法" in text and "赵执法" not in text
    kd1 = sampling.inspectors["kd1"]
    qs1 = sampling.inspectors["qs1"]
    assert county.get(reverse("sampling:inspector_detail", args=[qs1.pk])).status_code == 404
    response = county.post(
        reverse("sampling:inspector_detail", args=[kd1.pk]),
        {"credit_code": world.ent_kundulun.credit_code, "reason": "曾在该企业任职"},
    )
    assert response.status_code == 302 and kd1.conflicts.count() == 1
    conflict = kd1.conflicts.get()
    assert web(world.users["qingshan"]).post(reverse("sampling:conflict_remove", args=[conflict.pk])).status_code == 404
    county = web(world.users["kundulun"])  # one client: sign the county in again
    assert county.post(reverse("sampling:conflict_remove", args=[conflict.pk])).status_code == 302
    assert not kd1.conflicts.exists()
    response = county.post(
        reverse("sampling:inspector_create"),
        {
            "name": "新执法",
            "enforcement_number": "15020300099",
            "office": world.kundulun_reg.pk,
            "fields": [sampling.dairy.pk],
        },
    )
    assert (
        response.status_code == 302 and Inspector.objects.get(enforcement_number="15020300099").division_id == "150203"
    )
    assert (
        web(world.users["ent_manager"]).get(reverse("sampling:inspector_list")).content.decode().count("data-pk=") == 0
    )
    assert web(world.users["inst"]).get(reverse("sampling:inspector_create")).status_code == 403


def test_institution_page(web, world, sampling):
    client = web(world.users["ent_manager"])
    text = client.get(reverse("sampling:institution_list"), {"category": sampling.dairy.pk}).content.decode()
    assert world.institution.name in text and sampling.retest_institution.name in text
    text = client.get(reverse("sampling:institution_list"), {"category": sampling.cashmere.pk}).content.decode()
    assert world.institution.name not in text
    assert client.get(reverse("sampling:capability_import")).status_code == 403
    assert web(world.users["region"]).get(reverse("sampling:capability_import")).status_code == 200


def test_landing_page_and_navigation(web, world, sampling, client):
    assert client.get(reverse("sampling:index")).status_code == 200
    text = web(world.users["baotou"]).get(reverse("sampling:index")).content.decode()
    assert reverse("sampling:pool_list") in text and 'data-testid="nav-sampling"' in text
    text = web(world.users["ent_manager"]).get(reverse("sampling:index")).content.decode()
    assert reverse("sampling:pool_list") not in text and reverse("sampling:item_list") in text
