"""Instrument QR label sheets: the renderer (nqihub.documents.labels) and the download view
(nqihub.metrology.views.labels)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from nqihub.audit.models import AuditEvent
from nqihub.documents.labels import DEFAULT_LAYOUT, EMPTY_SHEET_TEXT, LabelData, label_check_url, render_label_sheet
from nqihub.metrology.models import Instrument
from nqihub.metrology.views import labels as label_views

from .helpers import assert_fonts_embedded, decode_qr_codes, page_count, pdf_text

URLS = "nqihub.documents.tests.urls"
pytestmark = pytest.mark.urls(URLS)  # the labels route, whether or not metrology.urls lists it yet


def _labels(n: int, *, start: int = 0) -> list[LabelData]:
    enterprises = ["巴彦淖尔市磴口县嘎查农牧业合作社", "兴安盟扎赉特旗噶尔迪食品加工有限责任公司"]
    return [
        LabelData(
            code=f"JL{i:012d}",
            name=["电子计价秤", "燃气表（膜式）", "压力表"][i % 3],
            factory_number=f"SN-2024-{i:06d}",
            enterprise=enterprises[i % 2],
            mandatory=i % 2 == 0,
            model_spec="ACS-30" if i % 3 == 0 else "",
        )
        for i in range(start, start + n)
    ]


def _flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def base_url(settings):
    settings.NQI_PUBLIC_BASE_URL = "https://nqi.nmg.gov.cn"
    return settings.NQI_PUBLIC_BASE_URL


# --- the renderer --------------------------------------------------------------------------


def test_sheet_is_a_pdf_with_the_font_embedded(base_url):
    data = render_label_sheet(_labels(5))
    assert data.startswith(b"%PDF-")
    assert_fonts_embedded(data)
    assert page_count(data) == 1


def test_sheet_text_extracts_back(base_url):
    text = _flat(pdf_text(render_label_sheet(_labels(4))))
    for code in ("JL000000000000", "JL000000000003"):
        assert code in text
    assert "巴彦淖尔市磴口县嘎查" in text and "扎赉特旗噶尔迪" in text
    assert "电子计价秤" in text and "燃气表（膜式）" in text
    assert "出厂编号SN-2024-000001" in text and "型号ACS-30" in text
    assert text.count("强检") == 2  # labels 0 and 2 only
    assert "计量器具标识" in text and "第1页" in text


def test_sheet_paginates_24_a_page_and_numbers_pages(base_url):
    assert DEFAULT_LAYOUT.per_page == 24
    data = render_label_sheet(iter(_labels(49)))  # any iterable, consumed once
    assert page_count(data) == 3
    text = _flat(pdf_text(data))
    assert "第3页" in text and "JL000000000048" in text


def test_empty_sheet_is_one_page_that_says_so():
    data = render_label_sheet([])
    assert page_count(data) == 1
    assert_fonts_embedded(data)
    assert _flat(EMPTY_SHEET_TEXT) in _flat(pdf_text(data))


def test_sheet_is_deterministic(base_url):
    assert render_label_sheet(_labels(30)) == render_label_sheet(_labels(30))
    assert render_label_sheet(_labels(30)) != render_label_sheet(_labels(30, start=1))


def test_concurrent_renders_match_sequential_ones(base_url):
    """gunicorn serves with threads: the shared font and QR caches must not mix documents."""
    from concurrent.futures import ThreadPoolExecutor

    inputs = [_labels(30, start=k * 30) for k in range(4)]
    expected = [render_label_sheet(labels) for labels in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(render_label_sheet, inputs * 2)) == expected * 2


def test_concurrent_renders_with_thread_switches_at_every_step(base_url):
    """The same under a thread switch every microsecond: reportlab's shared font file (its read
    position moves while a document's font subsets are written at save) used to mix renders
    up here, failing with a KeyError or IndexError inside the subsetting."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    inputs = [_labels(30, start=k * 30) for k in range(4)]
    expected = [render_label_sheet(labels) for labels in inputs]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            for _ in range(6):
                assert list(pool.map(render_label_sheet, inputs * 2)) == expected * 2
    finally:
        sys.setswitchinterval(interval)


def test_note_is_printed_on_every_page(base_url):
    text = pdf_text(render_label_sheet(_labels(30), note="第 1/2 批"))
    assert _flat(text).count("第1/2批") == 2


