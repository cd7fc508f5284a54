"""The public results (page, Excel export, API) without sign-in: only published batches, the
legally required fields, nothing private, the search, refused sampling listed, the rate limit."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from nqihub.sampling.models import Batch, SamplingRecord
from nqihub.testing.factories import OrganizationFactory

from .disclosure_records import PRIVATE_TEXTS, make_record, set_state

REQUIRED_HEADERS = [
    "被抽样单位名称",
    "标称生产者",
    "产品名称",
    "商标",
    "规格型号",
    "生产日期/批号",
    "抽查结论",
    "不合格项目",
    "检验机构",
    "抽查类型",
    "组织部门",
    "公布日期",
]


@pytest.fixture
def published(sampling, world):
    """The fixture's batch, published, with a failed record (蛋白质 failed, 标签 failed and
    re-tested qualified), a qualified one and a refused one; and a second batch, closed but not
    published, with a record that must not show."""
    actor = world.users["baotou"]
    batch = set_state(sampling.batch, Batch.State.SAMPLING)
    make_record(sampling, sampling.objects["kundulun"], actor=actor, batch=batch, fails=(1, 3), retests={3: "pass"})
    make_record(sampling, sampling.objects["qingshan"], actor=actor, batch=batch, production_batch="20260412")
    make_record(sampling, sampling.objects["more1"], actor=actor, batch=batch, stage=SamplingRecord.Stage.REFUSED)
    published = set_state(
        batch, Batch.State.DISCLOSED, closed_at=timezone.now(), disclosed_at=timezone.now() - datetime.timedelta(days=1)
    )
    hidden = Batch.objects.create(
        plan=sampling.plan,
        number="CC2026-0002",
        kind=Batch.Kind.SPECIAL,
        title="未公布的批次",
        item=sampling.item,
        rules=sampling.rules,
        organizer=world.baotou_reg,
        division_id="150200",
        object_count=1,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
        created_by=actor,
        state=Batch.State.CLOSED,
    )
    make_record(sampling, sampling.objects["more2"], actor=actor, batch=hidden)
    return published


def _page(client, query=""):
    response = client.get(f"/sampling/results/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_needs_no_sign_in_and_shows_only_published_batches(published, sampling, client):
    html = _page(client)
    assert "草原牧歌" in html and "青山" in html
    assert "CC2026-0001" in html
    assert "CC2026-0002" not in html and "品牌2" not in html
    for header in REQUIRED_HEADERS:
        assert header in html, header
    assert "拒绝抽样" in html
    assert not client.cookies.get("sessionid")


def test_unqualified_items_are_the_deciding_ones(published, client):
    rows = APIClient().get("/api/v1/sampling-results/").json()["results"]
    by_brand = {row["brand"]: row for row in rows}
    failed = by_brand["草原牧歌"]
    assert failed["conclusion_code"] == "fail"
    assert failed["failed_items"] == "蛋白质"  # 标签 was re-tested qualified: the re-test is final
    assert by_brand["青山"]["conclusion_code"] == "pass"
    assert by_brand["青山"]["failed_items"] == ""
    assert by_brand["青山"]["production_batch"] == "20260412"
    assert by_brand["品牌1"]["conclusion_code"] == "refused"
    assert failed["organizer"] == "包头市市场监督管理局"
    assert failed["institution"] == "包头市质量技术监督检验测试所"
    assert failed["published_on"] == timezone.localdate(published.disclosed_at).isoformat()


def test_nothing_private_on_the_page_the_export_or_the_api(published, sampling, client):
    html = _page(client)
    export = client.get("/sampling/results/export/")
    assert export.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    cells = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value)
    api = APIClient().get("/api/v1/sampling-results/")
    assert api.status_code == 200
    body = api.content.decode("utf-8")
    inspector_names = [i.name for i in sampling.inspectors.values()]
    for text in [*PRIVATE_TEXTS, *inspector_names, "baotou"]:
        assert text not in html, text
        assert text not in cells, text
        assert text not in body, text
    assert set(api.json()["results"][0]) == {
        "sampled_party",
        "producer",
        "product",
        "brand",
        "model",
        "production_batch",
        "conclusion",
        "conclusion_code",
        "failed_items",
        "institution",
        "batch_kind",
        "organizer",
        "published_on",
        "category",
        "region",
        "batch_number",
    }
    for header in REQUIRED_HEADERS:
        assert header in cells


@pytest.mark.parametrize(
    ("query", "brands"),
    [
        ("?q=天和磁材", {"草原牧歌"}),
        ("?product=酸乳", {"青山"}),
        ("?region=150204", {"青山"}),
        ("?region=150200", {"草原牧歌", "青山", "品牌1"}),
        ("?category=C01", {"草原牧歌", "青山", "品牌1"}),
        ("?category=C02", set()),
        ("?year=2026", {"草原牧歌", "青山", "品牌1"}),
        ("?year=2025", set()),
    ],
)
def test_search(published, query, brands):
    rows = APIClient().get(f"/api/v1/sampling-results/{query}").json()["results"]
    assert {row["brand"] for row in rows} == brands


@pytest.mark.parametrize("query", ["?year=abc", "?region=999999", "?category=NOPE", "?region=15%00"])
def test_bad_search_is_refused_with_a_message(published, client, query):
    page = client.get(f"/sampling/results/{query}")
    assert page.status_code == 400
    if "%00" not in query:  # a NUL character is refused before the page, by the project's own check
        assert "不是有效的值" in page.content.decode()
    api = APIClient().get(f"/api/v1/sampling-results/{query}")
    assert api.status_code == 400


def test_the_page_is_paginated(published, sampling, world):
    actor = world.users["baotou"]
    for n in range(55):
        org = OrganizationFactory(name=f"分页测试乳业{n}有限公司", division_id="150203")
        obj = sampling.objects["more3"].__class__.objects.create(
            organization=org, division_id="150203", category=sampling.dairy, product_name="奶粉", brand=f"页{n}"
        )
        make_record(sampling, obj, actor=actor, batch=published)
    client = APIClient()
    first = client.get("/api/v1/sampling-results/").json()
    assert first["count"] == 58
    from django.test import Client

    html = Client().get("/sampling/results/?page=2").content.decode()
    assert "第 2 页" in html or "Page 2" in html


def test_english_headers(published, client):
    client.cookies["nqi_language"] = "en"
    html = _page(client)
    assert "Sampled party" in html and "Unqualified items" in html


def test_rate_limited_like_the_public_check(published, client, settings):
    settings.NQI_SAMPLING_RESULTS_RATE_PER_MINUTE = 2
    api = APIClient()
    assert api.get("/api/v1/sampling-results/").status_code == 200
    assert client.get("/sampling/results/").status_code == 200
    limited = api.get("/api/v1/sampling-results/")
    assert limited.status_code == 429
    assert limited.json()["code"] == "throttled"
    page = client.get("/sampling/results/")
    assert page.status_code == 429
    assert page["Retry-After"] == "60"