def test_label_qr_payload_is_the_public_check_url(settings):
    settings.NQI_PUBLIC_BASE_URL = ""
    assert label_check_url("JL3F9K2M7Q8R1T") == "/verify/JL3F9K2M7Q8R1T/"
    settings.NQI_PUBLIC_BASE_URL = "https://nqi.nmg.gov.cn"
    assert label_check_url("JL3F9K2M7Q8R1T") == "https://nqi.nmg.gov.cn/verify/JL3F9K2M7Q8R1T/"


def test_label_qr_codes_decode_to_the_check_urls(base_url):
    labels = _labels(3)
    found = decode_qr_codes(render_label_sheet(labels))
    assert sorted(found) == sorted(f"{base_url}/verify/{label.code}/" for label in labels)


# --- from the database ---------------------------------------------------------------------


def _instrument(org, name: str, number: str, **kwargs) -> Instrument:
    return Instrument.objects.create(
        organization=org, division=org.division, name=name, factory_number=number, use_field="trade", **kwargs
    )


@pytest.fixture
def ledger(world):
    own = [
        _instrument(world.ent_kundulun, "电子计价秤", "KDL-001", is_mandatory=True),
        _instrument(world.ent_kundulun, "燃气表（膜式）", "KDL-002"),
        _instrument(world.ent_kundulun, "压力表", "KDL-003", status=Instrument.Status.SCRAPPED, is_mandatory=True),
    ]
    other = [
        _instrument(world.ent_xincheng, "加油机", "XC-001", is_mandatory=True),
        _instrument(world.ent_qingshan, "衡器", "QS-001"),
    ]
    return own, other


def test_sheet_from_instruments_needs_no_query_per_label(ledger, django_assert_num_queries, base_url):
    own, other = ledger
    instruments = list(Instrument.objects.select_related("organization", "catalogue_item").order_by("pk"))
    with django_assert_num_queries(0):
        data = render_label_sheet(instruments)
    text = _flat(pdf_text(data))
    for instrument in own + other:
        assert instrument.platform_code in text
    assert "包头天和磁材科技股份有限公司" in text


# --- the view ------------------------------------------------------------------------------


def _url(**params) -> str:
    from urllib.parse import urlencode

    return reverse("metrology:instrument_labels") + ("?" + urlencode(params) if params else "")


_sheets: list[dict] = []


@pytest.fixture(autouse=True)
def _spy_on_the_view_renderer(monkeypatch):
    """What the view hands the renderer (codes and note), so the scoping tests need no PDF
    text extraction; one end-to-end test below reads the codes back from the PDF itself."""
    real = label_views.render_label_sheet

    def spy(instruments, **kwargs):
        items = list(instruments)
        _sheets.append({"codes": [i.platform_code for i in items], "note": kwargs.get("note", "")})
        return real(items, **kwargs)

    _sheets.clear()
    monkeypatch.setattr(label_views, "render_label_sheet", spy)


def _codes(response) -> str:
    """The platform codes (and the note) on the sheet the response carries, as one string."""
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert_fonts_embedded(response.content)
    sheet = _sheets[-1]
    assert response["X-Labels-Count"] == str(len(sheet["codes"]))
    return " ".join(sheet["codes"]) + _flat(sheet["note"])


def test_route_is_the_fixed_one():
    assert reverse("metrology:instrument_labels") == "/metrology/instruments/labels.pdf"


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(_url())
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_enterprise_gets_only_its_own_instruments(web, world, ledger, base_url):
    own, other = ledger
    text = _codes(web(world.users["ent_manager"]).get(_url()))
    for instrument in own:
        assert instrument.platform_code in text
    for instrument in other:
        assert instrument.platform_code not in text


def test_the_pdf_itself_holds_only_the_enterprises_codes(web, world, ledger, base_url):
    own, other = ledger
    response = web(world.users["ent_manager"]).get(_url())
    text = _flat(pdf_text(response.content))
    assert all(i.platform_code in text for i in own)
    assert all(i.platform_code not in text for i in other)
    assert "包头天和磁材科技股份有限公司" in text and "内蒙古北方重型汽车股份有限公司" not in text
    response = web(world.users["ent_manager"]).get(_url(ids=str(other[0].pk)))
    assert _flat(EMPTY_SHEET_TEXT) in _flat(pdf_text(response.content))


def test_ids_outside_the_scope_are_silently_absent(web, world, ledger, base_url):
    own, other = ledger
    ids = f"{own[0].pk},{other[0].pk},{other[1].pk},999999,abc"
    response = web(world.users["ent_manager"]).get(_url(ids=ids))
    assert response["X-Labels-Count"] == "1"
    text = _codes(response)
    assert own[0].platform_code in text
    assert own[1].platform_code not in text
    assert all(i.platform_code not in text for i in other)
    # Only the other enterprise's ids: an empty sheet, not an error that reveals they exist.
    response = web(world.users["ent_manager"]).get(_url(ids=str(other[0].pk)))
    assert _codes(response) == ""


def test_long_selection_by_post(web, world, ledger, base_url):
    own, _other = ledger
    client = web(world.users["ent_manager"])
    response = client.post(reverse("metrology:instrument_labels"), {"ids": f"{own[1].pk},{own[2].pk}"})
    text = _codes(response)
    assert own[1].platform_code in text and own[2].platform_code in text and own[0].platform_code not in text


def test_ledger_filters(web, world, ledger, base_url):
    own, _other = ledger
    client = web(world.users["ent_manager"])
    text = _codes(client.get(_url(status="scrapped")))
    assert own[2].platform_code in text and own[0].platform_code not in text
    text = _codes(client.get(_url(mandatory="1")))
    assert own[0].platform_code in text and own[2].platform_code in text and own[1].platform_code not in text
    text = _codes(client.get(_url(mandatory="0", status="in_use")))
    assert own[1].platform_code in text and own[0].platform_code not in text
    # Unknown filter values are ignored, not errors.
    assert own[0].platform_code in _codes(client.get(_url(status="nonsense", mandatory="maybe")))


def test_regulator_sees_its_jurisdiction_and_the_download_is_recorded(web, world, ledger, base_url):
    own, other = ledger
    before = AuditEvent.objects.filter(action="data.export").count()
    response = web(world.users["kundulun"]).get(_url(mandatory="1"))
    text = _codes(response)
    assert own[0].platform_code in text and own[2].platform_code in text
    assert all(i.platform_code not in text for i in other)
    events = AuditEvent.objects.filter(action="data.export").order_by("-seq")
    assert events.count() == before + 1
    event = events.first()
    assert event.actor_username == "kundulun"
    assert event.details["kind"] == "export" and event.details["count"] == 2
    assert event.details["params"] == {"mandatory": "1"}


def test_enterprise_download_is_recorded_too(web, world, ledger, base_url):
    """Every download of labels is in the audit trail, whoever takes it."""
    before = AuditEvent.objects.filter(action="data.export").count()
    _codes(web(world.users["ent_manager"]).get(_url()))
    assert AuditEvent.objects.filter(action="data.export").count() == before + 1
    assert AuditEvent.objects.filter(action="data.export").latest("seq").actor_username == "ent_manager"


def test_queries_do_not_grow_with_the_number_of_labels(web, world, ledger, django_assert_max_num_queries, base_url):
    for i in range(60):
        _instrument(world.ent_kundulun, "水表", f"W-{i:03d}")
    client = web(world.users["ent_manager"])
    with django_assert_max_num_queries(14):  # 12 + the audit record of the download (a fixed cost)
        response = client.get(_url())
    assert response["X-Labels-Count"] == "63"


def test_cap_and_batches(web, world, ledger, monkeypatch, base_url):
    monkeypatch.setattr(label_views, "LABEL_LIMIT", 2)
    own, _other = ledger
    client = web(world.users["ent_manager"])
    first = client.get(_url())
    assert first["X-Labels-Count"] == "2" and first["X-Labels-Total"] == "3"
    text = _codes(first)
    assert "第1/2批" in text and "共3枚" in text and "分批下载" in text
    assert own[0].platform_code in text and own[1].platform_code in text and own[2].platform_code not in text
    second = client.get(_url(batch=2))
    text = _codes(second)
    assert "第2/2批" in text and own[2].platform_code in text and own[0].platform_code not in text
    assert 'filename="instrument-labels-' in second["Content-Disposition"]
    assert "-2.pdf" in second["Content-Disposition"]
    assert client.get(_url(batch="x"))["X-Labels-Count"] == "2"


def test_too_many_ids_is_refused_with_a_reason(web, world, monkeypatch):
    monkeypatch.setattr(label_views, "MAX_IDS", 3)
    response = web(world.users["ent_manager"]).get(_url(ids="1,2,3,4"))
    assert response.status_code == 400
    assert "最多可选" in response.content.decode()


def test_qr_codes_in_the_view_carry_absolute_urls_without_a_base_url(web, world, settings):
    settings.NQI_PUBLIC_BASE_URL = ""
    instrument = _instrument(world.ent_kundulun, "电子计价秤", "ABS-1")
    response = web(world.users["ent_manager"]).get(_url(ids=str(instrument.pk)))
    assert response.status_code == 200
    assert decode_qr_codes(response.content) == [f"http://testserver/verify/{instrument.platform_code}/"]
